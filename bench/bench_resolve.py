"""Benchmark: resolving whole guidelines against the installed Tempest's test index.

Prints the time to build the index with ``stestr list`` (once per Tempest version),
to load it from the cache, and to resolve every test of several guidelines (the
issue's goal: at most 1 s per guideline once the index exists).

Usage: python bench/bench_resolve.py [INTEROP_DIR]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from interop_model.guideline_loader import load_guideline_text
from tcup.resolution import resolve_entries, select_entries
from tcup.tempest_env import find_tempest
from tcup.test_index import load_test_index, probe_install


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    interop = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "interop")
    env = find_tempest()
    install = probe_install(env)
    with tempfile.TemporaryDirectory() as cache:
        build, _ = timed(lambda: load_test_index(env, install=install, cache=Path(cache), rebuild=True))
        load, index = timed(lambda: load_test_index(env, install=install, cache=Path(cache)), repeat=5)
    print(f"Tempest {install.version}: {len(index.ids)} tests")
    print(f"index build (stestr list):    {build:8.3f} s (once per Tempest/plugin versions)")
    print(f"index load from cache:        {load * 1000:8.1f} ms")
    for name, target in [
        ("2020.06.json", "platform"),
        ("next.json", "platform"),
        ("2017.09.json", "platform"),
        ("2016.01.json", "platform"),
        ("add-ons/orchestration.2020.06.json", "orchestration"),
    ]:
        raw = (interop / name).read_bytes()
        parse, guideline = timed(lambda raw=raw, name=name: load_guideline_text(raw, source=name), repeat=5)
        entries = select_entries(guideline, target)
        resolve, res = timed(lambda entries=entries: resolve_entries(entries, index), repeat=5)
        total = parse + load + resolve
        print(
            f"{name:38s} {len(entries):4d} entries: parse {parse * 1000:6.1f} ms, resolve {resolve * 1000:6.1f} ms,"
            f" load+parse+resolve {total * 1000:6.1f} ms  {res.counts()}"
        )


if __name__ == "__main__":
    main()
