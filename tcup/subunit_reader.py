"""Read subunit streams into :class:`~interop_model.results.CaseResult` lists: v2 natively, v1 too.

refstack-client replayed streams with python-subunit's v1 reader, so a v2 stream (what stestr
writes) gave zero passes. Here the first byte decides: ``0xB3`` starts a v2
packet, anything else is read as v1. Every outcome is kept, with its duration and its failure
traceback or skip reason; the passed-only view is :func:`interop_model.wire.to_v1_document`'s job.

The reader can follow a stream while it is being produced (a pipe from ``stestr run --subunit``),
telling a :class:`ResultListener` as each test starts and ends, and copying the bytes to a file
as they arrive (:class:`TeeReader`), so an interrupted run still leaves a readable stream.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol, cast

import subunit
import testtools

from interop_model.results import CaseResult, Outcome, parse_test_id
from tcup.credentials import redact_text

__all__ = [
    "ResultListener",
    "StreamRead",
    "TeeReader",
    "copy_redacted",
    "expand_class_results",
    "read_results",
    "read_results_file",
    "read_stream",
]

V2_SIGNATURE = 0xB3
MAX_REASON = 8000  # characters of a traceback kept (its end, where the error is)
_FINAL = {
    "success": Outcome.SUCCESS,
    "fail": Outcome.FAIL,
    "skip": Outcome.SKIP,
    "xfail": Outcome.XFAIL,
    "uxsuccess": Outcome.UXSUCCESS,
}
_PARSER_ID = "subunit.parser"


class ResultListener(Protocol):
    """Told about tests as a stream is read (for progress display)."""

    def test_started(self, test_id: str) -> None:
        """A test (full id, with attributes) is now running."""

    def test_finished(self, case: CaseResult) -> None:
        """A test ended with a final outcome."""


@dataclass(slots=True)
class StreamRead:
    """What a stream held: the finished tests, the unfinished ones and any damage."""

    results: list[CaseResult] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # started, never finished (an interrupted run)
    problems: list[str] = field(default_factory=list)  # parser errors (a truncated or corrupt stream)
    version: int = 2


class _Collector(testtools.StreamResult):
    """Turns StreamResult events into CaseResults, telling a listener on the way."""

    def __init__(self, listener: ResultListener | None) -> None:
        super().__init__()
        self.listener = listener
        self.read = StreamRead()
        self._started: dict[str, None] = {}
        self._to_dict = testtools.StreamToDict(self._on_test)  # type: ignore[arg-type]

    def startTestRun(self) -> None:  # noqa: N802 (unittest's name)
        self._to_dict.startTestRun()

    def stopTestRun(self) -> None:  # noqa: N802
        self._to_dict.stopTestRun()

    def status(  # type: ignore[override]
        self,
        test_id: str | None = None,
        test_status: str | None = None,
        **kwargs: Any,
    ) -> None:
        if test_id and test_status == "inprogress" and test_id not in self._started:
            self._started[test_id] = None
            if self.listener is not None:
                self.listener.test_started(test_id)
        self._to_dict.status(test_id=test_id, test_status=test_status, **kwargs)

    def _on_test(self, test: dict[str, Any]) -> None:
        test_id, status = test["id"], test["status"]
        self._started.pop(test_id, None)
        if test_id == _PARSER_ID:
            self.read.problems.append(
                _detail_text(test["details"], ("Parser Error", "Packet data")) or "the subunit stream is damaged"
            )
            return
        outcome = _FINAL.get(status)
        if outcome is None:  # "inprogress" or "exists": the run ended before the test did
            if status == "inprogress":
                self.read.incomplete.append(test_id)
            return
        name, uuid, attrs = parse_test_id(test_id)
        start, stop = (test.get("timestamps") or (None, None))[:2]
        duration = (stop - start).total_seconds() if start and stop else None
        reason = None
        if outcome is not Outcome.SUCCESS:
            reason = _detail_text(test["details"], ("reason", "traceback"))
        case = CaseResult(
            test_id=name, idempotent_id=uuid, outcome=outcome, duration=duration, reason=reason, attrs=attrs
        )
        self.read.results.append(case)
        if self.listener is not None:
            self.listener.test_finished(case)


def _detail_text(details: dict[str, Any], names: Iterable[str]) -> str | None:
    for name in names:
        content = details.get(name)
        if content is None:
            continue
        text: str
        try:
            text = content.as_text()
        except (UnicodeDecodeError, ValueError, TypeError):
            text = b"".join(content.iter_bytes()).decode("utf-8", "replace")
        text = text.strip()
        if text:
            return text if len(text) <= MAX_REASON else "…" + text[-MAX_REASON:]
    return None


def read_stream(stream: IO[bytes], *, listener: ResultListener | None = None) -> StreamRead:
    """Read a whole subunit stream (v2 or v1), blocking until its end.

    :param listener: told as each test starts and finishes.
    """
    first = stream.read(1)
    source = cast(IO[bytes], _Prepended(first, stream))
    collector = _Collector(listener)
    collector.startTestRun()
    try:
        if not first or first[0] == V2_SIGNATURE:
            subunit.ByteStreamToStreamResult(source, non_subunit_name="stdout").run(collector)
        else:
            collector.read.version = 1
            decorator = testtools.ExtendedToStreamDecorator(collector)
            decorator.startTestRun()
            try:
                subunit.ProtocolTestCase(source).run(decorator)
            finally:
                decorator.stopTestRun()
    finally:
        collector.stopTestRun()
    return collector.read


def read_results(stream: IO[bytes]) -> list[CaseResult]:
    """Every finished test of a subunit stream (v2 or v1)."""
    return read_stream(stream).results


def read_results_file(path: str | Path) -> StreamRead:
    """Read a subunit file."""
    with open(path, "rb") as stream:
        return read_stream(stream)


def expand_class_results(results: list[CaseResult], selected: Iterable[str]) -> list[CaseResult]:
    """Give each selected test of a class whose ``setUpClass`` failed or skipped that outcome.

    unittest reports one ``setUpClass (pkg.mod.Class)`` result and nothing for the class's tests;
    here each of them gets the class's outcome and reason, so every selected test has a result,
    and the pseudo-result is dropped once it stands for at least one test.
    """
    by_class: dict[str, CaseResult] = {}
    for case in results:
        if case.test_id.startswith("setUpClass (") and case.test_id.endswith(")"):
            by_class[case.test_id[len("setUpClass (") : -1]] = case
    if not by_class:
        return results
    have = {r.test_id for r in results}
    added: list[CaseResult] = []
    used: set[str] = set()
    for full_id in selected:
        name, uuid, attrs = parse_test_id(full_id)
        owner = by_class.get(name.rsplit(".", 1)[0])
        if owner is None or name in have:
            continue
        used.add(owner.test_id)
        have.add(name)
        added.append(
            CaseResult(
                test_id=name,
                idempotent_id=uuid,
                outcome=owner.outcome,
                duration=None,
                reason=f"{owner.test_id}: {owner.reason or owner.outcome.value}",
                attrs=attrs,
            )
        )
    return [r for r in results if r.test_id not in used] + added


class _Prepended(io.RawIOBase):
    """A stream with bytes already read put back in front (python-subunit needs read(n) and readline())."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            if len(data) < size:
                data += self._rest.read(size - len(data))
            return data
        return self._rest.read(size)

    def readline(self, size: int | None = -1) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            if head.endswith(b"\n"):
                return head
            return head + self._rest.readline()
        return self._rest.readline()


class TeeReader(io.RawIOBase):
    """Reads from ``source`` and copies every byte to ``sink``, flushing at least every ``flush_every`` s."""

    def __init__(self, source: BinaryIO, sink: BinaryIO, *, flush_every: float = 0.5) -> None:
        super().__init__()
        self._source = source
        self._sink = sink
        self._flush_every = flush_every
        self._last_flush = time.monotonic()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._source.read(-1 if size is None else size)
        if data:
            self._copy(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data = self._source.readline(-1 if size is None else size)
        if data:
            self._copy(data)
        return data

    def _copy(self, data: bytes) -> None:
        self.bytes_read += len(data)
        self._sink.write(data)
        now = time.monotonic()
        if now - self._last_flush >= self._flush_every:
            self._sink.flush()
            self._last_flush = now


def copy_redacted(source: IO[bytes], sink: IO[bytes], secrets: Iterable[str]) -> int:
    """Copy a v2 stream, blanking ``secrets`` in every attachment; return how many packets changed.

    Re-encodes packet by packet (each keeps its own checksum), so the copy is a valid stream.
    """
    wanted = [s for s in secrets if s]
    writer = subunit.StreamResultToBytes(sink)
    changed = 0

    def status(**kwargs: Any) -> None:
        nonlocal changed
        data = kwargs.get("file_bytes")
        if data is not None:
            data = bytes(data)  # NOTE: the parser hands out memoryviews, where `in` compares single ints
        if data and any(s.encode() in data for s in wanted):
            kwargs["file_bytes"] = redact_text(data.decode("utf-8", "replace"), wanted).encode()
            changed += 1
        writer.status(**kwargs)

    forwarder = _Forwarder(status)
    subunit.ByteStreamToStreamResult(source, non_subunit_name="stdout").run(forwarder)
    return changed


class _Forwarder(testtools.StreamResult):
    def __init__(self, on_status: Callable[..., None]) -> None:
        super().__init__()
        self._on_status = on_status

    def status(self, **kwargs: Any) -> None:  # type: ignore[override]
        self._on_status(**kwargs)
