"""Benchmark the OpenStack Powered registry: 10,000 vendors, 20,000 products, 100,000 runs.

Not a test: a script that prints figures::

    .venv/bin/python bench/bench_registry.py                       # SQLite in a temporary folder
    .venv/bin/python bench/bench_registry.py --postgresql                          # a throwaway PostgreSQL
    .venv/bin/python bench/bench_registry.py --database-url postgresql://postgres@127.0.0.1:5432/bench

The data are bulk-inserted at the collector's newest schema: vendors of every state (a third
official), two products each (the official vendors' mostly public), a default version and a
version with a cpid per product, and runs of which 60 % are attached to a product version and
a fifth of those verified with a guideline and a target. Runs carry no test data here: no
timed request reads it. Requests go through the app (Flask's test client, as
``bench_dashboard.py`` does), after one warm-up request each; the first request after a
change, which rebuilds the cached registry, is timed apart.

Targets (issue 11): the registry page and the product list API p95 <= 50 ms, a badge <= 10 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from webapp import create_app  # noqa: E402
from webapp.sessions import database  # noqa: E402
from webapp.store import accounts, products, runs, vendors  # noqa: E402
from webapp.store.tables import (  # noqa: E402
    Group,
    GroupMember,
    Organization,
    Product,
    ProductVersion,
    Run,
    User,
)

GUIDELINES = ("2020.06.json", "2019.11.json", "2019.06.json")
TARGETS = ("platform", "compute", "object")


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def fill(app: Any, n_vendors: int, n_products: int, n_runs: int, rng: random.Random) -> dict[str, Any]:
    """Insert the registry and the runs; return ids the timed requests use."""
    start = datetime(2021, 1, 1)
    with database(app).sessions() as sess:
        sess.execute(
            insert(User), [{"id": i, "openid": f"vendor-{i}", "created_at": start} for i in range(1, n_vendors + 1)]
        )
        sess.execute(
            insert(Group), [{"id": 1000 + i, "name": f"vendor {i}", "kind": "vendor"} for i in range(1, n_vendors + 1)]
        )
        sess.execute(insert(GroupMember), [{"group_id": 1000 + i, "user_id": i} for i in range(1, n_vendors + 1)])
        vendor_rows, vendor_type = [], {}
        for i in range(1, n_vendors + 1):
            kind = rng.choices((vendors.OFFICIAL, vendors.PRIVATE, vendors.PENDING), (33, 57, 10))[0]
            vendor_id = uid(rng)
            vendor_type[i] = (vendor_id, kind)
            vendor_rows.append(
                {
                    "id": vendor_id,
                    "type": kind,
                    "name": f"Vendor {i:05d}",
                    "description": "bench",
                    "group_id": 1000 + i,
                    "created_by": i,
                    "created_at": start + timedelta(minutes=i),
                }
            )
        sess.execute(insert(Organization), vendor_rows)
        product_rows: list[dict[str, Any]] = []
        version_rows: list[dict[str, Any]] = []
        versions: list[tuple[str | None, str | None, bool]] = []
        public_products: list[tuple[str, int]] = []
        own_products: list[tuple[str, int]] = []
        for n in range(n_products):
            owner = n % n_vendors + 1
            vendor_id, kind = vendor_type[owner]
            public = kind == vendors.OFFICIAL and rng.random() < 0.7
            product_id = uid(rng)
            product_type = rng.choice(products.PRODUCT_TYPES)
            product_rows.append(
                {
                    "id": product_id,
                    "name": f"Product {n:05d}",
                    "organization_id": vendor_id,
                    "created_by": owner,
                    "public": public,
                    "type": 1 if product_type == 0 else 0,
                    "product_type": product_type,
                    "created_at": start + timedelta(minutes=n),
                }
            )
            (public_products if public else own_products).append((product_id, owner))
            for version, cpid in ((None, None), ("2024.1", f"cloud-{n:05d}")):
                version_id = uid(rng)
                version_rows.append(
                    {
                        "id": version_id,
                        "product_id": product_id,
                        "version": version,
                        "cpid": cpid,
                        "created_by": owner,
                        "created_at": start,
                    }
                )
                versions.append((version_id, vendor_id, public))
        sess.execute(insert(Product), product_rows)
        sess.execute(insert(ProductVersion), version_rows)
        batch: list[dict[str, Any]] = []
        for pk in range(1, n_runs + 1):
            attached = rng.random() < 0.6
            chosen: tuple[str | None, str | None, bool] = (None, None, False)
            if attached:
                chosen = versions[rng.randrange(len(versions))]
            verified = attached and rng.random() < 0.2
            meta = {"shared": "true", "guideline": rng.choice(GUIDELINES), "target": rng.choice(TARGETS)}
            if not verified and rng.random() < 0.5:
                meta = {}
            batch.append(
                {
                    "pk": pk,
                    "id": uid(rng),
                    "cpid": f"cloud-{rng.randrange(n_products):05d}",
                    "created_at": start + timedelta(minutes=5 * pk),
                    "duration_seconds": 1800,
                    "verification_status": int(verified),
                    "signed": False,
                    "shared": "shared" in meta,
                    "public": True,
                    "meta": meta,
                    "test_count": 1500,
                    "has_extended": False,
                    "product_version_id": chosen[0],
                    "vendor_id": chosen[1],
                }
            )
            if len(batch) == 5000 or pk == n_runs:
                sess.execute(insert(Run), batch)
                batch = []
        sess.commit()
        runs.recount(sess)
        products.registry_changed(sess)
        admin = own_products[0][1]
        token = accounts.issue_token(sess, admin)
    return {"public": [p for p, _ in public_products], "admin_token": token}


def timed(client: Any, paths: Callable[[int], str], count: int, headers: dict[str, str]) -> list[float]:
    """Wall-clock milliseconds of ``count`` GETs, after one warm-up request."""
    assert client.get(paths(0), headers=headers).status_code == 200
    wall = []
    for i in range(count):
        began = time.perf_counter()
        response = client.get(paths(i + 1), headers=headers)
        wall.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (paths(i + 1), response.status_code)
    return wall


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case")
    parser.add_argument("--database-url", help="an empty database; default: SQLite in a temporary folder")
    parser.add_argument(
        "--postgresql", action="store_true", help="a throwaway PostgreSQL (tests/pg_fixtures.py) instead of SQLite"
    )
    args = parser.parse_args()
    rng = random.Random(20200630)
    url = args.database_url
    if args.postgresql:
        from tests.pg_fixtures import acquire_postgres

        url = acquire_postgres().create_database()  # stopped when this process exits
    with tempfile.TemporaryDirectory(prefix="tcup-bench-registry-") as tmp:
        app = create_app({"DATABASE_URL": url or f"sqlite:///{tmp}/bench.sqlite"})
        began = time.perf_counter()
        ids = fill(app, args.vendors, args.products, args.runs, rng)
        public = ids["public"]
        print(
            f"stored {args.vendors:,} vendors, {args.products:,} products ({len(public):,} public), "
            f"{args.runs:,} runs in {time.perf_counter() - began:.0f} s ({database(app).dialect})"
        )
        client = app.test_client()
        cold = {}
        for label, path in (("registry page", "/registry"), ("product list API", "/v1/products")):
            with database(app).sessions() as sess:
                products.registry_changed(sess)  # as after any change: the cache is rebuilt
            began = time.perf_counter()
            assert client.get(path).status_code == 200
            cold[label] = (time.perf_counter() - began) * 1000
        vendor = {"Authorization": f"Bearer {ids['admin_token']}"}
        cases: list[tuple[str, Callable[[int], str], dict[str, str], float]] = [
            ("registry page", lambda i: "/registry", {}, 50),
            ("registry page, page 20", lambda i: "/registry?page=20", {}, 50),
            ("registry page, type + guideline", lambda i: "/registry?type=1&guideline=2020.06", {}, 50),
            ("product list API, anonymous", lambda i: "/v1/products", {}, 50),
            ("product list API, a vendor admin", lambda i: "/v1/products", vendor, 50),
            (
                "badge (a different product each time)",
                lambda i: f"/products/{public[(i * 7919) % len(public)]}/badge.svg",
                {},
                10,
            ),
        ]
        print(f"{'case':40} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  target")
        for label, paths, headers, target in cases:
            wall = timed(client, paths, args.requests, headers)
            verdict = "ok" if p95(wall) <= target else "OVER"
            figures = f"{statistics.median(wall):8.1f} {p95(wall):8.1f} {max(wall):8.1f}"
            print(f"{label:40} {figures}  p95 <= {target:.0f} ms {verdict}")
        for label, ms in cold.items():
            print(f"{label + ', first request after a change':40} {ms:8.1f}")
        database(app).engine.dispose()


if __name__ == "__main__":
    main()
