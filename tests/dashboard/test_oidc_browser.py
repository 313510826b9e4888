"""OpenID Connect sign-in driven in Debian's Chromium against a real provider (npm's oidc-provider).

The collector is served on loopback with ``OIDC_ISSUER`` pointing at the provider the test
setup started (:mod:`tests.oidc_fixtures`). A vendor signs in through the provider's form, is
created at that first sign-in, makes and revokes an API token, registers a public key and
creates a vendor, all from the pages; then signs out, which revokes the sign-in's own token.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from werkzeug.serving import make_server

from tests import oidc_fixtures
from tests.oidc_fixtures import OidcProvider
from tests.webapp.signing import openssh_line, self_signature
from webapp import create_app
from webapp.sessions import database
from webapp.store import accounts, users

pytestmark = pytest.mark.browser
oidc_provider = oidc_fixtures.oidc_provider


@dataclass
class Served:
    """The collector over HTTP, signing in through ``provider``."""

    url: str
    app: Flask
    provider: OidcProvider

    def openid(self, login: str) -> str:
        return f"{self.provider.issuer}/{login}"


@pytest.fixture
def served(oidc_provider: OidcProvider, tmp_path: Path) -> Iterator[Served]:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/oidc.sqlite",
            "TESTING": True,
            "OIDC_ISSUER": oidc_provider.issuer,
            "OIDC_CLIENT_ID": oidc_provider.client_id,
            "OIDC_CLIENT_SECRET": oidc_provider.client_secret,
            "PUBLIC_URL": "http://127.0.0.1",  # the port is known once the server listens, below
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="oidc-site", daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", app, oidc_provider)
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        database(app).engine.dispose()


class Watched:
    """A page whose console errors on the collector's own pages are recorded."""

    def __init__(self, context: Any, site: str, shots: Path) -> None:
        self.page = context.new_page()
        self.site, self.shots = site, shots
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" and str(message.location.get("url", "")).startswith(self.site):
            self.errors.append(message.text)

    def snap(self, name: str) -> None:
        self.page.wait_for_load_state("load")
        self.page.screenshot(path=str(self.shots / f"oidc-{name}.png"), full_page=True)


def _sign_in(tab: Watched, served: Served, login: str, password: str) -> None:
    page = tab.page
    page.goto(served.url + "/profile")
    page.wait_for_url(re.compile(r".*/signin\?next=.*"))
    tab.snap("01-signin")
    page.click("#oidc-signin")
    page.wait_for_url(re.compile(re.escape(served.provider.issuer) + r"/interaction/.*"))
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("form[aria-label='provider sign in'] button[type=submit]")


def test_a_vendor_signs_in_makes_tokens_and_keys_and_signs_out(
    browser: Any, served: Served, artifacts: Path, owner_key: rsa.RSAPrivateKey
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = Watched(context, served.url, artifacts)
    page = tab.page
    _sign_in(tab, served, "vendor-alice", "alice-password")
    page.wait_for_url(served.url + "/profile")
    tab.snap("02-profile")
    assert page.inner_text("#openid") == served.openid("vendor-alice")
    assert "Alice Vendor" in page.inner_text("main")
    assert served.openid("vendor-alice") in page.inner_text("header .who")

    # an API token, shown once, that works on the API and is revoked from the page
    page.fill("form[aria-label='new token'] input[name=label]", "ci uploads")
    page.click("form[aria-label='new token'] button")
    page.wait_for_load_state("load")
    token = page.inner_text("#token-value")
    tab.snap("03-new-token")
    answer = requests.get(f"{served.url}/v1/profile", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert answer.status_code == 200 and answer.json()["openid"] == served.openid("vendor-alice")
    assert answer.json()["email"] == "alice@vendor.example"

    # a public key, with the self-signature the API asks for too
    page.goto(served.url + "/profile")
    page.fill("input[name=raw_key]", openssh_line(owner_key, "alice@laptop"))
    page.fill("input[name=self_signature]", self_signature(owner_key))
    page.click("form[aria-label='new key'] button")
    page.wait_for_url(served.url + "/profile")
    assert "alice@laptop" in page.inner_text("#keys")
    keys = requests.get(f"{served.url}/v1/profile/pubkeys", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert [k["comment"] for k in keys.json()] == ["alice@laptop"]
    page.fill("input[name=raw_key]", openssh_line(owner_key))
    page.fill("input[name=self_signature]", "00" * 256)
    page.click("form[aria-label='new key'] button")
    page.wait_for_load_state("load")
    assert "Signature verification failed" in page.inner_text("[role=alert]")
    assert tab.errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]
    tab.errors.clear()  # Chromium logs the refused form's 400 itself

    # a vendor, asked to be registered
    page.goto(served.url + "/vendors")
    page.fill("form[aria-label='new vendor'] input[name=name]", "Alice Clouds")
    page.click("form[aria-label='new vendor'] button")
    page.wait_for_url(re.compile(r".*/vendors/[0-9a-f-]{36}$"))
    assert page.inner_text("#vendor-state") == "private"
    page.click("form[aria-label='register'] button")
    page.wait_for_load_state("load")
    assert page.inner_text("#vendor-state") == "pending"
    tab.snap("04-vendor-pending")

    page.goto(served.url + "/profile")
    page.click("form[aria-label='revoke ci uploads'] button")
    page.wait_for_url(served.url + "/profile")
    assert "ci uploads" not in page.inner_text("#tokens")
    gone = requests.get(f"{served.url}/v1/profile", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert gone.status_code == 400

    page.click("header .who button")
    page.wait_for_load_state("load")
    assert "Sign in" in page.inner_text("header .who")
    with database(served.app).sessions() as sess:
        account = accounts.account_by_openid(sess, served.openid("vendor-alice"))
        assert account is not None and account.fullname == "Alice Vendor"
        assert [t.label for t in users.list_tokens(sess, account.id)] == []  # signing in made none
    assert tab.errors == []
    context.close()


def test_a_wrong_password_signs_nobody_in_and_a_second_user_is_made_at_first_sign_in(
    browser: Any, served: Served, artifacts: Path
) -> None:
    context = browser.new_context()
    tab = Watched(context, served.url, artifacts)
    _sign_in(tab, served, "vendor-bob", "not-his-password")
    assert "Wrong login or password." in tab.page.inner_text("[role=alert]")
    with database(served.app).sessions() as sess:
        assert accounts.account_by_openid(sess, served.openid("vendor-bob")) is None
    tab.page.fill("input[name=login]", "vendor-bob")
    tab.page.fill("input[name=password]", "bob-password")
    tab.page.click("form[aria-label='provider sign in'] button[type=submit]")
    tab.page.wait_for_url(served.url + "/profile")
    assert tab.page.inner_text("#openid") == served.openid("vendor-bob")
    with database(served.app).sessions() as sess:
        bob = accounts.account_by_openid(sess, served.openid("vendor-bob"))
        assert bob is not None and not bob.foundation
        assert users.list_tokens(sess, bob.id) == []  # a session, not an API token
    session_id = next(c["value"] for c in context.cookies() if c["name"] == "tcup_session")
    with database(served.app).sessions() as sess:
        assert accounts.account_by_session(sess, session_id) is not None
        assert accounts.account_by_token(sess, session_id) is None  # never an API token
    # RefStack's sign-out path shows a form; its post (with the anti-forgery token) ends the session
    tab.page.goto(served.url + "/v1/auth/signout")
    tab.page.click("main form[aria-label='sign out'] button")
    tab.page.wait_for_load_state("load")
    assert "Sign in" in tab.page.inner_text("header .who")
    with database(served.app).sessions() as sess:
        assert accounts.account_by_session(sess, session_id) is None
    assert tab.errors == []
    context.close()


def test_a_forged_or_replayed_callback_is_refused(served: Served) -> None:
    answer = requests.get(f"{served.url}/v1/auth/signin_return?code=forged&state=forged", timeout=30)
    assert answer.status_code == 401 and "Sign-in failed" in answer.text
    answer = requests.get(f"{served.url}/v1/auth/signin_return?error=access_denied&error_description=no", timeout=30)
    assert answer.status_code == 401


def test_sign_in_is_a_404_when_no_provider_is_configured(tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/plain.sqlite", "TESTING": True})
    try:
        answer = app.test_client().get("/v1/auth/signin")
        assert answer.status_code == 404 and b"OpenID Connect sign-in is not configured" in answer.data
        assert b"oidc-signin" not in app.test_client().get("/signin").data
    finally:
        database(app).engine.dispose()


def test_a_provider_without_public_url_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="OIDC_ISSUER needs PUBLIC_URL"):
        create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path}/nourl.sqlite",
                "TESTING": True,
                "OIDC_ISSUER": "https://id.example",
                "OIDC_CLIENT_ID": "x",
                "OIDC_CLIENT_SECRET": "y",
            }
        )
