"""Upload a run to a RefStack-compatible server: ``POST <server>/v1/results/``.

The body is serialised once and those exact bytes are signed and sent, with an
``Idempotency-Key`` (their SHA-256) that stays the same over retries, so a server that honours it
keeps one run however often the client had to resend. One :class:`RetryPolicy` sets the
timeouts, the retries of 5xx answers, timeouts and connection errors (exponential backoff), and a
total deadline that a trickling server cannot stretch. A 4xx answer is final and its message
(RefStack's ``title``/``detail`` envelope, or our ``errors`` list) is shown as is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from tcup.errors import UploadError
from tcup.http_client import RETRY_STATUSES, DeadlineExceeded, RetryPolicy, request_before
from tcup.signing import sign_body

__all__ = [
    "RETRY_STATUSES",
    "RetryPolicy",
    "UploadReceipt",
    "api_base",
    "idempotency_key",
    "post_body",
    "results_url",
    "set_run_meta",
    "upload_extended",
    "upload_run",
]

LOG = logging.getLogger(__name__)
DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadReceipt:
    """What the server answered to an accepted upload."""

    endpoint: str
    status: int
    test_id: str | None  # the run's id on the server
    url: str | None  # where a person can see it
    attempts: int


def api_base(server: str) -> str:
    """The API root of ``server``: ``https://host/api/v1/results/`` -> ``https://host/api``."""
    base = server.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise UploadError(f"server URL {server!r} must start with http:// or https://")
    for suffix in ("/v1/results", "/v1"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def results_url(server: str) -> str:
    """``https://host/api`` -> ``https://host/api/v1/results/`` (an URL already ending in /v1 is kept)."""
    return api_base(server) + "/v1/results/"


def upload_run(
    body: bytes,
    *,
    server: str,
    key: rsa.RSAPrivateKey | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    verify: bool | str = True,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
    product_version: str | None = None,
) -> UploadReceipt:
    """POST a v1 document (already serialised) to ``<server>/v1/results/``, signed with ``key``.

    :param body: the exact bytes to send (and sign); see :func:`interop_model.wire.dumps_v1`.
    :param policy: timeouts, retries and the total deadline.
    :param product_version: attach the run to this product version of the server's registry
        (``?product_version_id=``); the upload must be signed by an admin of that product.
    :raises UploadError: when the server refuses the run or stays unreachable until the deadline.
    """
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key is not None:
        headers.update(sign_body(body, key))
    url = results_url(server)
    if product_version is not None:
        if key is None:
            raise UploadError(
                "--product-version attaches a signed run: add --sign KEY (a key registered by an admin of that product)"
            )
        url += "?" + urlencode({"product_version_id": product_version})
    return post_body(url, body, headers=headers, policy=policy, verify=verify, session=session, sleep=sleep)


def upload_extended(
    body: bytes,
    *,
    server: str,
    key: rsa.RSAPrivateKey,
    test_id: str | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    verify: bool | str = True,
    sleep: Callable[[float], None] | None = None,
) -> UploadReceipt:
    """POST an extended run document to ``<server>/v2/runs`` (signed; private to the key's owner).

    :param test_id: the v1 result to attach it to (the same run uploaded with :func:`upload_run`).
    :raises UploadError: as :func:`upload_run`.
    """
    url = api_base(server) + "/v2/runs" + (f"?test_id={test_id}" if test_id else "")
    headers = {"Content-Type": "application/json", "Accept": "application/json", **sign_body(body, key)}
    return post_body(url, body, headers=headers, policy=policy, verify=verify, sleep=sleep)


def idempotency_key(body: bytes) -> str:
    """The ``Idempotency-Key`` of an upload: the SHA-256 of its exact bytes, so every retry of the
    same file carries the same key and the server keeps one run."""
    return hashlib.sha256(body).hexdigest()


def post_body(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    policy: RetryPolicy = DEFAULT_POLICY,
    verify: bool | str = True,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
) -> UploadReceipt:
    """POST ``body`` to ``url``, retried by ``policy`` until its deadline; see :func:`upload_run`."""
    http = session or requests.Session()
    sent = {**headers, "Idempotency-Key": idempotency_key(body)}
    started = time.monotonic()
    deadline_at = started + policy.deadline
    last_problem = ""
    attempts = 0
    for attempt in range(policy.retries + 1):
        if attempt:
            wait = min(policy.wait(attempt), max(0.0, deadline_at - time.monotonic()))
            LOG.warning("upload to %s failed (%s); retrying in %.1f s", url, last_problem, wait)
            (sleep or time.sleep)(wait)
        if time.monotonic() >= deadline_at:
            break
        attempts = attempt + 1
        try:
            response = request_before(
                http, "POST", url, deadline_at=deadline_at, policy=policy, data=body, headers=sent, verify=verify
            )
        except DeadlineExceeded:
            last_problem = f"no complete answer within the {policy.deadline:g} s deadline"
            break
        except requests.exceptions.SSLError as exc:
            raise UploadError(
                f"TLS verification of {url} failed: {exc}; pass --cacert FILE for a private CA, "
                "or --insecure to skip the check"
            ) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            last_problem = _short(exc)
            continue
        except requests.RequestException as exc:
            raise UploadError(f"upload to {url} failed: {_short(exc)}") from None
        if response.status_code in RETRY_STATUSES:
            last_problem = f"HTTP {response.status_code} {_server_message(response)}".strip()
            continue
        if response.status_code >= 400:
            raise UploadError(_refusal(url, response))
        data = _json(response)
        return UploadReceipt(
            endpoint=url,
            status=response.status_code,
            test_id=_text(data.get("test_id")),
            url=_text(data.get("url")),
            attempts=attempts,
        )
    raise UploadError(
        f"the server at {url} did not accept the upload after {attempts} attempts in "
        f"{time.monotonic() - started:.0f} s ({last_problem}); check the URL and that the server is up"
    )


def _refusal(url: str, response: requests.Response) -> str:
    message = _server_message(response) or response.reason or ""
    hint = ""
    if response.status_code == 401:
        hint = (
            "; the server does not know this key (register it with the key line and self-signature "
            "`tcup sign KEY` prints) or does not accept anonymous uploads (pass --sign KEY)"
        )
    elif response.status_code == 403 and "product_version_id=" in url:
        hint = "; only an admin of that product's vendor (or the Foundation) may attach runs to it"
    elif response.status_code == 404 and "product_version_id=" in url:
        hint = "; check the product version's id on the product's page of that server"
    elif response.status_code == 404:
        hint = "; is this the base URL of a RefStack-compatible server (the part before /v1)?"
    elif response.status_code == 413:
        hint = "; the server limits the upload size"
    return f"the server at {url} refused the upload: HTTP {response.status_code}: {message}{hint}"


def _server_message(response: requests.Response) -> str:
    data = _json(response)
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(e) for e in errors)
    for key in ("detail", "title", "message", "error"):
        if isinstance(data.get(key), str) and data[key]:
            return str(data[key])
    text = response.text.strip() if "html" not in response.headers.get("Content-Type", "") else ""
    return text[:300]


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _short(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.Timeout):
        for cause in ("Connection refused", "Name or service not known", "No route to host", "Connection reset"):
            if cause in text:
                return f"ConnectionError: {cause.lower()}"
        return "ConnectionError: cannot connect"
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def set_run_meta(
    server: str,
    test_id: str,
    meta: Mapping[str, str],
    *,
    token: str,
    policy: RetryPolicy = DEFAULT_POLICY,
    verify: bool | str = True,
) -> None:
    """Set RefStack meta keys of an uploaded run (``POST /v1/results/<id>/meta/<key>``, owner only).

    :param token: the owner's API token (``Authorization: Bearer``).
    :raises UploadError: when the server refuses a key.
    """
    http = requests.Session()
    deadline_at = time.monotonic() + policy.deadline
    for key, value in meta.items():
        url = f"{api_base(server)}/v1/results/{test_id}/meta/{key}"
        try:
            response = request_before(
                http,
                "POST",
                url,
                deadline_at=deadline_at,
                policy=policy,
                data=value.encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
                verify=verify,
            )
        except DeadlineExceeded:
            raise UploadError(f"setting meta {key} of run {test_id} took longer than {policy.deadline:g} s") from None
        except requests.RequestException as exc:
            raise UploadError(f"setting meta {key} of run {test_id} failed: {_short(exc)}") from None
        if response.status_code >= 400:
            raise UploadError(_refusal(url, response).replace("the upload", f"meta {key}"))
