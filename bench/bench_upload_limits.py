"""Time an upload at the largest size the service allows, and what it adds to the database.

Not a test: a script that prints figures::

    .venv/bin/python bench/bench_upload_limits.py                       # SQLite in a temporary folder
    .venv/bin/python bench/bench_upload_limits.py --database-url postgresql://user@host/db

Each upload lists ``MAX_RESULTS_PER_UPLOAD`` results whose names are all new and
``MAX_TEST_NAME_LENGTH`` characters long (with an idempotent id each): the most new test
names one upload may add. It goes through the real app and its store (Flask's test client:
no network, so the figure is the service's own time). Then one more result is sent, to show
the bound's 400.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from webapp import create_app  # noqa: E402
from webapp.sessions import database  # noqa: E402
from webapp.store import runs  # noqa: E402


def body(count: int, length: int, tag: str) -> bytes:
    """A v1 document of ``count`` new names of exactly ``length`` characters."""
    results = []
    for i in range(count):
        stem = f"tempest.api.bench{tag}.T.test_{i:06d}_"
        results.append({"name": stem + "x" * (length - len(stem)), "uuid": str(uuid.uuid4())})
    return json.dumps({"cpid": f"bench-{tag}", "duration_seconds": 1, "results": results}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--uploads", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="tcup-bench-")
    app = create_app({"DATABASE_URL": args.database_url or f"sqlite:///{folder}/bench.sqlite"})
    count, length = int(app.config["MAX_RESULTS_PER_UPLOAD"]), int(app.config["MAX_TEST_NAME_LENGTH"])
    client = app.test_client()
    timings = []
    for n in range(args.uploads):
        data = body(count, length, f"{n}-{uuid.uuid4().hex[:6]}")
        started = time.perf_counter()
        answer = client.post("/v1/results/", data=data, content_type="application/json")
        timings.append(time.perf_counter() - started)
        assert answer.status_code == 201, answer.get_json()
        print(f"upload {n + 1}: {count} new names of {length} chars, {len(data) / 2**20:.1f} MiB: {timings[-1]:.2f} s")
    print(f"median {statistics.median(timings):.2f} s, max {max(timings):.2f} s (target: <= 5 s)")
    over = client.post("/v1/results/", data=body(count + 1, 40, "over"), content_type="application/json")
    print(f"{count + 1} results: {over.status_code} {over.get_json()['title']}")
    with database(app).sessions() as sess:
        print(f"public runs: {runs.recount(sess)}")
    if not args.database_url:
        size = sum(p.stat().st_size for p in Path(folder).iterdir())
        print(f"SQLite files: {size / 2**20:.1f} MiB for {args.uploads} such uploads")
    database(app).engine.dispose()


if __name__ == "__main__":
    main()
