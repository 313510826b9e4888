"""The one module that knows column names: model objects <-> DataFrames, and the CSV shape.

Frames are indexed by capability name unless said otherwise. Mark columns are the twelve
criterion keys of :data:`interop_model.guidelines.CRITERIA_ORDER` plus :data:`NON_ADMIN`,
holding the marks as written (text: ``"0"``, ``"1"``, ``"?"``, ``"*"``, or ``"2"``..``"5"``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID

import numpy as np
import pandas as pd

from interop_model.guidelines import CRITERIA_ORDER, Capability, Guideline, Status
from scoring.errors import UnknownCriterion
from scoring.worksheet import MARK_COUNT, Worksheet

# -- marks and scores ---------------------------------------------------------------------------
CAPABILITY = "capability"
SECTION = "section"
LINE = "line"
CRITERIA: tuple[str, ...] = CRITERIA_ORDER
NON_ADMIN = "non_admin"
MARK_COLUMNS: tuple[str, ...] = (*CRITERIA, NON_ADMIN)
WRITTEN_TOTAL = "written_total"
WRITTEN_STAR = "written_star"
TOTAL = "total"  # float; negative when incomplete, 0 when vetoed
STAR = "star"  # bool: total reaches the cutoff
TOTAL_TEXT = "total_text"  # "74*", "72", "-30", "5.4"
VETOED = "vetoed"
INCOMPLETE = "incomplete"
BINARY_TOTAL = "binary_total"  # graduated sheets: the 0/1 reading side by side
BINARY_STAR = "binary_star"
BINARY_TEXT = "binary_text"

# -- statuses and disagreements -------------------------------------------------------------------
STATUS = "status"
PREVIOUS_STATUS = "previous_status"
EVER_REQUIRED = "ever_required"
KIND = "kind"
CRITERION = "criterion"
BOARD = "board"
EVIDENCE = "evidence"
RULE = "rule"
DETAIL = "detail"
DISAGREEMENT_COLUMNS = (CAPABILITY, KIND, CRITERION, BOARD, EVIDENCE, RULE, DETAIL)

# -- runs, tests and pass rates -------------------------------------------------------------------
RUN = "run"
CPID = "cpid"
ORDER = "order"
TEST = "test"
UUID_ = "uuid"
PASSED = "passed"
ENTRY = "entry"
NAMES = "names"
FLAGGED = "flagged"
SOURCE = "source"
ADMIN = "admin"
TESTS = "tests"
COUNTED_TESTS = "counted_tests"  # non-flagged entries: the ones a cloud must pass
CLOUDS = "clouds"
CLOUDS_PASSING = "clouds_passing"
PASS_RATE = "pass_rate"
TEST_PASS_RATE = "test_pass_rate"

# Canonical display names (the columns of the interop repository's tabulated_scores.csv):
# the CSV header and the board use these whatever the guideline spells, so sheets from
# different guidelines line up (the NFV CSV upstream was written with next.json's names too).
DISPLAY_NAMES: Mapping[str, str] = {
    "deployed": "Widely Deployed",
    "tools": "Used by Tools",
    "clients": "Used by Clients",
    "future": "Future Direction",
    "complete": "Complete",
    "stable": "Stable",
    "discover": "Discoverable",
    "doc": "Documented",
    "sticky": "Core in Last Release",
    "foundation": "Foundation",
    "atomic": "Atomic",
    "proximity": "Proximity",
    NON_ADMIN: "Non-Admin",
}
CSV_CAPABILITY = "Capability"
CSV_TOTAL = "Total"
CSV_BINARY_TOTAL = "Binary Total"


class CaseLike(Protocol):
    """What :func:`results_frames` reads from one test result."""

    @property
    def test_id(self) -> str: ...
    @property
    def idempotent_id(self) -> UUID | None: ...
    @property
    def passed(self) -> bool: ...


class RunLike(Protocol):
    """What :func:`results_frames` reads from one run (``interop_model.results.RunReport``)."""

    @property
    def cpid(self) -> str: ...
    @property
    def results(self) -> Sequence[CaseLike]: ...


def marks_frame(worksheet: Worksheet) -> pd.DataFrame:
    """The scored lines as a frame: section, line, the thirteen marks, the written total."""
    rows = [(s.name, s.section, s.lineno, *s.marks, s.written_total, s.written_star) for s in worksheet.scored]
    columns = [CAPABILITY, SECTION, LINE, *MARK_COLUMNS, WRITTEN_TOTAL, WRITTEN_STAR]
    frame = pd.DataFrame(rows, columns=columns).set_index(CAPABILITY)
    frame[list(MARK_COLUMNS)] = frame[list(MARK_COLUMNS)].astype(object)
    return frame


def marks_from_rows(rows: Sequence[tuple[str, Sequence[str]]]) -> pd.DataFrame:
    """A marks frame from (capability, thirteen marks) pairs, as the board import reads them."""
    frame = pd.DataFrame([(name, *marks) for name, marks in rows], columns=[CAPABILITY, *MARK_COLUMNS])
    return frame.set_index(CAPABILITY).astype(object)


def weights_series(guideline: Guideline) -> pd.Series:
    """Criterion key -> weight, in worksheet order; NaN for a criterion the program does not weigh.

    :raises UnknownCriterion: the guideline weighs a key the worksheet format has no column for.
    """
    unknown = [c.key for c in guideline.criteria if c.key not in CRITERIA]
    if unknown:
        raise UnknownCriterion(
            f"{guideline.source}: criterion {key!r} is not one of the twelve DefCore criteria "
            f"({', '.join(CRITERIA)}) (fix: rename it in the guideline's criteria block)"
            for key in unknown
        )
    return pd.Series(guideline.weights, dtype=float).reindex(list(CRITERIA)).rename_axis(CRITERION)


def to_csv_text(marks: pd.DataFrame, scores: pd.DataFrame, *, graduated: bool = False) -> str:
    """The ``tabulated_scores.csv`` shape: header, one row per capability, ``name,0`` when vetoed.

    ``graduated=True`` adds a ``Binary Total`` column after ``Total``: the binary reading of a
    graduated sheet, or the total itself for a sheet whose marks are 0/1.
    """
    header = [CSV_CAPABILITY, *(DISPLAY_NAMES[c] for c in MARK_COLUMNS), CSV_TOTAL]
    fields = [marks.index.to_series().astype(str), *(marks[c].astype(str) for c in MARK_COLUMNS), scores[TOTAL_TEXT]]
    if graduated:
        header.append(CSV_BINARY_TOTAL)
        fields.append(scores[BINARY_TEXT] if BINARY_TEXT in scores else scores[TOTAL_TEXT])
    quoted = [_quote(f) for f in fields]
    line = quoted[0].str.cat(quoted[1:], sep=",")
    line = line.where(~scores[VETOED].to_numpy(), quoted[0] + ",0")
    return ",".join(_quote(pd.Series(header)).tolist()) + "\n" + "".join((line + "\n").tolist())


def _quote(field: pd.Series) -> pd.Series:
    needs = field.str.contains(r'[",\n]', regex=True)
    return field.where(~needs, '"' + field.str.replace('"', '""') + '"').reset_index(drop=True)


def read_scores_csv(text: str) -> pd.DataFrame:
    """Read the CSV shape back: marks (missing on vetoed rows) and the total text."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return pd.DataFrame(columns=[*MARK_COLUMNS, TOTAL_TEXT]).rename_axis(CAPABILITY)
    body = [
        (r + [""] * (MARK_COUNT + 2))[: MARK_COUNT + 2] if len(r) > 2 else [r[0], *[""] * MARK_COUNT, r[1]]
        for r in rows[1:]
        if r
    ]
    frame = pd.DataFrame(body, columns=[CAPABILITY, *MARK_COLUMNS, TOTAL_TEXT]).set_index(CAPABILITY)
    return frame.replace("", np.nan)


# -- guideline tests and runs ---------------------------------------------------------------------


def entries_frame(definitions: Mapping[str, Capability]) -> pd.DataFrame:
    """One row per (capability, test entry): entry number, names (name + aliases), uuid, flagged."""
    rows = [
        (cap, e.name, (e.name, *e.aliases), str(e.uuid) if e.uuid else None, e.flagged)
        for cap, capability in definitions.items()
        for e in capability.tests
    ]
    frame = pd.DataFrame(rows, columns=[CAPABILITY, TEST, NAMES, UUID_, FLAGGED])
    frame[FLAGGED] = frame[FLAGGED].astype(bool)
    return frame.rename_axis(ENTRY)


def results_frames(runs: Iterable[RunLike]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, results) from run reports; the input order is the run order unless started_at says otherwise.

    ``runs`` is indexed by run number 0..n-1 with the cpid and an order key; ``results`` has
    one row per test result: run number, test name and uuid (categorical), passed.
    """
    cpids: list[str] = []
    started: list[str] = []
    run_of: list[int] = []
    names: list[str] = []
    uuids: list[str | None] = []
    passed: list[bool] = []
    for number, run in enumerate(runs):
        cpids.append(run.cpid)
        provenance = getattr(run, "provenance", None)
        started.append(getattr(provenance, "started_at", None) or "")
        results = run.results
        run_of.extend([number] * len(results))
        names.extend(r.test_id for r in results)
        uuids.extend(str(r.idempotent_id) if r.idempotent_id else None for r in results)
        passed.extend(bool(r.passed) for r in results)
    return runs_frame(cpids, started), results_frame(run_of, names, uuids, passed)


def runs_frame(cpids: Sequence[Any], started: Sequence[str] | None = None) -> pd.DataFrame:
    """Runs numbered 0..n-1: cpid and the order key (started_at, then input position)."""
    frame = pd.DataFrame({CPID: pd.Categorical(cpids)}).rename_axis(RUN)
    if started is None or not any(started):
        frame[ORDER] = np.arange(len(frame), dtype=float)
    else:  # runs without a timestamp count as older; ties keep the input order
        frame[ORDER] = pd.Series(list(started), dtype=object).rank(method="first").to_numpy()
    return frame


def results_frame(run: Any, test: Any, uuid: Any, passed: Any) -> pd.DataFrame:
    """Test results: run number, test name and uuid (both categorical), passed."""
    return pd.DataFrame(
        {
            RUN: np.asarray(run, dtype=np.int64),
            TEST: pd.Categorical(test),
            UUID_: pd.Categorical(uuid),
            PASSED: np.asarray(passed, dtype=bool),
        }
    )


def results_frame_from_cases(run: Any, case: Any, names: Sequence[str], uuids: Sequence[str | None]) -> pd.DataFrame:
    """Passed results given as case numbers into a table of distinct cases (names and uuids):
    the categorical columns are built from the table's codes, never from one string per result."""
    case_codes = np.asarray(case, dtype=np.int64)
    name_codes, name_values = pd.factorize(pd.Series(list(names), dtype=object))
    uuid_codes, uuid_values = pd.factorize(pd.Series(list(uuids), dtype=object))  # None -> -1, a missing value
    return pd.DataFrame(
        {
            RUN: np.asarray(run, dtype=np.int64),
            TEST: pd.Categorical.from_codes(name_codes[case_codes], categories=name_values),
            UUID_: pd.Categorical.from_codes(uuid_codes[case_codes], categories=uuid_values),
            PASSED: np.ones(len(case_codes), dtype=bool),
        }
    )


def statuses_series(guideline: Guideline | None, target: str | None) -> pd.Series:
    """Capability -> status value for ``target`` ("" where unlisted); empty without a guideline."""
    if guideline is None or target is None or target not in guideline.programs:
        return pd.Series(dtype=object, name=STATUS).rename_axis(CAPABILITY)
    statuses = guideline.target_statuses(target)
    return pd.Series({k: Status(v).value for k, v in statuses.items()}, dtype=object, name=STATUS).rename_axis(
        CAPABILITY
    )


def admin_series(definitions: Mapping[str, Capability]) -> pd.Series:
    """Capability -> its ``admin`` field (True, False, or None when absent)."""
    return pd.Series({k: c.admin for k, c in definitions.items()}, dtype=object, name=ADMIN).rename_axis(CAPABILITY)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain rows for callers outside scoring: NaN becomes None, numpy scalars plain Python."""
    clean = frame.reset_index().astype(object)
    clean = clean.where(clean.notna(), None)
    return [
        {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in clean.to_dict("records")
    ]
