"""Write small subunit v2 streams for tests, the way stestr's workers do."""

from __future__ import annotations

import datetime as dt
import io

import subunit

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def stream_bytes(tests: list[tuple[str, str, str | None]], *, unfinished: tuple[str, ...] = ()) -> bytes:
    """A v2 stream: each (test id, final status, reason or traceback) runs for one second."""
    buffer = io.BytesIO()
    out = subunit.StreamResultToBytes(buffer)
    for i, (test_id, status, text) in enumerate(tests):
        start = T0 + dt.timedelta(seconds=2 * i)
        out.status(test_id=test_id, test_status="inprogress", timestamp=start)
        if text is not None:
            name = "reason" if status == "skip" else "traceback"
            out.status(
                test_id=test_id,
                file_name=name,
                file_bytes=text.encode(),
                mime_type="text/plain;charset=utf8",
                eof=True,
                timestamp=start,
            )
        out.status(test_id=test_id, test_status=status, timestamp=start + dt.timedelta(seconds=1))
    for test_id in unfinished:
        out.status(test_id=test_id, test_status="inprogress", timestamp=T0)
    return buffer.getvalue()
