"""Runs that do not end well still leave their results: Ctrl-C mid-run, and an upload to a dead server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interop_model.wire import loads_extended, loads_v1
from tests.cloud_fixtures import DevcloudHandle
from tests.end_to_end.conftest import selection_args, tcup, tcup_env

pytestmark = pytest.mark.cloud


def _dead_server() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _finished_tests(stream: Path) -> int:
    from tcup.subunit_reader import read_results_file

    try:
        return len(read_results_file(stream).results)
    except OSError:
        return 0


def test_sigint_mid_run_leaves_partial_results(devcloud: DevcloudHandle, tempest_python: str, interop_dir: Path,
                                               tmp_path: Path, interop_run: object) -> None:
    # interop_run: the full run must happen before this one leaves Tempest's resources behind
    output = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "tcup", "run", *selection_args(interop_dir, ("objectstore-*",)),
                             "--accounts-file", str(devcloud.accounts_yaml), "--output", str(output),
                             "--concurrency", "1", "--no-progress"],
                            env=tcup_env(devcloud, tempest_python), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 300
    while _finished_tests(output / "tempest.subunit") < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no test finished in 300 s"
        time.sleep(0.5)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Interrupted" in stderr and "partial results" in stderr
    summary = json.loads((output / "summary.json").read_text())
    assert summary["interrupted"] is True
    run = loads_extended((output / "run.json").read_bytes())
    assert 3 <= len(run.results) < summary["selected_tests"]
    assert loads_v1((output / "refstack.json").read_bytes()).cpid == run.cpid
    assert (output / "compliance.json").is_file()


def test_upload_to_a_dead_server_keeps_the_results(devcloud: DevcloudHandle, tempest_python: str, interop_dir: Path,
                                                   tmp_path: Path) -> None:
    output = tmp_path / "out"
    url = _dead_server()
    proc = tcup("run", *selection_args(interop_dir, ("identity-v3-tokens-create",)),
                "--accounts-file", str(devcloud.accounts_yaml), "--output", str(output),
                "--upload", url, "-y", env=tcup_env(devcloud, tempest_python))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "stayed unreachable" in proc.stderr
    kept = output / "refstack.json"
    assert f"The results are kept in {kept}" in proc.stderr and f"tcup upload {kept} --server {url}" in proc.stderr
    assert len(loads_v1(kept.read_bytes()).results) == 1
    again = tcup("upload", str(kept), "--server", url, "-y", env=tcup_env(devcloud, tempest_python))
    assert again.returncode == 2 and "kept" in again.stderr
    assert len(loads_v1(kept.read_bytes()).results) == 1
