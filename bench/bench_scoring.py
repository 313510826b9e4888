"""Time pass rates and scores over synthetic runs: 2,000 tests in 200 capabilities.

Prints the seconds for 2,500, 5,000 and 10,000 runs and the ratio to the smallest, so a
glance shows whether the work grows linearly with the number of runs. The target is 2 s or
less at 10,000 runs. Run: ``.venv/bin/python bench/bench_scoring.py [--runs 2500 5000 10000]``.

What is timed: choosing each cloud's latest run, matching results to guideline tests (by
idempotent id, and by name where a result has none), per-capability pass rates over clouds,
the evidence marks and the scores of a 200-capability worksheet. Building the synthetic
input is not timed; flattening run reports into frames is timed separately, for scale.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from interop_model.guidelines import Capability, TestEntry
from interop_model.results import CaseResult, RunReport
from scoring import tables as T
from scoring.engine import score
from scoring.evidence import evidence_frame, pass_rates_frame

CAPABILITIES, TESTS_PER_CAPABILITY, RUNS_PER_CLOUD = 200, 10, 4
WEIGHTS = pd.Series([8, 6, 10, 11, 8, 9, 8, 8, 9, 9, 6, 8], index=list(T.CRITERIA), dtype=float)


def synthetic_guideline(rng: np.random.Generator) -> tuple[dict[str, Capability], list[str], list[str]]:
    """200 capabilities x 10 tests; 5 % flagged, 10 % with an alias."""
    names, ids, definitions = [], [], {}
    for c in range(CAPABILITIES):
        entries = []
        for t in range(TESTS_PER_CAPABILITY):
            name = f"tempest.api.synthetic.test_cap{c:03d}.Tests.test_{t:02d}"
            test_id = uuid.UUID(int=int(rng.integers(1 << 62)) << 64 | c * 100 + t)
            flag = None
            if rng.random() < 0.05:
                from interop_model.guidelines import Flag

                flag = Flag(reason="D401 synthetic", code="D401")
            aliases = (name + "_old",) if rng.random() < 0.1 else ()
            entries.append(TestEntry(name=name, uuid=test_id, stored_id=f"id-{test_id}", aliases=aliases, flag=flag))
            names.append(name)
            ids.append(str(test_id))
        definitions[f"synthetic-cap-{c:03d}"] = Capability(name=f"synthetic-cap-{c:03d}", tests=tuple(entries))
    return definitions, names, ids


def synthetic_runs(
    n_runs: int, names: list[str], ids: list[str], rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """n_runs x 2,000 results; 1 in 10 runs carries no idempotent ids (matched by name)."""
    n_tests = len(names)
    clouds = max(n_runs // RUNS_PER_CLOUD, 1)
    runs = T.runs_frame([f"cpid-{i % clouds:05d}" for i in range(n_runs)])
    run = np.repeat(np.arange(n_runs, dtype=np.int64), n_tests)
    test = np.tile(np.arange(n_tests, dtype=np.int64), n_runs)
    cloud_quality = rng.uniform(0.97, 1.0, size=clouds)[np.arange(n_runs) % clouds]
    passed = rng.random(n_runs * n_tests) < np.repeat(cloud_quality, n_tests)
    no_ids = np.repeat(rng.random(n_runs) < 0.1, n_tests)
    results = pd.DataFrame(
        {
            T.RUN: run,
            T.TEST: pd.Categorical.from_codes(test, categories=names),
            T.UUID_: pd.Categorical.from_codes(np.where(no_ids, -1, test), categories=ids),
            T.PASSED: passed,
        }
    )
    return runs, results


def timed(func: Callable[[], Any], repeat: int = 3) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds over ``repeat`` calls."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        func()
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[2_500, 5_000, 10_000])
    args = parser.parse_args()
    rng = np.random.default_rng(2020)
    definitions, names, ids = synthetic_guideline(rng)
    entries = T.entries_frame(definitions)
    caps = pd.Index(list(definitions), name=T.CAPABILITY)
    marks = pd.DataFrame(
        rng.choice(["0", "1"], size=(len(caps), len(T.CRITERIA))).astype(object), index=caps, columns=list(T.CRITERIA)
    ).assign(**{T.NON_ADMIN: "1"})
    admin = pd.Series(False, index=caps, dtype=object)

    def pipeline(runs: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
        rates = pass_rates_frame(runs, results, entries)
        evidence = evidence_frame(caps, rates, [], admin)
        scored = marks.copy()
        scored["deployed"] = evidence["deployed"].fillna(0).astype(int).astype(str)
        return score(scored, WEIGHTS, 74)

    print(
        f"{CAPABILITIES} capabilities x {TESTS_PER_CAPABILITY} tests = {len(entries)} test entries; "
        f"{RUNS_PER_CLOUD} runs per cloud (the latest counts)"
    )
    print(
        f"{'runs':>8} {'result rows':>12} {'wall s':>7} {'cpu s':>7} {'wall/1k runs':>13} {'ratio':>6} {'cpu ratio':>9}"
    )
    first: tuple[int, float, float] | None = None
    for n in args.runs:
        runs, results = synthetic_runs(n, names, ids, rng)
        wall, cpu = timed(lambda runs=runs, results=results: pipeline(runs, results))
        first = first or (n, wall, cpu)
        ratio, cpu_ratio = (wall / first[1]) / (n / first[0]), (cpu / first[2]) / (n / first[0])
        print(
            f"{n:>8,} {len(results):>12,} {wall:>7.3f} {cpu:>7.3f} {wall / n * 1000:>13.4f} {ratio:>6.2f} "
            f"{cpu_ratio:>9.2f}"
        )
        del runs, results
    print("ratio = (time / time at the smallest size) / (runs / smallest size); 1.00 is linear growth")
    reports = [
        RunReport(cpid=f"cpid-{i % 50}", duration_seconds=1, results=tuple(CaseResult(test_id=name) for name in names))
        for i in range(200)
    ]
    seconds, _ = timed(lambda: T.results_frames(reports), repeat=1)
    print(
        f"flattening 200 RunReports x {len(names)} results into frames: {seconds:.3f} s "
        f"(the service can hand over frames or categorical columns directly)"
    )


if __name__ == "__main__":
    main()
