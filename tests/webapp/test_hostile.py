"""Hostile input against every endpoint that reads a body: malformed, nested, oversized,
forged and unprintable. Each gets a 4xx in the JSON envelope, bounded in size; never a 5xx,
a hang or a traceback. (Slow clients and chunked framing: tests/webapp/test_serving.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask

from tests.webapp.conftest import Party, add_user, import_into, make_app
from tests.webapp.envelope import assert_error
from tests.webapp.signing import openssh_line, self_signature, sign, v1_body
from webapp import signatures
from webapp.sessions import database
from webapp.store import accounts

MAX_ANSWER = 16_000  # bytes: an error answer never grows with the input


@pytest.fixture
def world(sqlite_app: Flask) -> Iterator[tuple[Flask, Party, Party, str]]:
    """The app, a user, a Foundation admin, and one stored run owned by the user."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    user = add_user(sqlite_app, "hostile-user", key=key)
    admin = add_user(sqlite_app, "hostile-admin", foundation=True)
    body = v1_body(["tempest.api.a.T.test_one"])
    answer = sqlite_app.test_client().post("/v1/results/", data=body, headers=sign(body, key))
    assert answer.status_code == 201, answer.get_json()
    yield sqlite_app, user, admin, answer.get_json()["test_id"]


def _endpoints(run_id: str, user: Party, admin: Party) -> dict[str, tuple[str, str, dict[str, str]]]:
    return {
        "POST /v1/results": ("POST", "/v1/results/", {}),
        "POST /api/v1/results": ("POST", "/api/v1/results", {}),
        "PUT /v1/results/<id>": ("PUT", f"/v1/results/{run_id}", admin.headers),
        "POST /v1/profile/pubkeys": ("POST", "/v1/profile/pubkeys", user.headers),
        "POST /v2/runs": ("POST", "/v2/runs", {}),
        "POST /api/v2/runs": ("POST", "/api/v2/runs", {}),
    }


ENDPOINTS = [
    "POST /v1/results",
    "POST /api/v1/results",
    "PUT /v1/results/<id>",
    "POST /v1/profile/pubkeys",
    "POST /v2/runs",
    "POST /api/v2/runs",
]


def _deep(depth: int) -> bytes:
    return b'{"cpid": ' + b"[" * depth + b"]" * depth + b', "duration_seconds": 1, "results": []}'


BODIES: dict[str, bytes] = {
    "nested arrays": b"[" * 100_000 + b"]" * 100_000,
    "nested objects": b'{"a":' * 50_000,
    "nested objects, closed": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "nested in a valid key": _deep(50_000),
    "nested 900 deep": _deep(900),
    "not JSON": b"{nope",
    "not UTF-8": b'{"cpid": "\xff\xfe"}',
    "truncated": b'{"cpid": "c", "results": [',
    "empty": b"",
    "a list": b"[1, 2, 3]",
    "a number": b"1e999999",
    "NUL bytes": b'{"cpid": "\x00"}',
    "5 MB value": json.dumps({"cpid": "c", "duration_seconds": "x" * 5_000_000, "results": [{"name": "t"}]}).encode(),
    "5 MB key": json.dumps({"x" * 5_000_000: 1}).encode(),
    "5 MB uuid": json.dumps(
        {"cpid": "c", "duration_seconds": 1, "results": [{"name": "t", "uuid": "u" * 5_000_000}]}
    ).encode(),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", list(BODIES))
def test_malformed_nested_and_huge_bodies_are_a_bounded_4xx(
    world: tuple[Flask, Party, Party, str], endpoint: str, kind: str
) -> None:
    app, user, admin, run_id = world
    method, path, headers = _endpoints(run_id, user, admin)[endpoint]
    response = app.test_client().open(
        path, method=method, data=BODIES[kind], headers={"Content-Type": "application/json", **headers}
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    assert_error(response, response.status_code)
    assert len(response.get_data()) <= MAX_ANSWER, len(response.get_data())


UNPRINTABLE_TEXT = {
    "newline": "Acme\nCloud",
    "ESC": "Acme \x1b[2J",
    "BEL": "Acme\x07",
    "carriage return": "Acme\rCloud",
    "line separator": "Acme\u2028Cloud",
}


# -- the registry's endpoints -----------------------------------------------------------------


@pytest.fixture
def registry_world(sqlite_app: Flask) -> tuple[Flask, Party, dict[str, str]]:
    """The app, a vendor admin, and the paths of one vendor, product and version of theirs."""
    admin = add_user(sqlite_app, "registry-admin")
    client = sqlite_app.test_client()
    vendor = client.post("/v1/vendors", json={"name": "Hostile Vendor"}, headers=admin.headers).get_json()["id"]
    product = client.post(
        "/v1/products",
        json={"name": "Hostile Cloud", "product_type": 1, "organization_id": vendor},
        headers=admin.headers,
    ).get_json()["id"]
    version = client.post(f"/v1/products/{product}/versions", json={"version": "1"}, headers=admin.headers)
    assert version.status_code == 201, version.get_json()
    return sqlite_app, admin, {"vendor": vendor, "product": product, "version": version.get_json()["id"]}


REGISTRY_ENDPOINTS = {
    "POST /v1/vendors": ("POST", "/v1/vendors"),
    "PUT /v1/vendors/<id>": ("PUT", "/v1/vendors/{vendor}"),
    "POST /v1/vendors/<id>/action": ("POST", "/v1/vendors/{vendor}/action"),
    "POST /v1/products": ("POST", "/v1/products"),
    "PUT /v1/products/<id>": ("PUT", "/v1/products/{product}"),
    "POST /v1/products/<id>/versions": ("POST", "/v1/products/{product}/versions"),
    "PUT /v1/products/<id>/versions/<id>": ("PUT", "/v1/products/{product}/versions/{version}"),
}


@pytest.mark.parametrize("endpoint", list(REGISTRY_ENDPOINTS))
@pytest.mark.parametrize("kind", list(BODIES))
def test_the_registry_answers_malformed_nested_and_huge_bodies_with_a_bounded_4xx(
    registry_world: tuple[Flask, Party, dict[str, str]], endpoint: str, kind: str
) -> None:
    app, admin, ids = registry_world
    method, path = REGISTRY_ENDPOINTS[endpoint]
    response = app.test_client().open(
        path.format(**ids),
        method=method,
        data=BODIES[kind],
        headers={"Content-Type": "application/json", **admin.headers},
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    assert_error(response, response.status_code)
    assert len(response.get_data()) <= MAX_ANSWER, len(response.get_data())


@pytest.mark.parametrize("text", list(UNPRINTABLE_TEXT.values()), ids=list(UNPRINTABLE_TEXT))
def test_control_characters_in_registry_names_are_refused_on_the_api_and_the_forms(
    registry_world: tuple[Flask, Party, dict[str, str]], text: str
) -> None:
    app, admin, ids = registry_world
    client = app.test_client()
    documents = [
        ("POST", "/v1/vendors", {"name": text}, "name"),
        ("PUT", f"/v1/vendors/{ids['vendor']}", {"name": text}, "name"),
        ("POST", "/v1/products", {"name": text, "product_type": 1, "organization_id": ids["vendor"]}, "name"),
        ("PUT", f"/v1/products/{ids['product']}", {"name": text}, "name"),
        ("POST", f"/v1/products/{ids['product']}/versions", {"version": text}, "version"),
        ("POST", f"/v1/products/{ids['product']}/versions", {"version": "2", "cpid": text}, "cpid"),
    ]
    for method, path, document, field in documents:
        error = assert_error(client.open(path, method=method, json=document, headers=admin.headers), 400)
        assert any(p.startswith(f"'{field}' holds a control character") for p in error["errors"]), (path, error)
    page = client.get("/signin").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    for path, form in (
        ("/vendors", {"name": text}),
        (f"/vendors/{ids['vendor']}/products", {"name": text, "product_type": "1"}),
        (f"/products/{ids['product']}/versions", {"version": "3", "cpid": text}),
    ):
        answer = client.post(path, data={**form, "csrf_token": token}, headers=admin.headers)
        assert answer.status_code == 400 and "holds a control character" in answer.get_data(as_text=True), path
    vendors = client.get("/v1/vendors", headers=admin.headers).get_json()["vendors"]
    assert [v["name"] for v in vendors] == ["Hostile Vendor"]
    product = client.get(f"/v1/products/{ids['product']}", headers=admin.headers).get_json()
    assert product["name"] == "Hostile Cloud"
    versions = client.get(f"/v1/products/{ids['product']}/versions", headers=admin.headers).get_json()
    assert sorted(v["version"] or "" for v in versions) == ["", "1"]  # the product's default version, and "1"


@pytest.mark.parametrize(
    "body", [BODIES["nested arrays"], b"garbage\x00" * 3, b"x" * 5_000_000, b"just: some [prose]\n"], ids=str
)
def test_the_scoring_board_refuses_what_tcup_score_refuses(sqlite_app: Flask, guideline_dir: Path, body: bytes) -> None:
    import_into(sqlite_app, guideline_dir)
    response = sqlite_app.test_client().post("/v1/scoring/board?guideline=next", data=body)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data()[:300])
    assert_error(response, response.status_code)
    assert len(response.get_data()) <= MAX_ANSWER


# -- unprintable names ------------------------------------------------------------------------

UNPRINTABLE = {
    "newline": "tempest.api.a.T.test_x\ntempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token",
    "ESC": "tempest.api.a.T.test_\x1b[2J",
    "BEL": "tempest.api.a.T.test_\x07",
    "carriage return": "tempest.api.a.T.test_x\r",
    "line separator": "tempest.api.a.T.test_x\u2028y",
}


@pytest.mark.parametrize("name", list(UNPRINTABLE.values()), ids=list(UNPRINTABLE))
def test_control_characters_in_test_names_are_refused(
    sqlite_app: Flask, owner_key: rsa.RSAPrivateKey, name: str
) -> None:
    client = sqlite_app.test_client()
    body = v1_body(["tempest.api.a.T.test_ok", name])
    error = assert_error(client.post("/v1/results/", data=body), 400)
    assert error["errors"][0].startswith("results[1].name: holds a "), error
    assert client.get("/v1/results").get_json()["results"] == []  # nothing stored

    add_user(sqlite_app, "signer", key=owner_key)
    document = {
        "schema": "tcup.run/1",
        "cpid": "c",
        "duration_seconds": 1,
        "results": [{"name": name, "outcome": "success"}],
    }
    extended = json.dumps(document)
    error = assert_error(client.post("/v2/runs", data=extended, headers=sign(extended.encode(), owner_key)), 400)
    assert error["errors"][0].startswith("results[0].name: holds a "), error


def test_a_newline_cannot_make_passed_txt_list_another_test(sqlite_app: Flask) -> None:
    client = sqlite_app.test_client()
    forged = "tempest.api.a.T.test_x\ntempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"
    assert client.post("/v1/results/", data=v1_body([forged])).status_code == 400
    stored = client.post("/v1/results/", data=v1_body(["tempest.api.a.T.test_x"])).get_json()["test_id"]
    listing = client.get(f"/results/{stored}/passed.txt").get_data(as_text=True)
    assert listing.splitlines() == ["tempest.api.a.T.test_x"]


# -- bounds as settings ---------------------------------------------------------------------------


def test_results_per_upload_and_name_length_are_settings(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path}/b.sqlite", MAX_RESULTS_PER_UPLOAD=3, MAX_TEST_NAME_LENGTH=20)
    client = app.test_client()
    assert client.post("/v1/results/", data=v1_body([f"t.x{i}" for i in range(3)])).status_code == 201
    error = assert_error(client.post("/v1/results/", data=v1_body([f"t.x{i}" for i in range(4)])), 400)
    assert "'results' holds 4 items, more than the 3 accepted" in error["errors"][0]
    error = assert_error(client.post("/v1/results/", data=v1_body(["t." + "x" * 30])), 400)
    assert error["errors"] == ["results[0].name: 32 characters, longer than 20"]
    database(app).engine.dispose()


def test_the_default_bounds_refuse_a_flood_of_names(sqlite_app: Flask) -> None:
    names = [f"tempest.api.flood.T.test_{i}" for i in range(10_001)]
    error = assert_error(sqlite_app.test_client().post("/v1/results/", data=v1_body(names)), 400)
    assert "more than the 10000 accepted in one document" in error["title"] + error["detail"]


def test_error_answers_echo_a_bounded_part_of_the_input(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path}/e.sqlite", ERROR_ECHO_CHARS=60)
    client = app.test_client()
    bad = [{"name": "", "uuid": "y" * 1000} for _ in range(500)]  # 1,000 problems
    body = json.dumps({"cpid": "c", "duration_seconds": "x" * 1_000_000, "results": bad}).encode()
    error = assert_error(client.post("/v1/results/", data=body), 400)
    assert len(error["errors"]) == 51 and error["errors"][-1] == "… and 951 more problems"
    assert all(len(p) <= 60 for p in error["errors"]), max(map(len, error["errors"]))
    assert len(client.post("/v1/results/", data=body).get_data()) < 8_000
    database(app).engine.dispose()


# -- forged: small keys ---------------------------------------------------------------------------


def _small_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # the smallest cryptography makes


def test_rsa_keys_under_2048_bits_are_refused_at_registration(sqlite_app: Flask) -> None:
    user = add_user(sqlite_app, "small-key-user")
    key = _small_key()
    doc = {"raw_key": openssh_line(key), "self_signature": self_signature(key)}
    error = assert_error(
        sqlite_app.test_client().post("/v1/profile/pubkeys", json=doc, headers=user.headers), 400, "Key too small"
    )
    assert "1024 bits, this server accepts 2048 or more" in error["detail"]


def test_uploads_signed_with_a_small_key_are_refused_even_when_registered(sqlite_app: Flask) -> None:
    key = _small_key()
    user = add_user(sqlite_app, "old-key-user")
    with database(sqlite_app).sessions() as sess:  # registered before the bound existed
        account = accounts.account_by_openid(sess, user.name)
        assert account is not None
        accounts.add_pubkey(sess, account.id, signatures.parse_public_key(openssh_line(key), min_bits=0))
    body = v1_body(["tempest.api.a.T.test_one"])
    client = sqlite_app.test_client()
    assert_error(client.post("/v1/results/", data=body, headers=sign(body, key)), 400, "Key too small")
    assert client.get("/v1/results").get_json()["results"] == []


def test_the_key_bound_is_a_setting(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path}/k.sqlite", MIN_RSA_KEY_BITS=1024)
    user = add_user(app, "lenient")
    key = _small_key()
    doc = {"raw_key": openssh_line(key), "self_signature": self_signature(key)}
    assert app.test_client().post("/v1/profile/pubkeys", json=doc, headers=user.headers).status_code == 201
    database(app).engine.dispose()


# -- database faults ------------------------------------------------------------------------------


@pytest.fixture
def read_only_url(tmp_path: Path) -> str:
    """A migrated SQLite database, opened read-only (a URI with mode=ro: root cannot write it either)."""
    path = tmp_path / "ro.sqlite"
    app = make_app(f"sqlite:///{path}")
    add_user(app, "before")
    database(app).engine.dispose()
    return f"sqlite:///file:{path}?mode=ro&uri=true"


def test_a_write_to_a_read_only_database_is_a_503_envelope(read_only_url: str) -> None:
    app = make_app(read_only_url, AUTO_MIGRATE=False)
    client = app.test_client()
    assert client.get("/v1/results").status_code == 200  # reads still work
    response = client.post("/v1/results/", data=v1_body(["tempest.api.a.T.test_one"]))
    error = assert_error(response, 503)
    assert "try again later" in error["title"] and response.headers["Retry-After"] == "30"
    assert "readonly" not in json.dumps(error)  # the details go to the log only
    database(app).engine.dispose()


def _server(*args: str, url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "webapp.cli", *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )


@pytest.mark.parametrize(
    "args", [["serve", "--bind", "127.0.0.1:0"], ["create-user", "eve"], ["create-admin"], ["init-db"]], ids=str
)
def test_commands_on_a_read_only_database_print_one_line(args: list[str], read_only_url: str, tmp_path: Path) -> None:
    done = _server(*args, url=read_only_url, tmp_path=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: the database") and "cannot be written" in last and "(fix: " in last, done.stderr


@pytest.mark.parametrize(
    "url", ["nonsense://x", "mysql://user@host/db", "postgresql://user:secret-pw@127.0.0.1:1/db"], ids=str
)
@pytest.mark.parametrize("args", [["create-user", "eve"], ["init-db"], ["import-guidelines", "."], ["serve"]], ids=str)
def test_a_bad_or_unreachable_database_url_is_one_line(url: str, args: list[str], tmp_path: Path) -> None:
    done = _server(*args, url=url, tmp_path=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "secret-pw" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.strip().splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1 and "(fix: " in lines[0], done.stderr


def test_a_pool_with_no_free_connection_is_a_503(tmp_path: Path) -> None:
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    app = make_app(f"sqlite:///{tmp_path}/p.sqlite")

    def busy() -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 5 reached, connection timed out, timeout 30.00")

    app.add_url_rule("/v1/busy", view_func=busy, methods=["POST"])
    error = assert_error(app.test_client().post("/v1/busy"), 503)
    assert "QueuePool" not in json.dumps(error)
    database(app).engine.dispose()
