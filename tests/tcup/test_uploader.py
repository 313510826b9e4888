"""Uploads to a real HTTP server on loopback: exact bytes, signatures, retries, refusals, a dead server."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from interop_model.wire import dumps_v1
from tcup.errors import UploadError
from tcup.uploader import RetryPolicy, idempotency_key, results_url, upload_run
from tests.tcup.fake_server import Script, closed_port_url, serve

DOC = {
    "cpid": "c0ffee",
    "duration_seconds": 12,
    "results": [
        {
            "name": "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token",
            "uuid": "6f8e4436-fc96-4282-8122-e41df57197a9",
        }
    ],
}
BODY = dumps_v1(DOC)


def _no_sleep(_: float) -> None:
    pass


@pytest.mark.parametrize(
    ("server", "url"),
    [
        ("https://r.example/api", "https://r.example/api/v1/results/"),
        ("https://r.example/api/", "https://r.example/api/v1/results/"),
        ("http://r.example:8000/v1", "http://r.example:8000/v1/results/"),
        ("http://r.example/v1/results", "http://r.example/v1/results/"),
    ],
)
def test_results_url(server: str, url: str) -> None:
    assert results_url(server) == url


def test_results_url_needs_http() -> None:
    with pytest.raises(UploadError, match="http:// or https://"):
        results_url("refstack.example")


def test_signed_upload_sends_the_exact_signed_bytes(rsa_key: rsa.RSAPrivateKey) -> None:
    with serve(Script()) as script:
        receipt = upload_run(BODY, server=script.url + "/api", key=rsa_key)
    assert receipt.test_id == "abc" and receipt.attempts == 1 and receipt.status == 201
    (request,) = script.requests
    assert request.path == "/api/v1/results/"
    assert request.body == BODY == json.dumps(DOC).encode()
    assert request.headers["Content-Type"] == "application/json"
    public = serialization.load_ssh_public_key(request.headers["X-Public-Key"].encode())
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(bytes.fromhex(request.headers["X-Signature"]), request.body, padding.PKCS1v15(), hashes.SHA256())


def test_a_product_version_is_named_in_the_query_of_a_signed_upload(rsa_key: rsa.RSAPrivateKey) -> None:
    with serve(Script()) as script:
        upload_run(BODY, server=script.url, key=rsa_key, product_version="v 1/2")
    (request,) = script.requests
    assert request.path == "/v1/results/?product_version_id=v+1%2F2" and request.body == BODY
    assert request.headers["Idempotency-Key"] == idempotency_key(BODY)


def test_a_product_version_needs_a_signed_upload() -> None:
    with serve(Script()) as script:
        with pytest.raises(UploadError, match="add --sign KEY"):
            upload_run(BODY, server=script.url, product_version="v1")
    assert script.requests == []


def test_anonymous_upload_has_no_signature_headers() -> None:
    with serve(Script()) as script:
        upload_run(BODY, server=script.url)
    assert "X-Signature" not in script.requests[0].headers
    assert "X-Public-Key" not in script.requests[0].headers


def test_5xx_is_retried_with_backoff() -> None:
    waits: list[float] = []
    script = Script(answers=[(503, {"title": "busy"}), (502, "bad gateway"), (201, {"test_id": "t2"})])
    with serve(script):
        receipt = upload_run(BODY, server=script.url, policy=RetryPolicy(retries=3, backoff=0.5), sleep=waits.append)
    assert receipt.test_id == "t2" and receipt.attempts == 3
    assert waits == [0.5, 1.0]
    assert len({r.body for r in script.requests}) == 1


def test_4xx_is_final_and_shows_the_servers_problems() -> None:
    script = Script(
        answers=[
            (
                400,
                {
                    "code": 400,
                    "title": "x",
                    "detail": "x",
                    "errors": ["results[0].uuid: 'zz' is not a UUID", "'cpid' is required"],
                },
            )
        ]
    )
    with serve(script), pytest.raises(UploadError) as info:
        upload_run(BODY, server=script.url, sleep=_no_sleep)
    assert len(script.requests) == 1
    assert "HTTP 400" in str(info.value) and "'zz' is not a UUID; 'cpid' is required" in str(info.value)


def test_401_explains_key_registration() -> None:
    script = Script(answers=[(401, {"title": "User with specified key not found."})])
    with serve(script), pytest.raises(UploadError, match="key not found.*tcup sign"):
        upload_run(BODY, server=script.url, sleep=_no_sleep)


def test_unreachable_server_is_retried_then_reported() -> None:
    waits: list[float] = []
    url = closed_port_url()
    with pytest.raises(UploadError, match="did not accept the upload after 3 attempts.*ConnectionError"):
        upload_run(
            BODY,
            server=url,
            policy=RetryPolicy(retries=2, backoff=0.1, connect_timeout=1, read_timeout=1),
            sleep=waits.append,
        )
    assert waits == [0.1, 0.2]


def test_server_that_never_answers_times_out() -> None:
    import socket

    with socket.socket() as sock:  # accepts connections (backlog) but never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(5)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(UploadError, match="after 2 attempts.*(ReadTimeout|Timeout)"):
            upload_run(
                BODY, server=url, policy=RetryPolicy(retries=1, connect_timeout=1, read_timeout=0.5), sleep=_no_sleep
            )


def test_every_attempt_carries_the_same_idempotency_key() -> None:
    """A read timeout makes the client send the POST again: each copy has the key of the same bytes,
    so a server that honours Idempotency-Key keeps one run."""
    script = Script(answers=[(201, {"test_id": "t1"})], delays=[1.5])
    with serve(script):
        receipt = upload_run(
            BODY, server=script.url, policy=RetryPolicy(retries=2, read_timeout=0.5, backoff=0.1), sleep=_no_sleep
        )
    assert receipt.test_id == "t1" and receipt.attempts == 2
    keys = {r.headers["Idempotency-Key"] for r in script.requests}
    assert keys == {idempotency_key(BODY)} and len(script.requests) == 2
    assert idempotency_key(BODY) == __import__("hashlib").sha256(BODY).hexdigest()


def test_a_trickling_server_cannot_stretch_the_deadline() -> None:
    """One byte every 0.3 s never trips the read timeout; the total deadline still ends the upload."""
    import time

    script = Script(answers=[(201, {"test_id": "t1", "url": "x" * 200})], trickle=0.3)
    with serve(script):
        started = time.monotonic()
        with pytest.raises(UploadError, match="deadline"):
            upload_run(BODY, server=script.url, policy=RetryPolicy(deadline=2.0, read_timeout=5), sleep=_no_sleep)
        assert time.monotonic() - started < 3.0


def test_a_server_that_never_answers_is_given_up_at_the_deadline() -> None:
    import socket
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(5)
        started = time.monotonic()
        with pytest.raises(UploadError, match="did not accept"):
            upload_run(
                BODY,
                server=f"http://127.0.0.1:{sock.getsockname()[1]}",
                policy=RetryPolicy(deadline=2.0, read_timeout=30, retries=10),
            )
        assert time.monotonic() - started < 3.0
