"""Benchmark the collector against RefStack 2.1.0, side by side, with 100,000 runs stored.

Not a test: a script that prints figures (and writes JSON with ``--out``)::

    .venv/bin/python bench/bench_webapp.py                 # both servers (RefStack set up on demand)
    .venv/bin/python bench/bench_webapp.py --skip-refstack # ours only

What it does, all on loopback:

1. **Ours**: a throwaway PostgreSQL (``tests/pg_fixtures.py``), 100,000 runs bulk-loaded
   with ``COPY`` (every run with 1,500 passed tests, stored as our schema stores them),
   then ``tcup-server serve --workers 4``.
2. **RefStack 2.1.0** from PyPI in its own venv with MariaDB, through the shared peer
   scripts (``../shared/tools/refstack-peer``: setup.sh, start.sh, stop.sh), seeded with
   100,000 runs by ``LOAD DATA``. NOTE: 150 million test rows would take far too long to
   load here, so only the newest ``--full-runs`` RefStack runs (the pages and runs the
   phases read) carry all 1,500 test rows; older ones carry ``--light-tests`` rows. That
   makes RefStack's tables smaller than real ones, which can only flatter RefStack.
3. The same phases against both, using the peer's ``load.py`` (imported, not copied):
   upload of a 1,500-test document (req/s and server CPU ms per request, the server's
   processes and its database included), the results list (pages 1..``--list-pages``),
   one run, and a compliance report (ours: one GET of ``/compliance``; RefStack: the run
   plus the guideline's test list, intersected as its UI did). Latencies come from a
   sequential pass (concurrency 1), throughput from ``--concurrency`` clients.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PEER = Path(os.environ.get("REFSTACK_PEER_TOOLS", REPO.parent / "shared" / "tools" / "refstack-peer"))
INTEROP = Path(os.environ.get("TCUP_INTEROP_DIR", REPO.parent / "shared" / "interop"))
GUIDELINE = "2020.06"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def load_peer_module() -> ModuleType:
    """The peer's load.py, imported from the shared tools (never copied)."""
    spec = importlib.util.spec_from_file_location("refstack_peer_load", PEER / "load.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {PEER / 'load.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def required_tests() -> list[str]:
    """The platform required list of the guideline, as load.py builds its payload from it."""
    from interop_model import Status, load_guideline_text

    guideline = load_guideline_text((INTEROP / f"{GUIDELINE}.json").read_bytes(), source=GUIDELINE)
    return guideline.test_list("platform", statuses=[Status.REQUIRED])


# -- seeding ---------------------------------------------------------------------------------


class Seed:
    """The 100,000 runs both servers get: cpids, times, signed/shared flags, test sets."""

    def __init__(self, runs: int, tests: int, load: ModuleType, seed: int = 7) -> None:
        rnd = random.Random(seed)
        self.rnd = rnd
        self.runs = runs
        base = load.make_names(tests, 1, required_tests())  # the names load.py uploads
        extra = load.make_names(tests * 2, 99, [])[tests:]  # more names, other services
        self.pool: list[tuple[str, str | None]] = list(dict.fromkeys(base + extra))
        self.tests = tests
        start = datetime(2016, 1, 1)
        self.rows = []
        for i in range(runs):
            created = start + timedelta(seconds=int(i * (8 * 365 * 86400 / runs)))
            kind = rnd.random()
            signed = kind < 0.3
            shared = signed and kind < 0.2
            run_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            self.rows.append(
                (
                    i + 1,
                    run_id,
                    f"cloud-{rnd.randrange(500):03d}",
                    created,
                    rnd.randint(600, 9000),
                    signed,
                    shared,
                    i % 200,
                )
            )
        self.sets = [sorted(rnd.sample(range(len(self.pool)), tests)) for _ in range(200)]


def seed_ours(url: str, seed: Seed) -> dict[str, Any]:
    """Bulk-load the runs into our schema with COPY; returns the ids the phases read."""
    import psycopg
    from sqlalchemy.engine import make_url
    from sqlalchemy.orm import Session

    from webapp import signatures
    from webapp.store import accounts, testsets
    from webapp.store.database import make_engine, upgrade_database
    from webapp.store.tables import TestCase  # noqa: F401  (schema)

    engine = make_engine(url)
    upgrade_database(engine)
    with Session(engine) as sess:
        ids = testsets.resolve_cases(sess, seed.pool)
        user = accounts.create_user(sess, openid="bench-owner")
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        line = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
        record = accounts.add_pubkey(sess, user.id, signatures.parse_public_key(line))
    engine.dispose()
    packed = [testsets.pack_ids(ids[i] for i in chosen) for chosen in seed.sets]
    parts = make_url(url)
    started = time.monotonic()
    with psycopg.connect(host=parts.host, port=parts.port, user=parts.username, dbname=parts.database) as conn:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY runs (pk, id, cpid, created_at, duration_seconds, verification_status, owner_id, "
                "pubkey_id, signed, shared, public, meta, test_count, has_extended) FROM STDIN"
            ) as copy:
                for pk, run_id, cpid, created, duration, signed, shared, _ in seed.rows:
                    meta: dict[str, str] = {}
                    if signed:
                        meta["user"] = "bench-owner"
                    if shared:
                        meta.update(shared="true", guideline=f"{GUIDELINE}.json", target="platform")
                    copy.write_row(
                        (
                            pk,
                            run_id,
                            cpid,
                            created,
                            duration,
                            0,
                            user.id if signed else None,
                            record.id if signed else None,
                            signed,
                            shared,
                            (not signed) or shared,
                            json.dumps(meta),
                            seed.tests,
                            False,
                        )
                    )
            with cur.copy("COPY run_tests (run_pk, packed) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "bytea"])
                for pk, *_rest, set_no in seed.rows:
                    copy.write_row((pk, packed[set_no]))
            cur.execute("SELECT setval(pg_get_serial_sequence('runs', 'pk'), (SELECT max(pk) FROM runs))")
            cur.execute("UPDATE run_counts SET count = (SELECT count(*) FROM runs WHERE public) WHERE name = 'public'")
            cur.execute("ANALYZE")
        conn.commit()
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    newest = [r[1] for r in seed.rows if (not r[5]) or r[6]][-2000:]
    log(f"ours: {seed.runs} runs loaded in {time.monotonic() - started:.0f} s; database {size / 2**20:.0f} MiB")
    return {"newest_public": newest, "db_bytes": size}


def seed_refstack(peer_dir: Path, seed: Seed, *, full_runs: int, light_tests: int) -> list[str]:
    """Bulk-load the runs into RefStack's MariaDB (see the module docstring for the NOTE)."""
    sock = peer_dir / "run" / "mysql.sock"
    data = peer_dir / "bench-seed"
    data.mkdir(exist_ok=True)
    started = time.monotonic()
    public: list[str] = []
    with (
        (data / "test.tsv").open("w") as tests,
        (data / "results.tsv").open("w") as results,
        (data / "meta.tsv").open("w") as metas,
    ):
        full_from = seed.runs - full_runs
        for index, (_pk, run_id, cpid, created, duration, signed, shared, set_no) in enumerate(seed.rows):
            stamp = created.strftime("%Y-%m-%d %H:%M:%S")
            tests.write(f"{run_id}\t{cpid}\t{duration}\t{stamp}\t{stamp}\t0\n")
            chosen = seed.sets[set_no] if index >= full_from else seed.sets[set_no][:light_tests]
            for case in chosen:
                name, uid = seed.pool[case]
                results.write(f"{run_id}\t{name}\t{uid or chr(92) + 'N'}\t{stamp}\n")
            if signed:
                metas.write(f"{run_id}\tuser\ttest-open-id\t{stamp}\n")
            if shared:
                metas.write(f"{run_id}\tshared\ttrue\t{stamp}\n")
            if (not signed or shared) and index >= full_from:
                public.append(run_id)
    sql = f"""
SET unique_checks=0; SET foreign_key_checks=0;
LOAD DATA LOCAL INFILE '{data / "test.tsv"}' INTO TABLE test
  (id, cpid, duration_seconds, created_at, updated_at, verification_status);
LOAD DATA LOCAL INFILE '{data / "results.tsv"}' INTO TABLE results (test_id, name, uuid, created_at);
LOAD DATA LOCAL INFILE '{data / "meta.tsv"}' INTO TABLE meta (test_id, meta_key, value, created_at);
SET unique_checks=1; SET foreign_key_checks=1;
"""
    subprocess.run(
        ["mariadb", "--no-defaults", "--local-infile=1", "-S", str(sock), "-uroot", "refstack"],
        input=sql,
        text=True,
        check=True,
        timeout=3600,
    )
    log(f"refstack: {seed.runs} runs loaded in {time.monotonic() - started:.0f} s")
    return public


# -- servers ---------------------------------------------------------------------------------


class OurServer:
    """tcup-server serve with 4 gunicorn workers over a PostgreSQL database."""

    def __init__(self, url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": url}
        self.log = open(Path("/tmp") / f"tcup-bench-{self.port}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "webapp.cli",
                "serve",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        wait_http(self.base + "/v1/results")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def wait_http(url: str, timeout: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {timeout} s")


def refstack_up(peer_dir: Path, workers: int) -> dict[str, Any]:
    """setup.sh + start.sh of the shared peer; returns its base URL and server PIDs."""
    env = {**os.environ, "WORKERS": str(workers), "RESET_DB": "1"}
    subprocess.run(["bash", str(PEER / "setup.sh"), str(peer_dir)], check=True, timeout=3600)
    subprocess.run(["bash", str(PEER / "start.sh"), str(peer_dir)], check=True, timeout=600, env=env)
    run = peer_dir / "run"
    pids = [int((run / f).read_text()) for f in ("api.pid", "mysqld.pid")]
    return {"base": "http://127.0.0.1:16000", "pids": pids}


def refstack_down(peer_dir: Path) -> None:
    subprocess.run(["bash", str(PEER / "stop.sh"), str(peer_dir)], check=False, timeout=300)


# -- compatibility -------------------------------------------------------------------------


def register_smoke_user(url: str, directory: Path) -> Path:
    """User ``test-open-id`` with a fresh RSA key registered (as the peer seeds it); returns the PEM path."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )
    from sqlalchemy.orm import Session

    from webapp import signatures
    from webapp.store import accounts
    from webapp.store.database import make_engine

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = directory / "smoke_key.pem"
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL, NoEncryption()))
    line = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    engine = make_engine(url)
    with Session(engine) as sess:
        account = accounts.create_user(sess, openid="test-open-id")
        accounts.add_pubkey(sess, account.id, signatures.parse_public_key(line))
    engine.dispose()
    return pem


def run_smoke(base: str, key: Path) -> str:
    """The peer's smoke.py (18 RefStack API checks) against ``base``; returns its last line."""
    done = subprocess.run(
        [sys.executable, str(PEER / "smoke.py"), base, "--key", str(key), "--openid", "test-open-id"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    for line in failed:
        log(f"  smoke {line}")
    return (done.stdout.strip().splitlines() or ["smoke: no output"])[-1]


# -- phases ----------------------------------------------------------------------------------


def phases(
    load: ModuleType,
    base: str,
    pids: list[int],
    run_ids: list[str],
    *,
    ours: bool,
    uploads: int,
    list_pages: int,
    requests: int,
    concurrency: int,
    limit_s: float,
) -> dict[str, Any]:
    """Upload, list, get and compliance against one server; each phase bounded in count and time."""
    client = load.Client(base, 120)
    required = required_tests()
    names = load.make_names(1500, 1, required)
    bodies = [load.payload(names, f"load-cpid-{i % 17}", 1 + i) for i in range(20)]
    load.CPU_PIDS[:] = pids
    results: dict[str, Any] = {"payload_bytes": len(bodies[0])}

    def upload(i: int) -> tuple[bool, int]:
        status, _ = client.req("POST", "/v1/results", bodies[i % len(bodies)])
        return status == 201, status

    rnd = random.Random(3)
    shuffled = rnd.sample(run_ids, len(run_ids))
    warm = shuffled[: len(shuffled) // 4]  # warm-ups read other runs than the measured ones
    sample = [rnd.choice(shuffled[len(shuffled) // 4 :]) for _ in range(requests)]
    req_q = f"/v1/guidelines/{GUIDELINE}/tests?target=platform&type=required"

    def list_page(i: int) -> tuple[bool, int]:
        status, _ = client.req("GET", f"/v1/results?page={i % list_pages + 1}")
        return status == 200, status

    def get_one(i: int, runs: list[str] = sample) -> tuple[bool, int]:
        status, body = client.req("GET", "/v1/results/" + runs[i % len(runs)])
        return status == 200 and len(json.loads(body)["results"]) > 0, status

    def compliance(i: int, runs: list[str] = sample) -> tuple[bool, int]:
        run_id = runs[i % len(runs)]
        if ours:
            status, body = client.req("GET", f"/v1/results/{run_id}/compliance?guideline={GUIDELINE}&target=platform")
            return status == 200 and "verdict" in json.loads(body), status
        s1, b1 = client.req("GET", "/v1/results/" + run_id)
        s2, b2 = client.req("GET", req_q)
        if s1 != 200 or s2 != 200:
            return False, s1 if s1 != 200 else s2
        passed = set(json.loads(b1)["results"])
        wanted = [t.split("[")[0] for t in b2.decode().split("\n") if t]
        sum(1 for t in wanted if t in passed)
        return True, 200

    plan = [
        ("upload", upload, uploads),
        ("list", list_page, requests),
        ("get_one", get_one, requests),
        ("compliance", compliance, requests),
    ]
    for name, fn, count in plan:
        if name != "upload":  # warm every worker (caches, connections) before measuring, as a live server is
            warm_fn = fn if name == "list" else (lambda i, f=fn: f(i, warm))  # type: ignore[misc]
            load.run_phase(f"{name}-warm-up", 8 * concurrency, concurrency, limit_s, warm_fn)
        for conc in (1, concurrency, 2 * concurrency) if name == "upload" else (1, concurrency):
            n = count if conc > 1 else max(10, count // 4)
            if name == "upload" and conc == 1:
                n = max(10, uploads // 5)
            result = load.run_phase(f"{name}@{conc}", n, conc, limit_s, fn)
            results[f"{name}@{conc}"] = result
            log(
                f"  {name:<10} c={conc}: {result['requests']:>4} req, {result['req_per_s']} req/s, "
                f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, cpu {result.get('server_cpu_ms_per_req')} "
                f"ms/req, errors {result['errors']} {result['codes'] if result['errors'] else ''}"
            )
    return results


def report(ours: dict[str, Any], theirs: dict[str, Any] | None, concurrency: int) -> str:
    """The side-by-side table."""
    out = io.StringIO()
    head = f"{'phase':<16}{'ours req/s':>12}{'p50 ms':>9}{'cpu ms':>9}"
    if theirs:
        head += f"{'RefStack req/s':>16}{'p50 ms':>9}{'cpu ms':>9}{'speed-up':>10}{'cpu ratio':>10}"
    print(head, file=out)
    for phase in ("upload", "list", "get_one", "compliance"):
        for conc in (1, concurrency, 2 * concurrency):
            key = f"{phase}@{conc}"
            mine = ours.get(key)
            if not mine:
                continue
            row = f"{key:<16}{mine['req_per_s']:>12}{mine['p50_ms']:>9}{mine.get('server_cpu_ms_per_req', '-'):>9}"
            if theirs and theirs.get(key):
                other = theirs[key]
                speed = mine["req_per_s"] / other["req_per_s"] if other["req_per_s"] else float("nan")
                cpu_o, cpu_m = other.get("server_cpu_ms_per_req"), mine.get("server_cpu_ms_per_req")
                ratio = cpu_o / cpu_m if cpu_o and cpu_m else float("nan")
                row += (
                    f"{other['req_per_s']:>16}{other['p50_ms']:>9}{other.get('server_cpu_ms_per_req', '-'):>9}"
                    f"{speed:>9.1f}x{ratio:>9.1f}x"
                )
            print(row, file=out)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--tests", type=int, default=1500, help="passed tests per run")
    parser.add_argument("--full-runs", type=int, default=2000, help="RefStack runs seeded with every test row")
    parser.add_argument("--light-tests", type=int, default=15, help="test rows of the other RefStack runs")
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200, help="requests per read phase")
    parser.add_argument("--list-pages", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--phase-limit-s", type=float, default=90)
    parser.add_argument("--peer-dir", type=Path, default=Path("/tmp/refstack-peer"))
    parser.add_argument("--skip-refstack", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not (INTEROP / f"{GUIDELINE}.json").is_file():
        raise SystemExit(f"the interop guideline files are not at {INTEROP} (set TCUP_INTEROP_DIR)")
    load = load_peer_module()
    seed = Seed(args.runs, args.tests, load)
    log(f"seed: {args.runs} runs x {args.tests} tests, {len(seed.pool)} distinct test names")
    figures: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}}

    theirs = None
    if not args.skip_refstack:
        log("RefStack 2.1.0: setup and start (shared peer scripts)")
        peer = refstack_up(args.peer_dir, args.workers)
        try:
            figures["refstack_smoke"] = run_smoke(peer["base"], args.peer_dir / "keys" / "id_rsa")
            log(f"RefStack {figures['refstack_smoke']}")
            public = seed_refstack(args.peer_dir, seed, full_runs=args.full_runs, light_tests=args.light_tests)
            log("RefStack phases")
            theirs = phases(
                load,
                peer["base"],
                peer["pids"],
                public,
                ours=False,
                uploads=args.uploads,
                list_pages=args.list_pages,
                requests=args.requests,
                concurrency=args.concurrency,
                limit_s=args.phase_limit_s,
            )
            figures["refstack"] = theirs
        finally:
            refstack_down(args.peer_dir)

    from tests.pg_fixtures import acquire_postgres, release_postgres

    server = acquire_postgres()
    try:
        url = server.create_database("tcup_bench")
        seeded = seed_ours(url, seed)
        figures["ours_db_bytes"] = seeded["db_bytes"]
        ours_server = OurServer(url, args.workers)
        try:
            subprocess.run(
                [sys.executable, "-m", "webapp.cli", "import-guidelines", str(INTEROP)],
                check=True,
                env={**os.environ, "DATABASE_URL": url},
                stdout=subprocess.DEVNULL,
                timeout=600,
                cwd=REPO,
            )
            key = register_smoke_user(url, server.root)
            figures["ours_smoke"] = run_smoke(ours_server.base, key)
            log(f"ours {figures['ours_smoke']}")
            postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
            log("our phases")
            ours = phases(
                load,
                ours_server.base,
                [ours_server.process.pid, postmaster],
                seeded["newest_public"],
                ours=True,
                uploads=args.uploads,
                list_pages=args.list_pages,
                requests=args.requests,
                concurrency=args.concurrency,
                limit_s=args.phase_limit_s,
            )
            figures["ours"] = ours
        finally:
            ours_server.stop()
    finally:
        release_postgres()

    table = report(figures["ours"], theirs, args.concurrency)
    print(table)
    print(
        f"smoke.py (RefStack API checks): ours: {figures.get('ours_smoke')}; "
        f"RefStack: {figures.get('refstack_smoke', 'not run')}"
    )

    def peak(results: dict[str, Any]) -> tuple[float, str]:
        return max((r["req_per_s"], k) for k, r in results.items() if k.startswith("upload@"))

    if theirs:
        (mine, at), (other, other_at) = peak(figures["ours"]), peak(theirs)
        print(
            f"peak upload throughput: ours {mine} req/s ({at}), RefStack {other} req/s ({other_at}): "
            f"{mine / other:.1f}x (goal >= 20x)"
        )
        figures["peak_upload_ratio"] = mine / other
    latency = {p: figures["ours"][f"{p}@1"]["p50_ms"] for p in ("get_one", "compliance")}
    print(
        f"ours at concurrency 1: run detail p50 {latency['get_one']} ms, compliance p50 {latency['compliance']} ms "
        f"(goal <= 20 ms each)"
    )
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
