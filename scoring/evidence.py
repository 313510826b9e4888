"""Evidence from data for four criteria, set beside the board's marks.

- **Widely Deployed** (``deployed``): the share of distinct clouds (cpid) whose *latest* run
  passes every non-flagged test of the capability; 1 when the share reaches the threshold
  (:data:`DEFAULT_THRESHOLD`, 0.5 unless configured), 0 below it, none without runs or tests.
  A run is later when its ``started_at`` is later; runs without one count as older, and ties
  keep the input order.
- **Core in Last Release** (``sticky``): 1 when the previous guideline requires it.
- **Stable** (``stable``): 1 when each of the two previous guidelines lists it (required,
  advisory or deprecated); none with fewer than two previous guidelines.
- **Non-Admin** (``non_admin``): 0 when the guideline marks the capability ``admin: true``,
  1 for ``false``, none when the field is absent.

A test result counts for a guideline test entry when their idempotent ids (UUIDs) are equal;
by name or alias only when one of the two has no id, so a reused name with another id does
not count. The board's mark always wins: :func:`compare_with_evidence` lists every
disagreement, and :func:`apply_evidence` only fills marks the board left as ``?``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scoring import tables as T

DEFAULT_THRESHOLD = 0.5
EVIDENCE_CRITERIA = ("deployed", "sticky", "stable", T.NON_ADMIN)
LISTED = ("required", "advisory", "deprecated")


def pass_rates_frame(
    runs: pd.DataFrame,
    results: pd.DataFrame,
    entries: pd.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    capabilities: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per capability: tests, counted (non-flagged) tests, clouds, clouds passing, pass rates.

    :param runs: from :func:`scoring.tables.runs_frame` (index 0..n-1, cpid, order).
    :param results: from :func:`scoring.tables.results_frame`.
    :param entries: from :func:`scoring.tables.entries_frame`.
    :param capabilities: the rows wanted, in order (default: those with test entries); one
        without entries has 0 tests and no pass rate.
    :returns: also ``deployed``, the evidence mark for the threshold.
    """
    counted = entries[~entries[T.FLAGGED]]
    cap_codes, caps = pd.factorize(counted[T.CAPABILITY], sort=False)
    order = np.argsort(cap_codes, kind="stable")
    latest = runs.sort_values(T.ORDER, kind="stable").drop_duplicates(T.CPID, keep="last")
    passing = _entry_passes(latest.index.to_numpy(), len(runs), results, counted)  # clouds x entries
    n_clouds = len(latest)
    if len(order):
        starts = np.flatnonzero(np.r_[True, np.diff(cap_codes[order]) != 0])
        all_pass = (
            np.logical_and.reduceat(passing[:, order], starts, axis=1)
            if n_clouds
            else np.zeros((0, len(starts)), dtype=bool)
        )
        per_test = np.add.reduceat(passing.sum(axis=0)[order], starts)
        sizes = np.diff(np.r_[starts, len(order)])
    else:
        all_pass, per_test, sizes = np.zeros((n_clouds, 0), dtype=bool), np.zeros(0), np.zeros(0)
    frame = pd.DataFrame(
        {
            T.COUNTED_TESTS: sizes.astype(np.int64),
            T.CLOUDS: n_clouds,
            T.CLOUDS_PASSING: all_pass.sum(axis=0).astype(np.int64),
        },
        index=pd.Index(caps, name=T.CAPABILITY),
    )
    every = entries.groupby(T.CAPABILITY, sort=False).size().rename(T.TESTS)
    rows = every.index if capabilities is None else pd.Index(list(capabilities), name=T.CAPABILITY)
    frame = frame.reindex(rows).join(every)
    frame[T.TESTS] = frame[T.TESTS].fillna(0).astype(np.int64)
    frame[T.COUNTED_TESTS] = frame[T.COUNTED_TESTS].fillna(0).astype(np.int64)
    frame[T.CLOUDS] = n_clouds
    frame[T.CLOUDS_PASSING] = frame[T.CLOUDS_PASSING].fillna(0).astype(np.int64)
    measurable = frame[T.COUNTED_TESTS].gt(0) & (n_clouds > 0)  # else no rate: nothing to pass, or no cloud
    frame[T.PASS_RATE] = (frame[T.CLOUDS_PASSING] / max(n_clouds, 1)).where(measurable)
    test_rate = pd.Series(per_test / (np.maximum(sizes, 1) * max(n_clouds, 1)), index=pd.Index(caps))
    frame[T.TEST_PASS_RATE] = test_rate.reindex(frame.index).where(measurable)
    frame["deployed"] = frame[T.PASS_RATE].ge(threshold).astype(float).where(frame[T.PASS_RATE].notna())
    return frame[[T.TESTS, T.COUNTED_TESTS, T.CLOUDS, T.CLOUDS_PASSING, T.PASS_RATE, T.TEST_PASS_RATE, "deployed"]]


def _codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array.codes, pd.Index(column.cat.categories)  # a view: no copy of 20M codes
    codes, uniques = pd.factorize(column)
    return codes, pd.Index(uniques)


def _lookup(size: int, wanted: np.ndarray) -> np.ndarray:
    """code -> compact column (or -1); the extra last slot answers code -1 (missing)."""
    table = np.full(size + 1, -1, dtype=np.int64)
    table[wanted] = np.arange(len(wanted))
    return table


def _entry_passes(latest_runs: np.ndarray, n_runs: int, results: pd.DataFrame, counted: pd.DataFrame) -> np.ndarray:
    """Boolean matrix (latest run of each cloud) x (counted entry): did the entry pass?

    Result rows are scattered into three dense (cloud x column) matrices over the compact
    set of ids and names some entry refers to: by id; by name for entries without an id
    (any result); by name for entries with an id (results without one). The entries are
    then gathered from those matrices.
    """
    n_clouds = len(latest_runs)
    test_codes, test_names = _codes(results[T.TEST])
    uuid_codes, uuid_values = _codes(results[T.UUID_])
    entry_uuid = uuid_values.get_indexer(counted[T.UUID_].fillna(""))  # -1: no id, or never seen
    has_uuid = counted[T.UUID_].notna().to_numpy()
    named = counted[[T.NAMES]].assign(**{T.ENTRY: np.arange(len(counted))}).explode(T.NAMES)
    name_code = test_names.get_indexer(named[T.NAMES].astype(str))
    named = named[name_code >= 0].assign(code=name_code[name_code >= 0])
    with_id = has_uuid[named[T.ENTRY].to_numpy(dtype=np.int64)]
    any_col = _lookup(len(test_names), np.unique(named["code"].to_numpy()[~with_id]))
    bare_col = _lookup(len(test_names), np.unique(named["code"].to_numpy()[with_id]))
    uuid_col = _lookup(len(uuid_values), np.unique(entry_uuid[entry_uuid >= 0]))

    cloud_of_run = np.full(n_runs, -1, dtype=np.int64)
    cloud_of_run[latest_runs] = np.arange(n_clouds)
    cloud = cloud_of_run[results[T.RUN].to_numpy()]
    keep = results[T.PASSED].to_numpy() & (cloud >= 0)
    by_uuid = _scatter(n_clouds, uuid_col, cloud, uuid_codes, keep)
    by_any = (
        _scatter(n_clouds, any_col, cloud, test_codes, keep)
        if (~with_id).any()
        else np.zeros((n_clouds, 0), dtype=bool)
    )
    bare = np.flatnonzero(keep & (uuid_codes < 0))  # usually few rows: v1 uploads carry ids
    by_bare = _scatter(n_clouds, bare_col, cloud[bare], test_codes[bare], None)

    passed = np.zeros((n_clouds, len(counted)), dtype=bool)
    if n_clouds == 0:
        return passed
    entry = named[T.ENTRY].to_numpy(dtype=np.int64)
    for matrix, table, rows in ((by_any, any_col, ~with_id), (by_bare, bare_col, with_id)):
        if rows.any():  # two passes (two matrices), not a loop over rows
            e = entry[rows]
            cols = table[named["code"].to_numpy()[rows]]
            order = np.argsort(e, kind="stable")
            e, cols = e[order], cols[order]
            starts = np.flatnonzero(np.r_[True, np.diff(e) != 0])
            passed[:, e[starts]] |= np.logical_or.reduceat(matrix[:, cols], starts, axis=1)
    found = np.flatnonzero(entry_uuid >= 0)
    passed[:, found] |= by_uuid[:, uuid_col[entry_uuid[found]]]
    return passed


def _scatter(
    n_clouds: int, table: np.ndarray, cloud: np.ndarray, codes: np.ndarray, keep: np.ndarray | None
) -> np.ndarray:
    """Dense (cloud x compact column) matrix: True where a kept row has that code."""
    width = int(table.max()) + 1
    # NOTE: one scatter into a flat buffer with a spare last cell for the rows that do not
    # count, in 32-bit arithmetic where it fits: at 20M rows every extra pass costs ~50 ms.
    index = np.int32 if n_clouds * width < 2**31 - 1 else np.int64
    flat = np.zeros(n_clouds * width + 1, dtype=bool)
    if width == 0 or len(codes) == 0:
        return flat[:-1].reshape(n_clouds, width)
    col = table.astype(index)[codes]
    cell = np.multiply(cloud, width, dtype=index)
    cell += col
    valid = col >= 0
    if keep is not None:
        valid &= keep
    np.putmask(cell, ~valid, len(flat) - 1)
    flat[cell] = True
    return flat[:-1].reshape(n_clouds, width)


def evidence_frame(
    index: pd.Index, rates: pd.DataFrame | None, previous: Sequence[pd.Series], admin: pd.Series
) -> pd.DataFrame:
    """Evidence marks (1.0, 0.0 or NaN) for the four criteria, with the pass-rate columns."""
    frame = pd.DataFrame(index=index.rename(T.CAPABILITY))
    if rates is not None:
        frame = frame.join(rates)
    else:
        frame["deployed"] = np.nan
    nothing = pd.Series(np.nan, index=frame.index)
    frame["sticky"] = previous[0].reindex(frame.index).eq("required").astype(float) if previous else nothing
    frame["stable"] = (
        (previous[0].reindex(frame.index).isin(LISTED) & previous[1].reindex(frame.index).isin(LISTED)).astype(float)
        if len(previous) >= 2
        else nothing
    )
    admin_of = admin.reindex(frame.index)
    frame[T.NON_ADMIN] = admin_of.eq(False).astype(float).where(admin_of.notna())
    return frame


def compare_with_evidence(
    marks: pd.DataFrame,
    evidence: pd.DataFrame,
    *,
    scale: int = 1,
    guideline: str = "the guideline",
    previous: Sequence[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Every (capability, criterion) where the board's mark and the evidence differ.

    Kind ``evidence-disagrees`` where the board marked 0 or 1 (graduated: below or at least 3)
    and the evidence says otherwise; ``evidence-for-unscored`` where the board has ``?``.
    """
    board = marks[list(EVIDENCE_CRITERIA)].stack().rename(T.BOARD)
    found = evidence.reindex(marks.index)[list(EVIDENCE_CRITERIA)].stack().rename(T.EVIDENCE)
    long = pd.concat([board, found], axis=1).rename_axis([T.CAPABILITY, T.CRITERION]).reset_index()
    value = pd.to_numeric(long[T.BOARD], errors="coerce")
    met = value.ge(3) if scale != 1 else value.eq(1)
    met = met.where(long[T.CRITERION].ne(T.NON_ADMIN), value.eq(1))
    known = long[T.EVIDENCE].notna()
    differs = known & value.notna() & met.astype(float).ne(long[T.EVIDENCE])
    unscored = known & long[T.BOARD].eq("?")
    long[T.KIND] = np.select([differs, unscored], ["evidence-disagrees", "evidence-for-unscored"], "")
    long = long[long[T.KIND].ne("")].copy()
    long[T.RULE] = "the board's mark wins"
    long[T.DETAIL] = _why(long, evidence, guideline, previous, threshold)
    long[T.EVIDENCE] = long[T.EVIDENCE].astype(int).astype(str)
    return long[list(T.DISAGREEMENT_COLUMNS)].reset_index(drop=True)


def _why(
    long: pd.DataFrame, evidence: pd.DataFrame, guideline: str, previous: Sequence[str], threshold: float
) -> pd.Series:
    at = evidence.reindex(long[T.CAPABILITY])
    rate = at.get(T.PASS_RATE, pd.Series(np.nan, index=at.index)).round(3).astype(str).to_numpy()
    passing = at.get(T.CLOUDS_PASSING, pd.Series(0, index=at.index)).fillna(0).astype(int).astype(str).to_numpy()
    clouds = at.get(T.CLOUDS, pd.Series(0, index=at.index)).fillna(0).astype(int).astype(str).to_numpy()
    p1 = previous[0] if previous else "the previous guideline"
    p2 = previous[1] if len(previous) > 1 else "the one before"
    deployed = (
        "pass rate "
        + pd.Series(rate)
        + " ("
        + pd.Series(passing)
        + " of "
        + pd.Series(clouds)
        + f" clouds pass every non-flagged test in their latest run; threshold {threshold:g})"
    )
    texts = np.select(
        [
            long[T.CRITERION].eq("deployed").to_numpy(),
            long[T.CRITERION].eq("sticky").to_numpy(),
            long[T.CRITERION].eq("stable").to_numpy(),
        ],
        [deployed.to_numpy(), f"required in {p1}?", f"listed in both {p1} and {p2}?"],
        default=f"the admin field of {guideline}",
    )
    return pd.Series(texts, index=long.index)


def apply_evidence(marks: pd.DataFrame, evidence: pd.DataFrame, *, scale: int = 1) -> pd.DataFrame:
    """The marks with each ``?`` of the four evidence criteria filled from evidence, where there is some."""
    filled = marks.copy()
    for key in EVIDENCE_CRITERIA:  # four columns, not rows
        found = evidence.reindex(marks.index)[key]
        full = 1 if key == T.NON_ADMIN else scale
        proposal = found.mul(full).astype("Int64").astype(str)
        filled[key] = marks[key].where(~(marks[key].eq("?") & found.notna()), proposal)
    return filled
