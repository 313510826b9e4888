"""The real ``tcup-server serve`` (gunicorn) against slow clients: no single client can block it.

Eight clients each declare a body, send one byte of it and stall. Meanwhile the list
endpoint keeps answering quickly (p99 of 60 sequential requests ≤ 100 ms), and every
stalled client gets a 408 in the JSON envelope once REQUEST_BODY_TIMEOUT has passed, or
a closed connection; never gunicorn's HTML error page.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.webapp.served import http_get as _get
from tests.webapp.served import serve
from tests.webapp.signing import v1_body

STALLED = 8
BODY_TIMEOUT = 3  # seconds, set through TCUP_REQUEST_BODY_TIMEOUT
pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """``tcup-server serve`` with its default worker model on a fresh SQLite database."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}", "TCUP_REQUEST_BODY_TIMEOUT": str(BODY_TIMEOUT)}
    log = tmp_path / "gunicorn.log"
    with serve(env, log, ["--workers", "2"]) as server:
        yield server.port
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def _stall(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        b"POST /v1/results/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{"
    )
    return sock


def _answer(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_stalled_bodies_do_not_block_the_list_and_get_a_408_envelope(served: int) -> None:
    port = served
    upload = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    upload.request(
        "POST", "/v1/results/", body=v1_body(["tempest.api.a.T.test_one"]), headers={"Content-Type": "application/json"}
    )
    assert upload.getresponse().status == 201
    upload.close()
    for _ in range(20):  # every worker has served a list once (its first answer builds caches)
        assert _get(port, "/v1/results")[0] == 200

    stalled = [_stall(port) for _ in range(STALLED)]
    time.sleep(0.5)  # the stalled requests have reached the workers
    started = time.monotonic()
    latencies = []
    for _ in range(60):
        t = time.perf_counter()
        status, body = _get(port, "/v1/results")
        latencies.append(time.perf_counter() - t)
        assert status == 200 and json.loads(body)["results"]
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    assert time.monotonic() - started < BODY_TIMEOUT, "the list was measured after the stalled clients were dropped"
    assert p99 <= 0.100, f"GET /v1/results p99 {p99 * 1000:.0f} ms while {STALLED} clients stall mid-body"

    for sock in stalled:
        answer = _answer(sock)
        sock.close()
        if not answer:
            continue  # a closed connection is an acceptable end for a stalled client
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408 "), head
        envelope = json.loads(body)
        assert envelope["code"] == 408 and "within 3 seconds" in envelope["title"], envelope
        assert set(envelope) == {"code", "title", "detail", "errors"}


def _raw(port: int, head: bytes, chunks: list[bytes]) -> tuple[int, dict]:  # type: ignore[type-arg]
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        sock.sendall(head)
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # refused before the end: the answer is waiting
        answer = _answer(sock)
    finally:
        sock.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2] or b"null")


CHUNKED_HEAD = (
    b"POST /v1/results/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def test_chunked_bodies_are_bounded_and_framed(served: int) -> None:
    port = served
    body = v1_body(["tempest.api.a.T.test_chunked"])
    status, answer = _raw(port, CHUNKED_HEAD, [_chunk(body[:10]), _chunk(body[10:]), b"0\r\n\r\n"])
    assert status == 201 and answer["test_id"], answer

    piece = b" " * (1024 * 1024)  # 17 MiB of JSON whitespace: over the 16 MiB limit
    status, answer = _raw(port, CHUNKED_HEAD, [_chunk(b"{")] + [_chunk(piece)] * 17 + [b"0\r\n\r\n"])
    assert status == 413 and answer["code"] == 413 and "16777216 bytes" in answer["title"], answer

    for framing in (b"zz\r\nabc\r\n0\r\n\r\n", b"3\r\nabcdef\r\n0\r\n\r\n", b"-1\r\n{}\r\n0\r\n\r\n"):
        status, answer = _raw(port, CHUNKED_HEAD, [framing])
        assert status == 400 and answer["code"] == 400, (framing, answer)
        assert answer["title"].startswith("Malformed request: the body could not be read"), answer


def _maps_pandas(pid: int) -> bool:
    """Whether the process has pandas' compiled modules mapped (it imported pandas)."""
    return "/pandas/_libs/" in Path(f"/proc/{pid}/maps").read_text()


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("preload", [True, False], ids=["preload", "no-preload"])
def test_serve_loads_the_scoring_engine_once_before_its_workers_unless_told_not_to(
    tmp_path: Path, preload: bool
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}", "TCUP_SCORING_PRELOAD": json.dumps(preload)}
    with serve(env, tmp_path / "gunicorn.log", ["--workers", "2"]) as server:
        for path in ("/v1/results", "/results", "/guidelines", "/v1/openapi.json") * 3:
            assert _get(server.port, path)[0] == 200, path
        workers = _children(server.process.pid)
        assert len(workers) == 2
        assert [_maps_pandas(pid) for pid in [server.process.pid, *workers]] == [preload] * 3
        assert _get(server.port, "/v1/scoring/pass-rates")[0] == 404  # no guideline imported: still an answer
    said = server.log.read_text()
    assert ("scoring engine loaded in" in said) is preload, said[-2000:]
