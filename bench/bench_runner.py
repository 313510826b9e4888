"""Benchmark ``tcup run``: its overhead outside Tempest, and its wall time against a bare Tempest run.

Prints two tables:

1. **Overhead** (goal: at most 10 s): each step tcup adds around Tempest, measured in-process
   against a running devcloud: CLI start-up (``tcup --help``), discovery, the test index and the
   guideline selection, tempest.conf generation, reading the 83-test subunit stream, scrubbing the
   outputs, and one upload to a loopback HTTP server.
2. **Wall time** of the interop 2020.06 ``identity-v3-*``, ``images-v2-*``, ``objectstore-*`` run
   (83 tests) on the devcloud: ``tcup run`` as a user runs it (a subprocess, every output written;
   by default CPU-count workers, each running test classes on I/O threads)
   beside a bare ``tempest run --concurrency <CPU count> --include-list`` of the same tests in a
   ``tempest init`` workspace with the same tempest.conf (goal: tcup at most 0.7 x the bare run).
   With ``--target platform``, the whole 2020.06 platform target (273 tests) on a platform devcloud.

Usage::

    python bench/bench_runner.py [--devcloud-dir DIR] [--repeat N] [--concurrency 2,4] [--target platform]

Without ``--devcloud-dir`` a devcloud is started in a temporary directory (ports from 29000, or
``$TCUP_BENCH_PORT_BASE``; ``--services platform`` with ``--target platform``) and stopped at the
end. Needs the guideline files (``../shared/interop`` or ``$TCUP_INTEROP_DIR``) and Tempest
(``tcup install-tempest``).
"""

from __future__ import annotations

import argparse
import http.server
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CAPABILITIES = ("identity-v3-*", "images-v2-*", "objectstore-*")
# --target: the capabilities each benchmark runs of the 2020.06 platform target (() for all of them)
TARGETS: dict[str, tuple[str, ...]] = {"light": CAPABILITIES, "platform": ()}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds taken by ``fn()``, and its result."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


@contextmanager
def devcloud(directory: str | None, services: str = "storage") -> Iterator[Path]:
    """An existing devcloud directory, or a fresh one stopped afterwards."""
    from tcup.devcloud import start_devcloud, stop_devcloud

    if directory:
        yield Path(directory)
        return
    root = Path(tempfile.mkdtemp(prefix="tcup-bench-devcloud-"))
    print(f"starting a devcloud in {root} ...", flush=True)
    start_devcloud(root=root, port_base=int(os.environ.get("TCUP_BENCH_PORT_BASE", "29000")), services=services)
    try:
        yield root
    finally:
        stop_devcloud(root=root)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def sink_server() -> Iterator[str]:
    """A loopback server answering every POST with 201 (the upload's network cost, no storage)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"test_id": "bench", "url": "/results/bench"}'
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def overhead(
    cloud: Path, interop: Path, stream: Path | None, capabilities: tuple[str, ...] = CAPABILITIES
) -> list[tuple[str, float]]:
    """Each step tcup runs around Tempest, in seconds."""
    from interop_model.compliance import evaluate
    from interop_model.results import RunReport
    from interop_model.wire import dumps_v1, to_v1_document
    from tcup.credentials import read_accounts_file, resolve_credentials
    from tcup.discovery import discover_cloud
    from tcup.guideline_source import load_guideline
    from tcup.reporting import scrub_outputs
    from tcup.run_flow import GuidelineTarget, Selection, _select
    from tcup.subunit_reader import read_results_file
    from tcup.tempest_config import plan_accounts, write_tempest_files
    from tcup.tempest_env import find_tempest
    from tcup.test_index import load_test_index, probe_install
    from tcup.uploader import upload_run

    rows: list[tuple[str, float]] = []
    seconds, _ = timed(
        lambda: subprocess.run([sys.executable, "-m", "tcup", "--help"], check=True, capture_output=True)
    )
    rows.append(("CLI start-up (tcup --help)", seconds))
    creds = resolve_credentials(cloud="devcloud", config_file=cloud / "etc" / "clouds.yaml")
    seconds, facts = timed(lambda: discover_cloud(creds))
    rows.append(("discovery (login, catalog, service probes)", seconds))
    seconds, env = timed(find_tempest)
    rows.append(("find Tempest", seconds))
    seconds, install = timed(lambda: probe_install(env))
    rows.append(("probe Tempest version and plugins", seconds))
    seconds, index = timed(lambda: load_test_index(env, install=install))
    rows.append((f"test index ({len(index.ids)} tests, cached)", seconds))
    seconds, guideline = timed(lambda: load_guideline(str(interop / "2020.06.json")))
    rows.append(("load guideline 2020.06", seconds))
    selection = Selection(
        guidelines=[GuidelineTarget(guideline=guideline, target="platform")], capabilities=capabilities
    )
    seconds, (ids, resolutions, _) = timed(lambda: _select(selection, index))
    rows.append((f"select and resolve ({len(ids)} tests)", seconds))
    with tempfile.TemporaryDirectory() as tmp:
        accounts = plan_accounts(creds, facts, read_accounts_file(cloud / "etc" / "accounts.yaml"))
        seconds, _ = timed(lambda: write_tempest_files(Path(tmp), facts, creds, accounts))
        rows.append(("write tempest.conf and accounts.yaml", seconds))
    if stream is not None:
        seconds, read = timed(lambda: read_results_file(stream))
        rows.append((f"read the subunit stream ({len(read.results)} tests)", seconds))
        run = RunReport(cpid=facts.cpid, duration_seconds=1, results=tuple(read.results))
        seconds, _ = timed(lambda: [evaluate(gt.guideline, gt.target, run) for gt, _, _ in resolutions])
        rows.append(("compliance evaluation", seconds))
        body = dumps_v1(to_v1_document(run))
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(stream, Path(tmp) / "tempest.subunit")
            seconds, _ = timed(lambda: scrub_outputs(Path(tmp), [creds.password.reveal()]))
            rows.append(("scrub secrets from the outputs", seconds))
        with sink_server() as url:
            seconds, _ = timed(lambda: upload_run(body, server=url))
            rows.append((f"upload ({len(body)} bytes, loopback)", seconds))
    return rows


def tcup_run(
    cloud: Path, interop: Path, output: Path, concurrency: int | None, capabilities: tuple[str, ...] = CAPABILITIES
) -> float:
    """Wall time of ``tcup run`` as a subprocess."""
    args = [
        sys.executable,
        "-m",
        "tcup",
        "run",
        "--os-cloud",
        "devcloud",
        "--os-client-config-file",
        str(cloud / "etc" / "clouds.yaml"),
        "--accounts-file",
        str(cloud / "etc" / "accounts.yaml"),
        "-g",
        str(interop / "2020.06.json"),
        "--output",
        str(output),
        "--no-progress",
    ]
    for cap in capabilities:
        args += ["-c", cap]
    if concurrency:
        args += ["--concurrency", str(concurrency)]
    seconds, proc = timed(lambda: subprocess.run(args, capture_output=True, text=True))
    if proc.returncode not in (0, 1):
        raise SystemExit(f"tcup run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return float(seconds)


def bare_tempest_run(cloud: Path, work: Path, tempest_conf_dir: Path, ids: list[str], concurrency: int) -> float:
    """Wall time of ``tempest run --concurrency N --include-list`` in a ``tempest init`` workspace."""
    from tcup.tempest_env import find_tempest

    env = find_tempest()
    workspace = work / "workspace"
    if not (workspace / ".stestr.conf").is_file():
        subprocess.run(
            [
                str(env.tempest),
                "init",
                "--workspace-path",
                str(work / "workspaces.yaml"),
                "--name",
                "bench",
                str(workspace),
            ],
            check=True,
            capture_output=True,
        )
    names = sorted({re.sub(r"\[.*\]", "", i) for i in ids})
    include = work / "include-list.txt"
    include.write_text("\n".join(f"^{re.escape(n)}(?:\\[|$)" for n in names) + "\n")
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    command = [
        str(env.tempest),
        "run",
        "--config-file",
        str(tempest_conf_dir / "etc" / "tempest.conf"),
        "--concurrency",
        str(concurrency),
        "--include-list",
        str(include),
    ]
    seconds, proc = timed(lambda: subprocess.run(command, cwd=workspace, capture_output=True, text=True, env=clean_env))
    if "Totals" not in proc.stdout:
        raise SystemExit(f"tempest run failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return float(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devcloud-dir", help="use this running devcloud instead of starting one")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each kind (median reported)")
    parser.add_argument(
        "--concurrency", default="", help="comma-separated tcup --concurrency values (default: tcup's default only)"
    )
    parser.add_argument(
        "--target",
        choices=sorted(TARGETS),
        default="light",
        help="light: identity, image and object storage (83 tests); platform: the whole 2020.06 platform target",
    )
    args = parser.parse_args()
    caps = TARGETS[args.target]
    interop = Path(os.environ.get("TCUP_INTEROP_DIR", REPO.parent / "shared" / "interop"))
    if not (interop / "2020.06.json").is_file():
        raise SystemExit(f"no guideline files in {interop}; set TCUP_INTEROP_DIR")
    cpus = os.cpu_count() or 1
    levels: list[int | None] = [int(c) for c in args.concurrency.split(",") if c] or [None]

    services = "platform" if args.target == "platform" else "storage"
    with devcloud(args.devcloud_dir, services) as cloud, tempfile.TemporaryDirectory(prefix="tcup-bench-") as tmp:
        work = Path(tmp)
        # one tcup run first: it warms the caches (test index, stestr timings) and gives the stream
        warm = work / "warm"
        tcup_run(cloud, interop, warm, None, caps)
        rows = overhead(cloud, interop, warm / "tempest.subunit", caps)
        total = sum(s for _, s in rows)
        print("\n== tcup overhead outside Tempest (goal: <= 10 s)")
        for name, seconds in rows:
            print(f"  {name:<48} {seconds:7.3f} s")
        print(f"  {'total':<48} {total:7.3f} s  {'OK' if total <= 10 else 'OVER GOAL'}")

        # the bare run uses the very tempest.conf tcup generates
        from tcup.credentials import read_accounts_file, resolve_credentials
        from tcup.discovery import discover_cloud
        from tcup.tempest_config import plan_accounts, write_tempest_files

        creds = resolve_credentials(cloud="devcloud", config_file=cloud / "etc" / "clouds.yaml")
        facts = discover_cloud(creds)
        conf_dir = work / "bare-conf"
        write_tempest_files(
            conf_dir, facts, creds, plan_accounts(creds, facts, read_accounts_file(cloud / "etc" / "accounts.yaml"))
        )
        from tcup.subunit_reader import read_results_file

        test_ids = [r.test_id for r in read_results_file(warm / "tempest.subunit").results]
        # NOTE: interleaved (bare, tcup at each level, bare, ...) so that drifting machine load hits
        # every kind of run alike; the medians are compared.
        bare: list[float] = []
        runs: dict[int | None, list[float]] = {level: [] for level in levels}
        for i in range(args.repeat):
            bare.append(bare_tempest_run(cloud, work, conf_dir, test_ids, cpus))
            for level in levels:
                runs[level].append(tcup_run(cloud, interop, work / f"run-{level}-{i}", level, caps))
        bare_median, bare_min = statistics.median(bare), min(bare)
        print(
            f"\n== wall time, interop 2020.06 {'identity/image/object' if caps else 'platform target'} "
            f"({len(test_ids)} tests), {cpus} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(f"  {'':<44} {'median':>8} {'min':>7}  runs")
        bare_label = f"bare tempest run --concurrency {cpus}"
        print(f"  {bare_label:<44} {bare_median:7.1f}s {bare_min:6.1f}s  {_all(bare)}")
        for level, times in runs.items():
            median, best = statistics.median(times), min(times)
            used = json.loads((work / f"run-{level}-0" / "summary.json").read_text())
            shape = f"{used['concurrency']} workers x {used.get('io_threads', 1)} threads"
            label = f"tcup run --concurrency {level} ({shape})" if level else f"tcup run (default: {shape})"
            print(
                f"  {label:<44} {median:7.1f}s {best:6.1f}s  {_all(times)}  ratio {median / bare_median:.2f} "
                f"(min/min {best / bare_min:.2f}) {'OK' if median <= 0.7 * bare_median else '(goal 0.70)'}"
            )
    return 0


def _all(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.1f}" for v in values) + "]"


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, line_buffering=True)
    raise SystemExit(main())
