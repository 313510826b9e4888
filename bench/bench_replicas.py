"""Upload throughput of the collector with 1, 2 and 4 replicas over one PostgreSQL, behind haproxy.

Not a test: a script that prints figures::

    .venv/bin/python bench/bench_replicas.py [--replicas 1 2 4] [--workers 1] [--uploaders 32] [--uploads 20]

Each replica is a separate ``tcup-server serve`` process (its own gunicorn master and
``--workers`` workers), as separate hosts or containers would be; haproxy balances round
robin (tests/replicas.py). Every count starts on a fresh database. The figures depend on the
machine: with fewer cores than replicas, more replicas only add processes competing for them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import pg_fixtures  # noqa: E402
from tests.replicas import REPLICA_HEADER, request, serve_replicas, upload_body  # noqa: E402


def measure(server: pg_fixtures.PostgresServer, count: int, workers: int, uploaders: int, uploads: int) -> str:
    url = server.create_database()
    with tempfile.TemporaryDirectory(prefix="tcup-bench-replicas-") as tmp:
        with serve_replicas(url, count, Path(tmp), workers=workers) as replicas:
            for n in range(4):  # warm each replica's caches and connections
                request(replicas.port, "POST", "/v1/results/", upload_body(99, n))

            def uploader(u: int) -> list[str]:
                served = []
                for n in range(uploads):
                    status, headers, body = request(replicas.port, "POST", "/v1/results/", upload_body(u, n))
                    if status != 201:
                        raise RuntimeError(f"upload refused: {status} {body[:200]!r}")
                    json.loads(body)
                    served.append(headers[REPLICA_HEADER])
                return served

            started = time.monotonic()
            with ThreadPoolExecutor(uploaders) as pool:
                served = [r for batch in pool.map(uploader, range(uploaders)) for r in batch]
            elapsed = time.monotonic() - started
    total = uploaders * uploads
    spread = ", ".join(f"{k} {v}" for k, v in sorted(Counter(served).items()))
    return (
        f"{count} replica{'s' if count > 1 else ' '} x {workers} worker{'s' if workers > 1 else ''}: "
        f"{total} uploads in {elapsed:6.1f} s = {total / elapsed:6.1f} uploads/s   ({spread})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per replica")
    parser.add_argument("--uploaders", type=int, default=32)
    parser.add_argument("--uploads", type=int, default=20, help="uploads per uploader")
    args = parser.parse_args()
    server = pg_fixtures.acquire_postgres()
    try:
        print(f"{os.cpu_count()} CPUs; {args.uploaders} uploaders x {args.uploads} uploads of 25 tests each")
        for count in args.replicas:
            print(measure(server, count, args.workers, args.uploaders, args.uploads), flush=True)
    finally:
        pg_fixtures.release_postgres()


if __name__ == "__main__":
    main()
