"""Request bodies read in full, within a size and a time bound, before the app sees them.

A thread that reads a request body waits for the client. A client that declares
``Content-Length: 100``, sends one byte and stalls would hold that thread until it gave
up; a chunked body has no declared length at all, so its size is only known once read.
:class:`BodyLimits` wraps the WSGI app and reads every body first:

* within ``REQUEST_BODY_TIMEOUT`` seconds, enforced by :class:`Deadlines`, one thread per
  process that shuts the read side of a socket whose deadline passed (the blocked read then
  ends at once); the client gets a 408 in the JSON envelope;
* up to ``MAX_UPLOAD_BYTES``, chunked bodies included: one byte more is a 413;
* with broken chunk framing answered by a 400, not a server error.

The app then reads the body from memory. Behind a buffering reverse proxy (nginx's default
``proxy_request_buffering on``) the bodies arrive complete and none of this waits.
"""

from __future__ import annotations

import heapq
import io
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from webapp.errors import error_body

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]
READ_STEP = 1024 * 1024


class _Watch:
    """A socket and the moment its read side is shut."""

    __slots__ = ("deadline", "fired", "sock")

    def __init__(self, sock: socket.socket | None, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.fired = False


class Deadlines:
    """Shut the read side of sockets whose deadline passed; one thread per process, started on first use.

    Started lazily, so that a gunicorn worker (forked after the app was built in the master)
    runs its own thread.
    """

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def watch(self, sock: socket.socket | None, seconds: float) -> _Watch:
        """Start watching ``sock``: its read side is shut ``seconds`` from now unless :meth:`release` comes first."""
        entry = _Watch(sock, time.monotonic() + seconds)
        with self._wake:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="tcup-body-deadlines", daemon=True)
                self._thread.start()
            heapq.heappush(self._due, (entry.deadline, next(self._order), entry))
            self._wake.notify()
        return entry

    def release(self, entry: _Watch) -> None:
        """Stop watching (the body was read in time, or the read failed)."""
        with self._wake:
            entry.sock = None

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._due and self._due[0][2].sock is None:
                    heapq.heappop(self._due)
                if not self._due:
                    self._wake.wait()
                    continue
                deadline, _, entry = self._due[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._due)
                if entry.sock is not None:
                    entry.fired = True
                    try:
                        entry.sock.shutdown(socket.SHUT_RD)
                    except OSError:
                        pass  # already closed by the client
                    entry.sock = None


class _Refused(Exception):
    """A body refused before the app sees it: the status and the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class BodyLimits:
    """WSGI middleware: read each request body in full within ``max_bytes`` and ``timeout`` seconds."""

    def __init__(self, app: WsgiApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.deadlines = Deadlines()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        declared = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
        if not chunked and (not declared.isdigit() or int(declared) == 0 or int(declared) > self.max_bytes):
            return self.app(environ, start_response)  # no body, or one the app refuses unread (413)
        sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        watch = self.deadlines.watch(sock, self.timeout) if isinstance(sock, socket.socket) else None
        try:
            body = self._read(environ["wsgi.input"], None if chunked else int(declared), watch)
        except _Refused as refused:
            return self._refuse(environ, start_response, refused)
        finally:
            if watch is not None:
                self.deadlines.release(watch)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = True
        return self.app(environ, start_response)

    def _read(self, stream: Any, length: int | None, watch: _Watch | None) -> bytes:
        wanted = self.max_bytes + 1 if length is None else length
        parts: list[bytes] = []
        got = 0
        try:
            while got < wanted:
                part = stream.read(min(READ_STEP, wanted - got))
                if not part:
                    break
                parts.append(part)
                got += len(part)
        except TimeoutError:
            raise self._late() from None
        except Exception as exc:  # NOTE: the servers raise their own types for broken chunk framing
            if watch is not None and watch.fired:
                raise self._late() from None
            why = f"{type(exc).__name__}: {exc}"[:200]
            raise _Refused(400, f"Malformed request: the body could not be read ({why})") from None
        if watch is not None and watch.fired and (length is None or got < length):
            raise self._late()  # NOTE: a declared body completed just as its deadline passed is still taken
        if length is None and got > self.max_bytes:
            raise _Refused(413, f"Request body too large: the limit is {self.max_bytes} bytes")
        if length is not None and got < length:
            raise _Refused(400, f"Malformed request: the body ended after {got} of its {length} bytes")
        return b"".join(parts)

    def _late(self) -> _Refused:
        return _Refused(
            408, f"Request Timeout: the body was not received within {self.timeout:g} seconds (send it at once)"
        )

    def _refuse(self, environ: Environ, start_response: StartResponse, refused: _Refused) -> Iterable[bytes]:
        payload = json.dumps(error_body(refused.status, [refused.message])).encode()
        reason = {400: "BAD REQUEST", 408: "REQUEST TIMEOUT", 413: "REQUEST ENTITY TOO LARGE"}[refused.status]
        start_response(
            f"{refused.status} {reason}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), ("Connection", "close")],
        )
        sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
        if refused.status != 413 and isinstance(sock, socket.socket):
            try:  # nothing more is read from this client: the server closes after answering
                sock.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        return [payload]
