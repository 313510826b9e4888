"""Time the dashboard's pages with 100,000 runs stored: p50 and p95 render times.

Pages timed (goal: p95 at most 100 ms each): the results list (first page), a run's page (a
different public run each request, so no per-run cache helps) and the scoring page (worksheet +
next.json + pass rates over each cloud's latest public run, cached). Also: the list filtered by
cloud, by guideline, by target and by verification (goal: p95 at most 50 ms), a cloud's page,
first view (each of its newest runs judged; goal 100 ms) and with its history cached. The
guideline filter is also timed as a query in its former shape (reading the JSON ``meta``)
beside the store's, in the same run, so the ratio holds on a busy machine.

The scoring page uncached (goal 300 ms): its first render in the bench's own process (which
imports the scoring engine, pandas, on the way), then as ``tcup-server serve`` gives it, over
HTTP with one worker, with the engine preloaded (the default) and without: the first render
of a fresh worker, the render after an upload (the board recomputed), the start-up time, and
the memory (PSS) of master and worker.

Last, the storage per run: the bytes the ``runs`` and ``run_tests`` tables take, with their
indexes (on PostgreSQL, ``pg_total_relation_size``), divided by the runs stored, beside the
ids' own size (4 bytes per passed test).

The database is SQLite in a temporary folder, ``--postgres`` (a throwaway PostgreSQL
cluster, started as the tests start one) or ``--database-url``, filled directly through
the service's table mappings: rows are inserted in bulk, each run pointing at one of a few
dozen realistic test sets (the 2020.06 platform tests, some missing, plus synthetic extra
passes up to ``--tests`` per run). Building it is not timed.

Run: ``.venv/bin/python bench/bench_dashboard.py [--runs 100000] [--clouds 500] [--requests 200] [--postgres]``
(the interop files come from ``../shared/interop`` or ``$TCUP_INTEROP_DIR``).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from interop_model import Status, load_guideline_text
from webapp import create_app
from webapp.sessions import database
from webapp.store import catalog, testsets
from webapp.store import runs as store_runs
from webapp.store.accounts import ANONYMOUS
from webapp.store.tables import Run, RunTests

REPO = Path(__file__).resolve().parent.parent
INTEROP = Path(os.environ.get("TCUP_INTEROP_DIR", REPO.parent / "shared" / "interop"))
FILES = ("2020.06.json", "2019.11.json", "next.json", "add-ons/dns.2020.06.json", "working_materials/scoring.txt")
TEST_SETS = 40


def test_sets(count: int, size: int, rng: random.Random) -> list[list[tuple[str, str | None]]]:
    """``count`` passed-test lists: the 2020.06 platform tests (a few missing) plus extra passes."""
    guideline = load_guideline_text((INTEROP / "2020.06.json").read_text(), source="2020.06.json")
    entries = [(e.name, str(e.uuid) if e.uuid else None) for _, e in guideline.entries_for("platform")]
    required = {e.name for _, e in guideline.entries_for("platform", [Status.REQUIRED])}
    extra = [
        (f"tempest.api.extra.test_mod{i // 50:03d}.Tests.test_{i:05d}", str(uuid.UUID(int=i + 1)))
        for i in range(size * 2)
    ]
    sets = []
    for n in range(count):
        drop = set(rng.sample(sorted(required), k=n % 6))  # a few sets are compliant, others miss 1-5 tests
        chosen = [c for c in entries if c[0] not in drop]
        sets.append(sorted(set(chosen + rng.sample(extra, k=max(size - len(chosen), 0)))))
    return sets


def fill(app: object, runs: int, clouds: int, tests: int, rng: random.Random) -> list[str]:
    """Insert ``runs`` runs over ``clouds`` cpids; return the public runs' ids."""
    with database(app).sessions() as sess:  # type: ignore[arg-type]
        packed = [testsets.pack_ids(testsets.resolve_cases(sess, s)) for s in test_sets(TEST_SETS, tests, rng)]
        sizes = [len(testsets.unpack_ids(p)) for p in packed]
        start = datetime(2021, 1, 1)
        public_ids: list[str] = []
        batch_runs: list[dict[str, object]] = []
        batch_tests: list[dict[str, object]] = []
        for pk in range(1, runs + 1):
            signed = rng.random() < 0.3
            shared = signed and rng.random() < 0.5
            meta = {"guideline": "2020.06.json", "target": "platform"} if rng.random() < 0.4 else {}
            if shared:
                meta["shared"] = "true"
            which = rng.randrange(TEST_SETS)
            run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            public = not signed or shared
            if public:
                public_ids.append(run_id)
            batch_runs.append(
                {
                    "pk": pk,
                    "id": run_id,
                    "cpid": f"cloud-{rng.randrange(clouds):05d}",
                    "created_at": start + timedelta(minutes=15 * pk),
                    "duration_seconds": 1800,
                    "verification_status": int(shared and rng.random() < 0.2),
                    "owner_id": None,
                    "pubkey_id": None,
                    "signed": signed,
                    "shared": shared,
                    "public": public,
                    "meta": meta,
                    "body_sha256": None,
                    "test_count": sizes[which],
                    "has_extended": False,
                    "meta_guideline": store_runs.filter_value(meta.get("guideline")),
                    "meta_target": store_runs.filter_value(meta.get("target")),
                }
            )
            batch_tests.append({"run_pk": pk, "packed": packed[which]})
            if len(batch_runs) == 5000 or pk == runs:
                sess.execute(insert(Run), batch_runs)
                sess.execute(insert(RunTests), batch_tests)
                sess.commit()
                batch_runs, batch_tests = [], []
    return public_ids


def timed(client: object, paths: Callable[[int], str], count: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of ``count`` GETs, after one warm-up request.

    CPU time (this process's) leaves out the time spent waiting for a core, so it shows the
    pages' own cost on a busy machine; wall-clock time is what a user waits.
    """
    get = client.get  # type: ignore[attr-defined]
    assert get(paths(0)).status_code == 200
    wall, cpu = [], []
    for i in range(count):
        began, began_cpu = time.perf_counter(), time.process_time()
        response = get(paths(i + 1))
        cpu.append((time.process_time() - began_cpu) * 1000)
        wall.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (paths(i + 1), response.status_code)
    return wall, cpu


def p95(times: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(times, n=20)[-1]


def storage_per_run(app: object, runs: int) -> tuple[float, int]:
    """Bytes per run of ``runs`` and ``run_tests`` with their indexes, and the test cases' bytes."""
    if database(app).dialect == "postgresql":  # type: ignore[arg-type]
        query = "SELECT pg_total_relation_size(:t)"
    else:  # SQLite's dbstat table: the pages of a table and of its indexes
        query = "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = :t)"
    with database(app).sessions() as sess:  # type: ignore[arg-type]
        size = {t: int(sess.scalar(text(query), {"t": t}) or 0) for t in ("runs", "run_tests", "test_cases")}
    return (size["runs"] + size["run_tests"]) / runs, size["test_cases"]


def served_scoring(url: str, preload: bool, workers: int = 1) -> dict[str, float]:
    """The scoring page as ``tcup-server serve`` gives it: seconds to start, the first render
    (with one worker: a fresh worker, nothing of the board cached), a render after an upload
    (the board is recomputed), and the proportional memory (PSS, MiB) of master and workers once
    started (after a few list requests) and after 8 scoring pages per worker."""
    import json
    import signal
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TCUP_SCORING_PRELOAD": json.dumps(preload),
        "TCUP_REQUEST_LOG": "false",
        "TCUP_AUTO_MIGRATE": "false",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [sys.executable, "-m", "webapp.cli", "serve", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
    began = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)

    def get(path: str) -> float:
        start = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=60) as answer:
            answer.read()
        return (time.perf_counter() - start) * 1000

    try:
        while True:
            try:
                get("/readyz")
                break
            except OSError:
                if process.poll() is not None or time.perf_counter() - began > 120:
                    raise SystemExit("tcup-server serve did not start") from None
                time.sleep(0.05)
        started = time.perf_counter() - began
        for _ in range(4 * workers):
            get("/results")
        pss_started = sum(_pss_kib(pid) for pid in [process.pid, *_children(process.pid)]) / 1024
        first = get("/scoring")
        body = json.dumps({"cpid": "cloud-new", "duration_seconds": 1, "results": [{"name": "tempest.api.x.T.test"}]})
        request = urllib.request.Request(
            base + "/v1/results", data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
        changed = get("/scoring")
        for _ in range(8 * workers):  # a new connection each: the workers take turns, more or less
            get("/scoring")
        pss = sum(_pss_kib(pid) for pid in [process.pid, *_children(process.pid)]) / 1024
        return {"start": started, "first": first, "changed": changed, "pss_started": pss_started, "pss": pss}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _pss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def load() -> str:
    """The load averages (1, 5, 15 minutes) and the cores."""
    return f"{' '.join(f'{v:.1f}' for v in os.getloadavg())} on {os.cpu_count()} cores"


def filtered_query_ms(app: object, old_shape: bool, count: int) -> list[float]:
    """Milliseconds of page 2 and the count of the public runs whose guideline is 2020.06, as a query."""
    times = []
    filters = store_runs.RunFilters(guideline="2020.06.json")
    spellings = ["2020.06", "2020.06.json"]
    order = (Run.created_at.desc(), Run.pk.desc())
    with database(app).sessions() as sess:  # type: ignore[arg-type]
        for _ in range(count):
            began = time.perf_counter()
            if old_shape:
                where = (Run.public.is_(True), Run.meta["guideline"].as_string().in_(spellings))
                list(sess.scalars(select(Run).where(*where).order_by(*order).offset(20).limit(20)))
                sess.scalar(select(func.count()).select_from(Run).where(*where))
            else:
                store_runs.list_runs(sess, ANONYMOUS, filters, offset=20, limit=20)
                store_runs.count_runs(sess, ANONYMOUS, filters)
            times.append((time.perf_counter() - began) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--clouds", type=int, default=500)
    parser.add_argument("--tests", type=int, default=1500, help="passed tests per run")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster (Debian's)")
    args = parser.parse_args()
    logging.getLogger("tcup.requests").disabled = True  # one JSON line per request would drown the figures
    server = None
    if args.postgres:
        from tests.pg_fixtures import acquire_postgres

        server = acquire_postgres()
        args.database_url = server.create_database("tcup_bench")
    try:
        run(args)
    finally:
        if server is not None:
            from tests.pg_fixtures import release_postgres

            release_postgres()


def run(args: argparse.Namespace) -> None:
    """Fill the database, then time the pages and print the figures."""
    rng = random.Random(20200630)
    print(f"load average at the start: {load()}")
    with tempfile.TemporaryDirectory(prefix="tcup-bench-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
        folder = Path(tmp) / "interop"
        for name in FILES:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).symlink_to(INTEROP / name)
        app = create_app({"DATABASE_URL": url})
        with database(app).sessions() as sess:
            catalog.import_guidelines(sess, folder)
        began = time.perf_counter()
        public = fill(app, args.runs, args.clouds, args.tests, rng)
        print(
            f"stored {args.runs:,} runs ({len(public):,} public) over {args.clouds} clouds, "
            f"about {args.tests} passed tests each, in {time.perf_counter() - began:.0f} s "
            f"({database(app).dialect})"
        )
        if database(app).dialect == "postgresql":
            with database(app).engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # the rows were inserted with their keys: move the sequence past them for later uploads
                conn.execute(text("SELECT setval(pg_get_serial_sequence('runs', 'pk'), (SELECT max(pk) FROM runs))"))
                conn.execute(text("VACUUM ANALYZE"))
        client = app.test_client()
        began, began_cpu = time.perf_counter(), time.process_time()
        assert client.get("/scoring").status_code == 200
        cold, cold_cpu = (time.perf_counter() - began) * 1000, (time.process_time() - began_cpu) * 1000
        pages: list[tuple[str, Callable[[int], str]]] = [
            ("results list, page 1", lambda i: "/results"),
            ("results list, one cloud (cpid)", lambda i: f"/results?cpid=cloud-{i % args.clouds:05d}"),
            ("results list, guideline", lambda i: "/results?guideline=2020.06.json&page=2"),
            ("results list, target", lambda i: "/results?target=platform&page=2"),
            ("results list, verified", lambda i: "/results?verified=yes&page=2"),
            ("results list, verified + guideline", lambda i: "/results?verified=yes&guideline=2020.06.json&page=2"),
            ("run page (a different run each time)", lambda i: f"/results/{public[(i * 7919) % len(public)]}"),
            ("scoring page (cached board)", lambda i: "/scoring"),
            ("cloud page, first view (a new cloud each time)", lambda i: f"/clouds/cloud-{i % args.clouds:05d}"),
            ("cloud page (its history cached)", lambda i: "/clouds/cloud-00001"),
        ]
        print(f"{'page':48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU p50':>8} {'CPU p95':>8}")
        figures: dict[str, float] = {}
        for label, paths in pages:
            wall, cpu = timed(
                client, paths, min(args.requests, args.clouds - 1) if "first view" in label else args.requests
            )
            figures[label] = p95(wall)
            goal = 50 if label.startswith("results list,") and "page 1" not in label else 100
            verdict = "ok" if p95(wall) <= goal else f"over {goal} ms"
            print(
                f"{label:48} {statistics.median(wall):8.1f} {p95(wall):8.1f} {max(wall):8.1f} "
                f"{statistics.median(cpu):8.1f} {p95(cpu):8.1f}  {verdict}"
            )
        print(
            f"{'scoring page, first render in this process':48} {cold:8.1f} {'':8} {'':8} {cold_cpu:8.1f} {'':8}  "
            "(imports the scoring engine: what serve's preload saves)"
        )
        served = {preload: served_scoring(url, preload) for preload in (True, False)}
        four = {preload: served_scoring(url, preload, workers=4) for preload in (True, False)}
        for preload, figures_served in served.items():
            label = "preloaded" if preload else "not preloaded"
            print(
                f"served ({label:13}): start {figures_served['start']:.1f} s, first scoring render "
                f"{figures_served['first']:.0f} ms, after an upload {figures_served['changed']:.0f} ms; "
                f"PSS, master + 1 worker: {figures_served['pss_started']:.0f} MiB started, "
                f"{figures_served['pss']:.0f} MiB after scoring; master + 4 workers: "
                f"{four[preload]['pss_started']:.0f} MiB started, {four[preload]['pss']:.0f} MiB after scoring"
            )
        first_served = served[True]["first"]
        old = filtered_query_ms(app, True, 30)
        new = filtered_query_ms(app, False, 30)
        print(
            f"guideline filter as a query, page 2 + count: p95 {p95(old):.1f} ms reading meta, "
            f"{p95(new):.1f} ms reading the indexed column ({p95(old) / p95(new):.1f}x)"
        )
        per_run, cases = storage_per_run(app, args.runs)
        print(
            f"storage: {per_run:,.0f} bytes per run (runs + run_tests, indexes included), "
            f"the ids' own size {4 * args.tests:,} bytes; test cases {cases:,} bytes in all"
        )
        filtered = max(v for k, v in figures.items() if k.startswith("results list,") and "page 1" not in k)
        print(
            f"summary: filtered lists p95 {filtered:.1f} ms (goal 50), cloud page first view p95 "
            f"{figures['cloud page, first view (a new cloud each time)']:.1f} ms (goal 100), first scoring render "
            f"as served {first_served:.0f} ms, after an upload {served[True]['changed']:.0f} ms (goal 300), "
            f"{per_run:,.0f} bytes per run"
        )
        print(f"load average at the end: {load()}")
        database(app).engine.dispose()


if __name__ == "__main__":
    main()
