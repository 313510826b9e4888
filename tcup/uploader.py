"""Upload a run to a RefStack-compatible server: ``POST <server>/v1/results/``.

A disciplined client (STYLE §4.12): the body is serialised once and those exact bytes are
signed and sent; every request has a connect and a read timeout; 5xx answers, timeouts and
connection errors are retried with exponential backoff; a 4xx answer is final and its message
(RefStack's ``title``/``detail`` envelope, or our ``errors`` list) is shown as is.
"""

from __future__ import annotations

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
from tcup.signing import sign_body

__all__ = ["RETRY_STATUSES", "UploadReceipt", "api_base", "post_body", "results_url", "upload_extended", "upload_run"]

LOG = logging.getLogger(__name__)
TIMEOUT = (10.0, 60.0)  # connect, read (seconds)
RETRY_STATUSES = frozenset({500, 502, 503, 504, 429})


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
    timeout: tuple[float, float] = TIMEOUT,
    retries: int = 3,
    backoff: float = 1.0,
    verify: bool | str = True,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
    product_version: str | None = None,
) -> UploadReceipt:
    """POST a v1 document (already serialised) to ``<server>/v1/results/``, signed with ``key``.

    :param body: the exact bytes to send (and sign); see :func:`interop_model.wire.dumps_v1`.
    :param product_version: attach the run to this product version of the server's registry
        (``?product_version_id=``); the upload must be signed by an admin of that product.
    :param retries: further attempts after a 5xx, 429, timeout or connection error.
    :param backoff: the first wait between attempts, doubled each time.
    :raises UploadError: when the server refuses the run or stays unreachable.
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
    return post_body(
        url,
        body,
        headers=headers,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        verify=verify,
        session=session,
        sleep=sleep,
    )


def upload_extended(
    body: bytes,
    *,
    server: str,
    key: rsa.RSAPrivateKey,
    test_id: str | None = None,
    timeout: tuple[float, float] = TIMEOUT,
    retries: int = 3,
    verify: bool | str = True,
    sleep: Callable[[float], None] | None = None,
) -> UploadReceipt:
    """POST an extended run document to ``<server>/v2/runs`` (signed; private to the key's owner).

    :param test_id: the v1 result to attach it to (the same run uploaded with :func:`upload_run`).
    :raises UploadError: as :func:`upload_run`.
    """
    url = api_base(server) + "/v2/runs" + (f"?test_id={test_id}" if test_id else "")
    headers = {"Content-Type": "application/json", "Accept": "application/json", **sign_body(body, key)}
    return post_body(url, body, headers=headers, timeout=timeout, retries=retries, verify=verify, sleep=sleep)


def post_body(
    url: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    timeout: tuple[float, float] = TIMEOUT,
    retries: int = 3,
    backoff: float = 1.0,
    verify: bool | str = True,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] | None = None,
) -> UploadReceipt:
    """POST ``body`` to ``url`` with retries; see :func:`upload_run`."""
    http = session or requests.Session()
    last_problem = ""
    attempts = 0
    for attempt in range(retries + 1):
        attempts = attempt + 1
        if attempt:
            wait = backoff * 2 ** (attempt - 1)
            LOG.warning("upload to %s failed (%s); retrying in %.1f s", url, last_problem, wait)
            (sleep or time.sleep)(wait)
        try:
            response = http.post(url, data=body, headers=dict(headers), timeout=timeout, verify=verify)
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
        f"the server at {url} stayed unreachable after {attempts} attempts ({last_problem}); "
        "check the URL and that the server is up, then upload again"
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
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
