"""Process records: stop exactly what was started, by pid and start time, with real processes."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tcup.devcloud.processes import ProcessRecord, load_records, start_process, stop_process
from tcup.errors import DevcloudError
from tests.devcloud.conftest import alive


def test_start_records_pid_and_start_time(tmp_path: Path) -> None:
    record = start_process(name="sleeper", argv=["sleep", "60"], run_dir=tmp_path, log_file=tmp_path / "s.log")
    try:
        saved = json.loads((tmp_path / "sleeper.json").read_text())
        assert saved["pid"] == record.pid and saved["start_time"] == record.start_time
        assert load_records(tmp_path) == [record]
        assert record.is_alive()
    finally:
        assert stop_process(record, run_dir=tmp_path)
    assert not record.is_alive()
    assert load_records(tmp_path) == []


def test_stop_kills_the_whole_session_but_not_a_bystander(tmp_path: Path, bystander: subprocess.Popen[bytes]) -> None:
    # a leader that ignores SIGTERM, with a child in its session: both must go
    script = "trap '' TERM; sleep 300 & echo $! > child.pid; wait"
    record = start_process(
        name="group", argv=["sh", "-c", script], run_dir=tmp_path, log_file=tmp_path / "g.log", cwd=tmp_path
    )
    for _ in range(100):
        if (tmp_path / "child.pid").is_file() and (tmp_path / "child.pid").read_text().strip():
            break
        time.sleep(0.05)
    child = int((tmp_path / "child.pid").read_text())
    assert alive(child)
    assert stop_process(record, run_dir=tmp_path, timeout=1.0)
    time.sleep(0.2)
    assert not alive(record.pid)
    assert not alive(child)
    assert alive(bystander.pid)


def test_a_record_whose_start_time_differs_is_never_signalled(
    tmp_path: Path, bystander: subprocess.Popen[bytes]
) -> None:
    # the pid of a live, unrelated process, as if it had been recycled after our process ended
    stale = ProcessRecord(name="stale", pid=bystander.pid, start_time=1, stop_signal="KILL", log_file="-")
    (tmp_path / "stale.json").write_text(json.dumps(_as_dict(stale)))
    assert not stale.is_alive()
    assert stop_process(stale, run_dir=tmp_path) is False
    time.sleep(0.2)
    assert alive(bystander.pid)
    assert not (tmp_path / "stale.json").exists()


def _as_dict(record: ProcessRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def test_a_zombie_counts_as_gone() -> None:
    proc = subprocess.Popen(["sleep", "0.1"])
    stat = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    record = ProcessRecord(name="z", pid=proc.pid, start_time=int(stat[19]), stop_signal="TERM", log_file="-")
    time.sleep(0.5)  # exited, not yet reaped: a zombie
    assert Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    assert not record.is_alive()
    proc.wait()


def test_a_program_that_cannot_start_is_a_devcloud_error(tmp_path: Path) -> None:
    with pytest.raises(DevcloudError, match="cannot start nothing"):
        start_process(name="nothing", argv=[str(tmp_path / "missing")], run_dir=tmp_path, log_file=tmp_path / "n.log")
