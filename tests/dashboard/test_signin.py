"""Signing in and out: a session in the cookie (never the API token), and no form posted from another site."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.dashboard.conftest import Site
from tests.dashboard.world import ALPHA

EVIL = "https://attacker.example"


def form_token(client: FlaskClient) -> str:
    page = client.get("/signin").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:800]
    cookie = client.get_cookie("tcup_csrf")
    assert cookie is not None and cookie.value == found.group(1) and cookie.http_only
    return found.group(1)


def sign_in(site: Site, client: FlaskClient, **headers: str) -> object:
    token = site.world.tokens["owner"]
    return client.post("/signin", data={"token": token, "csrf_token": form_token(client)}, headers=headers)


def signed_in_as_owner(client: FlaskClient) -> bool:
    return ALPHA in client.get("/clouds").get_data(as_text=True)  # only the owner and Foundation see its cpid


def test_the_cookie_holds_a_session_that_signing_out_ends(site: Site) -> None:
    client = site.app.test_client()
    response = sign_in(site, client)
    assert response.status_code == 302  # type: ignore[attr-defined]
    set_cookies = " ".join(response.headers.getlist("Set-Cookie"))  # type: ignore[attr-defined]
    assert site.world.tokens["owner"] not in set_cookies, "the API token must never reach the browser"
    session = client.get_cookie("tcup_session")
    assert session is not None and session.value.startswith("tcups_") and session.http_only
    assert session.same_site == "Strict"
    assert signed_in_as_owner(client)
    page = client.get("/results").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token and 'action="/signout"' in page
    assert client.post("/signout", data={"csrf_token": token.group(1)}).status_code == 302
    assert not signed_in_as_owner(client)
    replayed = site.app.test_client()  # a copy of the old cookie, kept by someone: ended on the server
    replayed.set_cookie("tcup_session", session.value)
    assert not signed_in_as_owner(replayed)


def test_a_signin_posted_from_another_site_is_refused(site: Site) -> None:
    client = site.app.test_client()
    response = sign_in(site, client, Origin=EVIL)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "another site" in response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert client.get_cookie("tcup_session") is None and not signed_in_as_owner(client)


def test_a_signin_without_the_forms_token_is_refused(site: Site) -> None:
    client = site.app.test_client()  # a cross-site form from a browser that sends no Origin
    response = client.post("/signin", data={"token": site.world.tokens["owner"]})
    assert response.status_code == 403
    assert client.get_cookie("tcup_session") is None and not signed_in_as_owner(client)
    form_token(client)  # a cookie, but a forged form cannot repeat it
    forged = client.post("/signin", data={"token": site.world.tokens["owner"], "csrf_token": "x" * 43})
    assert forged.status_code == 403 and client.get_cookie("tcup_session") is None


def test_a_signout_posted_from_another_site_is_refused(site: Site) -> None:
    client = site.app.test_client()
    assert sign_in(site, client).status_code == 302  # type: ignore[attr-defined]
    token = client.get_cookie("tcup_csrf")
    assert token is not None
    assert client.post("/signout", data={"csrf_token": token.value}, headers={"Origin": EVIL}).status_code == 403
    assert client.post("/signout", data={}).status_code == 403
    assert signed_in_as_owner(client)


def test_forms_are_accepted_from_the_public_origin_only(site: Site) -> None:
    site.app.config["PUBLIC_URL"] = "https://interop.example.org/refstack"
    try:
        client = site.app.test_client()
        assert sign_in(site, client, Origin="http://localhost").status_code == 403  # type: ignore[attr-defined]
        accepted = sign_in(site, client, Origin="https://interop.example.org")
        assert accepted.status_code == 302  # type: ignore[attr-defined]
        session = client.get_cookie("tcup_session")
        assert session is not None and session.secure  # the public URL is HTTPS
    finally:
        site.app.config["PUBLIC_URL"] = ""
