"""One HTTP request with a deadline, and the retry policy the uploader and guideline fetches share.

``requests`` has a connect and a read timeout, but the read timeout restarts with every byte: a
server that sends one byte every few seconds keeps a request alive for ever. So each request runs
in a daemon thread and the caller stops waiting when the policy's total deadline has passed.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

__all__ = ["DEFAULT_DEADLINE", "RETRY_STATUSES", "DeadlineExceeded", "RetryPolicy", "request_before"]

DEFAULT_DEADLINE = 180.0  # seconds, retries included
RETRY_STATUSES = frozenset({500, 502, 503, 504, 429})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How long and how often to try one HTTP exchange."""

    deadline: float = DEFAULT_DEADLINE  # seconds for every attempt and wait together
    connect_timeout: float = 10.0
    read_timeout: float = 60.0  # between two bytes of the answer
    retries: int = 3  # further attempts after a 5xx, 429, timeout or connection error
    backoff: float = 1.0  # first wait between attempts, doubled each time

    def wait(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (1 is the first retry)."""
        return float(self.backoff * 2 ** (attempt - 1))


class DeadlineExceeded(Exception):
    """The request had not finished when the deadline came."""


def request_before(
    session: requests.Session, method: str, url: str, *, deadline_at: float, policy: RetryPolicy, **kwargs: Any
) -> requests.Response:
    """``session.request(...)``, given up at ``deadline_at`` (a :func:`time.monotonic` value).

    :raises DeadlineExceeded: when the answer (body included) has not arrived by then.
    :raises requests.RequestException: as ``requests`` does.
    """
    remaining = deadline_at - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded()
    timeout = (min(policy.connect_timeout, remaining), min(policy.read_timeout, remaining))
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def call() -> None:
        try:
            outcome["response"] = session.request(method, url, timeout=timeout, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = exc
        finally:
            done.set()

    # NOTE: a daemon thread, so a server that trickles past the deadline cannot keep the process alive
    threading.Thread(target=call, name=f"tcup-http {method} {url}", daemon=True).start()
    if not done.wait(remaining):
        raise DeadlineExceeded()
    if "error" in outcome:
        raise outcome["error"]
    response: requests.Response = outcome["response"]
    return response
