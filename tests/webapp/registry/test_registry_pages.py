"""The program's pages over HTTP: the registry, vendor and product pages, the review queue,
the forms behind them, the profile page, and the badge."""

from __future__ import annotations

import re

import requests

from tests.webapp.conftest import Party
from tests.webapp.registry.conftest import Http

CPID = "cpid-pages-cloud"


def _csrf(http: Http) -> tuple[str, requests.cookies.RequestsCookieJar]:
    """A form's anti-forgery token and the cookie that carries it, as a browser gets them."""
    page = requests.get(http.url + "/signin", timeout=30)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found and page.cookies.get("tcup_csrf") == found.group(1), page.text[:400]
    return found.group(1), page.cookies


def _form(
    http: Http, party: Party, path: str, data: dict[str, str], status: int = 303, *, csrf: bool = True
) -> requests.Response:
    token, cookies = _csrf(http)
    sent = {**data, "csrf_token": token} if csrf else data
    response = requests.post(
        http.url + path, data=sent, headers=party.headers, cookies=cookies, allow_redirects=False, timeout=30
    )
    assert response.status_code == status, (path, response.status_code, response.text[:400])
    return response


def _page(http: Http, party: Party, path: str, status: int = 200) -> str:
    response = requests.get(http.url + path, headers=party.headers, allow_redirects=False, timeout=30)
    assert response.status_code == status, (path, response.status_code, response.text[:400])
    return response.text


def _id_from(response: requests.Response, kind: str) -> str:
    match = re.search(rf"/{kind}/([0-9a-f-]{{36}})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def _program(http: Http) -> tuple[str, str]:
    """Through the forms: a vendor registered and approved, a public product with a version."""
    p = http.parties
    vendor_id = _id_from(_form(http, p.owner, "/vendors", {"name": "Pages & Co", "description": "<clouds>"}), "vendors")
    _form(http, p.owner, f"/vendors/{vendor_id}/action", {"action": "register"})
    assert "Pages &amp; Co" in _page(http, p.foundation, "/review")
    _form(http, p.foundation, f"/vendors/{vendor_id}/action", {"action": "approve", "back": "review"})
    product_id = _id_from(
        _form(http, p.owner, f"/vendors/{vendor_id}/products", {"name": "Pages Cloud", "product_type": "1"}), "products"
    )
    _form(http, p.owner, f"/products/{product_id}/versions", {"version": "2024.1", "cpid": CPID})
    _form(http, p.owner, f"/products/{product_id}/public", {"public": "true"})
    return vendor_id, product_id


def test_the_forms_run_the_program_and_the_pages_show_it(http: Http) -> None:
    p = http.parties
    vendor_id, product_id = _program(http)
    vendor_page = _page(http, p.anonymous, f"/vendors/{vendor_id}")
    assert "Pages &amp; Co" in vendor_page and "official" in vendor_page and "Add product" not in vendor_page
    assert "Add product" in _page(http, p.owner, f"/vendors/{vendor_id}")
    run_id = http.upload(p.owner, CPID)
    review = _page(http, p.foundation, "/review")
    assert run_id[:8] in review and "needs shared guideline target" in review
    for key, value in (("shared", "true"), ("guideline", "2020.06.json"), ("target", "platform")):
        http.set_meta(p.owner, run_id, key, value)
    _form(http, p.other, f"/review/runs/{run_id}/verify", {}, status=403)
    _form(http, p.foundation, f"/review/runs/{run_id}/verify", {})
    assert http.ok(p.anonymous, "GET", f"/v1/results/{run_id}")["verification_status"] == 1
    product_page = _page(http, p.anonymous, f"/products/{product_id}")
    assert "2024.1" in product_page and run_id[:8] in product_page and "verified" in product_page
    assert f"/products/{product_id}/badge.svg" in product_page
    run_page = _page(http, p.anonymous, f"/results/{run_id}")
    shown = re.search(r'<dd id="product"><a href="([^"]+)">([^<]+)</a>([^<]*)</dd>', run_page)
    assert shown and shown.groups() == (f"/products/{product_id}", "Pages Cloud", ", version 2024.1"), run_page[:600]
    unattached = http.upload(p.owner, "cpid-of-no-product")
    assert 'id="product"' not in _page(http, p.owner, f"/results/{unattached}")
    registry = _page(http, p.anonymous, "/registry")
    assert "Pages Cloud" in registry and "2020.06" in registry and "platform" in registry
    assert "Pages Cloud" in _page(http, p.anonymous, "/registry?type=1&guideline=2020.06")
    assert "Pages Cloud" not in _page(http, p.anonymous, "/registry?type=0")
    assert "Pages Cloud" not in _page(http, p.anonymous, "/registry?guideline=2019.11")


def test_private_things_stay_private_on_pages(http: Http) -> None:
    p = http.parties
    vendor_id = _id_from(_form(http, p.owner, "/vendors", {"name": "Hidden"}), "vendors")
    product_id = _id_from(
        _form(http, p.owner, f"/vendors/{vendor_id}/products", {"name": "Hidden Cloud", "product_type": "0"}),
        "products",
    )
    for party in (p.anonymous, p.other):
        _page(http, party, f"/vendors/{vendor_id}", status=403)
        _page(http, party, f"/products/{product_id}", status=403)
        assert "Hidden" not in _page(http, party, "/vendors")
        assert "Hidden Cloud" not in _page(http, party, "/registry")
    assert _page(http, p.anonymous, f"/products/{product_id}/badge.svg", status=404)
    _form(http, p.owner, f"/products/{product_id}/public", {"public": "true"}, status=403)  # a private vendor
    _form(http, p.other, f"/vendors/{vendor_id}/products", {"name": "x", "product_type": "1"}, status=403)
    _form(http, p.anonymous, "/vendors", {"name": "x"}, status=401)
    _page(http, p.anonymous, "/review", status=401)
    _page(http, p.other, "/review", status=403)
    _form(http, p.owner, f"/vendors/{vendor_id}/action", {"action": "approve"}, status=403)
    assert "Hidden Cloud" in _page(http, p.owner, f"/vendors/{vendor_id}")
    assert "Hidden Cloud" in _page(http, p.foundation, f"/products/{product_id}")


def test_the_badge_is_computed_from_the_latest_verified_run_and_cacheable(http: Http) -> None:
    p = http.parties
    _vendor_id, product_id = _program(http)
    badge = requests.get(f"{http.url}/products/{product_id}/badge.svg", timeout=30)
    assert badge.status_code == 200 and badge.headers["Content-Type"].startswith("image/svg+xml")
    assert "not verified" in badge.text and "public, max-age=" in badge.headers["Cache-Control"]
    run_id = http.upload(p.owner, CPID)
    for key, value in (("shared", "true"), ("guideline", "2019.11.json"), ("target", "compute")):
        http.set_meta(p.owner, run_id, key, value)
    http.ok(p.foundation, "PUT", f"/v1/results/{run_id}", {"verification_status": 1}, status=201)
    badge = requests.get(f"{http.url}/products/{product_id}/badge.svg", timeout=30)
    assert "OpenStack Powered Compute" in badge.text and "2019.11 \u2713" in badge.text
    etag = badge.headers["ETag"]
    again = requests.get(f"{http.url}/products/{product_id}/badge.svg", headers={"If-None-Match": etag}, timeout=30)
    assert again.status_code == 304
    newer = http.upload(p.owner, CPID, ["tempest.api.image.v2.test_images.BasicOperationsImagesTest.test_list_images"])
    for key, value in (("shared", "true"), ("guideline", "2020.06.json"), ("target", "platform")):
        http.set_meta(p.owner, newer, key, value)
    http.ok(p.foundation, "PUT", f"/v1/results/{newer}", {"verification_status": 1}, status=201)
    badge = requests.get(f"{http.url}/products/{product_id}/badge.svg", headers={"If-None-Match": etag}, timeout=30)
    assert badge.status_code == 200 and "OpenStack Powered Platform" in badge.text and "2020.06 \u2713" in badge.text
    assert requests.get(f"{http.url}/products/no-such-product/badge.svg", timeout=30).status_code == 404


def test_the_profile_page_makes_and_revokes_tokens(http: Http) -> None:
    p = http.parties
    assert "/signin" in requests.get(f"{http.url}/profile", allow_redirects=False, timeout=30).headers["Location"]
    made = _form(http, p.owner, "/profile/tokens", {"label": "ci uploads"}, status=201)
    token = re.search(r'<code id="token-value">([^<]+)</code>', made.text)
    assert token, made.text[:500]
    headers = {"Authorization": f"Bearer {token.group(1)}"}
    assert requests.get(f"{http.url}/v1/profile", headers=headers, timeout=30).json()["openid"] == "owner-user"
    page = _page(http, p.owner, "/profile")
    assert "ci uploads" in page and token.group(1) not in page  # shown once only
    token_id = re.search(r"/profile/tokens/(\d+)/revoke\" aria-label=\"revoke ci uploads\"", page)
    assert token_id, page[:800]
    _form(http, p.other, f"/profile/tokens/{token_id.group(1)}/revoke", {}, status=404)  # not theirs
    _form(http, p.owner, f"/profile/tokens/{token_id.group(1)}/revoke", {})
    assert requests.get(f"{http.url}/v1/profile", headers=headers, timeout=30).status_code == 400


def test_the_profile_page_registers_and_removes_keys(http: Http) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.webapp.signing import openssh_line, self_signature

    p = http.parties
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    line = openssh_line(key, "second-laptop")
    _form(http, p.other, "/profile/keys", {"raw_key": line, "self_signature": "00" * 256}, status=400)
    _form(http, p.other, "/profile/keys", {"raw_key": line, "self_signature": self_signature(key)})
    again = _form(http, p.other, "/profile/keys", {"raw_key": line, "self_signature": self_signature(key)}, status=409)
    assert "already" in again.text
    keys = http.ok(p.other, "GET", "/v1/profile/pubkeys")
    added = [k for k in keys if k["comment"] == "second-laptop"]
    assert len(added) == 1
    _form(http, p.owner, f"/profile/keys/{added[0]['id']}/delete", {}, status=404)  # not theirs
    _form(http, p.other, f"/profile/keys/{added[0]['id']}/delete", {})
    assert [k for k in http.ok(p.other, "GET", "/v1/profile/pubkeys") if k["comment"] == "second-laptop"] == []


def test_every_form_needs_the_anti_forgery_token_and_this_sites_origin(http: Http) -> None:
    p = http.parties
    vendor_id = _id_from(_form(http, p.owner, "/vendors", {"name": "Forms Only"}), "vendors")
    forms = [
        ("/vendors", {"name": "Forged"}),
        (f"/vendors/{vendor_id}/action", {"action": "register"}),
        (f"/vendors/{vendor_id}/users", {"openid": "other-user"}),
        (f"/vendors/{vendor_id}/products", {"name": "Forged Cloud", "product_type": "1"}),
        ("/profile/tokens", {"label": "forged"}),
        ("/profile/keys", {"raw_key": "x", "self_signature": "y"}),
        ("/profile/tokens/1/revoke", {}),
        ("/profile/keys/1/delete", {}),
        ("/review/runs/no-such-run/verify", {}),
        ("/products/no-such-product/versions", {"version": "1"}),
        ("/products/no-such-product/public", {"public": "true"}),
        ("/v1/auth/signout", {}),
    ]
    for path, data in forms:
        _form(http, p.owner, path, data, status=403, csrf=False)
        token, cookies = _csrf(http)
        cross = requests.post(
            http.url + path,
            data={**data, "csrf_token": token},
            headers={**p.owner.headers, "Origin": "https://attacker.example"},
            cookies=cookies,
            allow_redirects=False,
            timeout=30,
        )
        assert cross.status_code == 403, (path, cross.status_code)
    vendors = http.ok(p.owner, "GET", "/v1/vendors")["vendors"]
    assert [v["name"] for v in vendors if v["name"].startswith(("Forged", "Forms"))] == ["Forms Only"]
    assert http.ok(p.owner, "GET", f"/v1/vendors/{vendor_id}")["type"] == 1  # still private, not pending
