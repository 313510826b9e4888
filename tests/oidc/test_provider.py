"""The OpenID Connect test provider on its own: discovery, and a sign-in by form with requests."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from tests.oidc_fixtures import REDIRECT_PATHS, OidcProvider

VERIFIER = "a-pkce-code-verifier-long-enough-for-the-rule-of-43-characters"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
# A loopback callback on a port nothing listens on: the flow stops at the redirect to it.
CALLBACK = f"http://127.0.0.1:9{REDIRECT_PATHS[0]}"


def test_discovery_document_names_the_issuer_and_its_endpoints(oidc_provider: OidcProvider) -> None:
    answer = requests.get(f"{oidc_provider.issuer}/.well-known/openid-configuration", timeout=10)
    assert answer.status_code == 200
    document = answer.json()
    assert document["issuer"] == oidc_provider.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert document[endpoint].startswith(oidc_provider.issuer + "/")
    assert "code" in document["response_types_supported"]
    assert requests.get(document["jwks_uri"], timeout=10).json()["keys"]


def _authorize(session: requests.Session, provider: OidcProvider) -> requests.Response:
    document = session.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=10).json()
    answer = session.get(
        document["authorization_endpoint"],
        params={
            "client_id": provider.client_id,
            "redirect_uri": CALLBACK,
            "response_type": "code",
            "scope": "openid email profile",
            "state": "state-1",
            "nonce": "nonce-1",
            "code_challenge": CHALLENGE,
            "code_challenge_method": "S256",
        },
        timeout=10,
    )
    assert answer.status_code == 200 and "<form" in answer.text, answer.text[:300]
    return answer


def _login(session: requests.Session, page: requests.Response, login: str, password: str) -> requests.Response:
    action = page.text.split('action="', 1)[1].split('"', 1)[0]
    return session.post(
        urljoin(page.url, action), data={"login": login, "password": password}, allow_redirects=False, timeout=10
    )


def test_a_wrong_password_is_refused(oidc_provider: OidcProvider) -> None:
    with requests.Session() as session:
        page = _authorize(session, oidc_provider)
        answer = _login(session, page, "vendor-alice", "not-her-password")
        assert answer.status_code == 200
        assert "Wrong login or password." in answer.text


def test_code_flow_gives_an_id_token_for_the_user(oidc_provider: OidcProvider) -> None:
    with requests.Session() as session:
        page = _authorize(session, oidc_provider)
        answer = _login(session, page, "vendor-alice", "alice-password")
        for _hop in range(10):  # login -> resume -> consent -> resume -> callback
            assert answer.status_code in (302, 303), answer.text[:300]
            location = urljoin(answer.url, answer.headers["Location"])
            if location.startswith(CALLBACK):
                break
            answer = session.get(location, allow_redirects=False, timeout=10)
        else:
            raise AssertionError("the provider never redirected to the callback")
        query = parse_qs(urlsplit(location).query)
        assert query["state"] == ["state-1"]
        document = session.get(f"{oidc_provider.issuer}/.well-known/openid-configuration", timeout=10).json()
        tokens = requests.post(
            document["token_endpoint"],
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": CALLBACK,
                "code_verifier": VERIFIER,
            },
            auth=(oidc_provider.client_id, oidc_provider.client_secret),
            timeout=10,
        )
        assert tokens.status_code == 200, tokens.text
        payload = tokens.json()["id_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert claims["sub"] == "vendor-alice"
        assert claims["iss"] == oidc_provider.issuer
        assert claims["nonce"] == "nonce-1"
        userinfo = requests.get(
            document["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
            timeout=10,
        ).json()
        assert userinfo["email"] == "alice@vendor.example"
