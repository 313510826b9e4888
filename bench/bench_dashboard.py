"""Time the dashboard's pages with 100,000 runs stored: p50 and p95 render times.

Pages timed (goal: p95 at most 100 ms each): the results list (first page), a run's page
(a different public run each request, so no per-run cache helps) and the scoring page
(worksheet + next.json + pass rates over each cloud's latest public run; its first,
uncached render is printed too). For scale, also: the list filtered by cloud (indexed) and
by verification and guideline (meta keys, not indexed), and a cloud's page, cold (each of
its newest runs judged) and with its history cached.

The database is SQLite in a temporary folder (or ``--database-url``), filled directly
through the service's table mappings: rows are inserted in bulk, each run pointing at one
of a few dozen realistic test sets (the 2020.06 platform tests, some missing, plus
synthetic extra passes up to ``--tests`` per run). Building it is not timed.

Run: ``.venv/bin/python bench/bench_dashboard.py [--runs 100000] [--clouds 500] [--requests 200]``
(the interop files come from ``../shared/interop`` or ``$TCUP_INTEROP_DIR``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from interop_model import Status, load_guideline_text
from webapp import create_app
from webapp.sessions import database
from webapp.store import catalog, testsets
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--clouds", type=int, default=500)
    parser.add_argument("--tests", type=int, default=1500, help="passed tests per run")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    args = parser.parse_args()
    rng = random.Random(20200630)
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
        client = app.test_client()
        began = time.perf_counter()
        assert client.get("/scoring").status_code == 200
        cold = (time.perf_counter() - began) * 1000
        pages: list[tuple[str, Callable[[int], str]]] = [
            ("results list, page 1", lambda i: "/results"),
            ("results list, one cloud (cpid)", lambda i: f"/results?cpid=cloud-{i % args.clouds:05d}"),
            ("results list, verified + guideline", lambda i: "/results?verified=yes&guideline=2020.06.json&page=2"),
            ("run page (a different run each time)", lambda i: f"/results/{public[(i * 7919) % len(public)]}"),
            ("scoring page (cached board)", lambda i: "/scoring"),
            ("cloud page (a different cloud each time)", lambda i: f"/clouds/cloud-{i % args.clouds:05d}"),
            ("cloud page (its history cached)", lambda i: "/clouds/cloud-00001"),
        ]
        print(f"{'page':42} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU p50':>8} {'CPU p95':>8}")
        for label, paths in pages:
            wall, cpu = timed(client, paths, args.requests)
            verdict = "ok" if p95(wall) <= 100 else "over 100 ms"
            print(
                f"{label:42} {statistics.median(wall):8.1f} {p95(wall):8.1f} {max(wall):8.1f} "
                f"{statistics.median(cpu):8.1f} {p95(cpu):8.1f}  {verdict}"
            )
        print(f"{'scoring page, first (uncached) render':42} {cold:8.1f}")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        database(app).engine.dispose()


if __name__ == "__main__":
    main()
