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


def _objectstore_run_past(
    cloud: DevcloudHandle, tempest_python: str, interop_dir: Path, output: Path, *options: str, finished: int = 3
) -> subprocess.Popen[str]:
    """Start ``tcup run`` of the object-storage capabilities; return once ``finished`` tests are done."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tcup",
            "run",
            *selection_args(interop_dir, ("objectstore-*",)),
            "--accounts-file",
            str(cloud.accounts_yaml),
            "--output",
            str(output),
            "--concurrency",
            "1",
            # NOTE: one class at a time, so that the run is still going when the signal lands (with
            # several classes on threads a quiet machine finishes the 56 tests in a few seconds)
            "--io-threads",
            "1",
            "--no-progress",
            *options,
        ],
        env=tcup_env(cloud, tempest_python),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while _finished_tests(output / "tempest.subunit") < finished:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no test finished in 300 s"
        time.sleep(0.2)
    return proc


def test_sigint_mid_run_leaves_partial_results(
    devcloud: DevcloudHandle,
    tempest_python: str,
    interop_dir: Path,
    tmp_path: Path,
    interop_run: object,
    one_account_run: object,
) -> None:
    # interop_run, object_target_run, one_account_run: the full runs happen before this one leaves
    # Tempest's resources behind
    output = tmp_path / "out"
    proc = _objectstore_run_past(devcloud, tempest_python, interop_dir, output)
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


def test_upload_to_a_dead_server_keeps_the_results(
    devcloud: DevcloudHandle, tempest_python: str, interop_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    url = _dead_server()
    proc = tcup(
        "run",
        *selection_args(interop_dir, ("identity-v3-tokens-create",)),
        "--accounts-file",
        str(devcloud.accounts_yaml),
        "--output",
        str(output),
        "--upload",
        url,
        "-y",
        env=tcup_env(devcloud, tempest_python),
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "did not accept the upload" in proc.stderr and "Verdict: YES" in proc.stdout
    kept = output / "refstack.json"
    assert f"The results are kept in {kept}" in proc.stderr and f"tcup upload {kept} --server {url}" in proc.stderr
    assert len(loads_v1(kept.read_bytes()).results) == 1
    again = tcup("upload", str(kept), "--server", url, "-y", env=tcup_env(devcloud, tempest_python))
    assert again.returncode == 2 and "kept" in again.stderr
    assert len(loads_v1(kept.read_bytes()).results) == 1


def test_a_cloud_that_dies_mid_run_leaves_every_output(tempest_python: str, interop_dir: Path, tmp_path: Path) -> None:
    """A private devcloud, stopped once three tests have finished: the rest fail, nothing is lost."""
    from tcup.devcloud import start_devcloud, stop_devcloud
    from tests.cloud_fixtures import free_port_base

    base = free_port_base(range(27000, 29000, 100))
    assert base is not None, "no free block of 40 loopback ports in 27000-29000"
    root = tmp_path / "doomed-cloud"
    cloud = DevcloudHandle(dir=root, info=start_devcloud(root=root, port_base=base).info)
    output = tmp_path / "out"
    try:
        proc = _objectstore_run_past(cloud, tempest_python, interop_dir, output, "--io-threads", "1")
    finally:
        stop_devcloud(root=root)  # the cloud dies: every service process is gone
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 1, stderr[-3000:]  # failed tests, not a crash
    assert "Traceback" not in stderr and "Traceback" not in stdout
    summary = json.loads((output / "summary.json").read_text())
    assert summary["interrupted"] is False
    run = loads_extended((output / "run.json").read_bytes())
    outcomes = [r.outcome.value for r in run.results]
    assert outcomes.count("success") >= 3
    assert outcomes.count("fail") >= 1, outcomes
    failed = [r for r in run.results if r.outcome.value == "fail"]
    assert any("Connection" in (r.reason or "") or "refused" in (r.reason or "") for r in failed), failed[0].reason
    passed = loads_v1((output / "refstack.json").read_bytes())
    assert len(passed.results) == outcomes.count("success")
    report = json.loads((output / "compliance.json").read_text())["reports"][0]
    assert report["verdict"] == "NO" and report["verdicts"]["tcup"] == "NO"  # judged on what finished
    assert report["required_states"]["failed"] >= 1
    assert 3 <= report["required"]["passed"] < report["required"]["count"]
