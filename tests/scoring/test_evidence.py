"""Evidence from data: pass rates over clouds, previous guidelines, the admin field."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interop_model.guidelines import Capability, Flag, Guideline, TestEntry
from interop_model.results import CaseResult, Outcome, Provenance, RunReport
from scoring import api
from scoring import tables as T
from scoring.assessment import Runs, assess
from scoring.errors import ResultsError
from scoring.evidence import apply_evidence, pass_rates_frame
from scoring.sources import read_runs
from scoring.worksheet import read_worksheet

U1, U2, U3 = (uuid.UUID(int=i) for i in (1, 2, 3))
CAP = Capability(
    name="cap",
    tests=(
        TestEntry(name="t.one", uuid=U1),
        TestEntry(name="t.two", uuid=U2, aliases=("t.two_old",)),
        TestEntry(name="t.flagged", uuid=U3, flag=Flag(reason="D400 admin")),
    ),
)


def run(
    cpid: str, *cases: tuple[str, uuid.UUID | None], failed: tuple[str, ...] = (), started: str | None = None
) -> RunReport:
    results = tuple(
        CaseResult(test_id=name, idempotent_id=uid, outcome=Outcome.FAIL if name in failed else Outcome.SUCCESS)
        for name, uid in cases
    )
    return RunReport(cpid=cpid, duration_seconds=1, results=results, provenance=Provenance(started_at=started))


def rates(runs: list[RunReport], definitions: dict[str, Capability] | None = None, **kw: float) -> pd.DataFrame:
    frames = T.results_frames(runs)
    return pass_rates_frame(*frames, T.entries_frame(definitions or {"cap": CAP}), **kw)


def test_only_the_latest_run_of_each_cloud_counts() -> None:
    good = [("t.one", U1), ("t.two", U2)]
    frame = rates([run("a", *good), run("a", ("t.one", U1)), run("b", *good)])
    row = frame.loc["cap"]
    assert (row[T.CLOUDS], row[T.CLOUDS_PASSING], row[T.PASS_RATE]) == (2, 1, 0.5)
    assert (row[T.TESTS], row[T.COUNTED_TESTS]) == (3, 2)
    assert row[T.TEST_PASS_RATE] == pytest.approx(0.75)


def test_started_at_orders_runs_before_input_order() -> None:
    good = [("t.one", U1), ("t.two", U2)]
    later_bad = run("a", ("t.one", U1), started="2024-05-02T00:00:00Z")
    earlier_good = run("a", *good, started="2024-05-01T00:00:00Z")
    assert rates([later_bad, earlier_good]).loc["cap", T.CLOUDS_PASSING] == 0


def test_idempotent_id_first_then_name_or_alias() -> None:
    renamed = run("a", ("t.one.renamed", U1), ("t.two_old", None))  # id match; alias match without id
    reused_name = run("b", ("t.one", uuid.UUID(int=99)), ("t.two", U2))  # same name, another id: no match
    failed = run("c", ("t.one", U1), ("t.two", U2), failed=("t.two",))
    frame = rates([renamed, reused_name, failed])
    assert frame.loc["cap", T.CLOUDS_PASSING] == 1
    assert frame.loc["cap", T.PASS_RATE] == pytest.approx(1 / 3)


def test_threshold_and_capabilities_without_countable_tests() -> None:
    only_flagged = Capability(name="flagged-only", tests=(TestEntry(name="t.flagged", uuid=U3, flag=Flag(reason="x")),))
    runs = [run("a", ("t.one", U1), ("t.two", U2)), run("b", ("t.one", U1))]
    definitions = {"cap": CAP, "flagged-only": only_flagged}
    at_half = rates(runs, definitions)
    assert at_half.loc["cap", "deployed"] == 1.0
    assert rates(runs, definitions, threshold=0.6).loc["cap", "deployed"] == 0.0
    assert pd.isna(at_half.loc["flagged-only", T.PASS_RATE]) and pd.isna(at_half.loc["flagged-only", "deployed"])


def test_no_runs_gives_no_rates() -> None:
    frame = rates([])
    assert frame.loc["cap", T.CLOUDS] == 0 and pd.isna(frame.loc["cap", T.PASS_RATE])


def brute_force(definitions: dict[str, Capability], runs: list[RunReport]) -> dict[str, int | None]:
    latest = {r.cpid: r for r in runs}
    out: dict[str, int | None] = {}
    for name, capability in definitions.items():
        counted = [e for e in capability.tests if not e.flagged]
        if not counted or not latest:
            out[name] = None
            continue

        def passes(entry: TestEntry, report: RunReport) -> bool:
            return any(
                r.passed
                and (
                    (entry.uuid is not None and r.idempotent_id == entry.uuid)
                    or (r.test_id in entry.names() and (r.idempotent_id is None or entry.uuid is None))
                )
                for r in report.results
            )

        out[name] = sum(all(passes(e, report) for e in counted) for report in latest.values())
    return out


TEST_POOL = [(f"t.{i}", uuid.UUID(int=100 + i) if i % 3 else None) for i in range(4)]
entry_st = st.builds(
    lambda i, alias, flag: TestEntry(
        name=TEST_POOL[i][0],
        uuid=TEST_POOL[i][1],
        aliases=(TEST_POOL[i][0] + "x",) if alias else (),
        flag=Flag(reason="D401") if flag else None,
    ),
    st.integers(0, 3),
    st.booleans(),
    st.booleans(),
)
case_st = st.builds(
    lambda i, renamed, id_kind, ok: CaseResult(
        test_id=TEST_POOL[i][0] + ("x" if renamed else ""),
        idempotent_id=[TEST_POOL[i][1], None, uuid.UUID(int=999)][id_kind],
        outcome=Outcome.SUCCESS if ok else Outcome.FAIL,
    ),
    st.integers(0, 3),
    st.booleans(),
    st.integers(0, 2),
    st.booleans(),
)
run_st = st.builds(
    lambda cpid, cases: RunReport(cpid=cpid, duration_seconds=1, results=tuple(cases)),
    st.sampled_from(["a", "b", "c"]),
    st.lists(case_st, max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(entry_st, max_size=3), min_size=1, max_size=4), st.lists(run_st, max_size=5))
def test_vectorised_pass_rates_equal_a_brute_force_count(entries: list[list[TestEntry]], runs: list[RunReport]) -> None:
    definitions = {f"cap{i}": Capability(name=f"cap{i}", tests=tuple(e)) for i, e in enumerate(entries)}
    frame = rates(runs, definitions, threshold=0.5).reindex(list(definitions))
    for name, expected in brute_force(definitions, runs).items():
        if expected is None:
            assert pd.isna(frame.loc[name, T.PASS_RATE])
        else:
            assert frame.loc[name, T.CLOUDS_PASSING] == expected


def test_evidence_for_sticky_stable_and_non_admin(make_guideline: Callable[..., Guideline]) -> None:
    current = make_guideline(
        {"a-x": "required", "b-x": "required", "c-x": "advisory"}, gid="2030.03", admin={"b-x": True}
    )
    p1 = make_guideline({"a-x": "required", "b-x": "advisory"}, gid="2030.02")
    p2 = make_guideline({"a-x": "required", "b-x": "advisory"}, gid="2030.01")
    sheet = read_worksheet(
        "a-x: [1,1,1] [1,1,0] [1,1,0] [1,1,1] [1]\n"
        "b-x: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"
        "c-x: [?,1,1] [1,1,?] [1,1,?] [1,1,1] [?]\n",
        source="w.txt",
    )
    result = assess(sheet, current, previous=[p1, p2])
    evidence = result.evidence
    assert evidence.loc["a-x", ["sticky", "stable", "non_admin"]].tolist() == [1.0, 1.0, 1.0]
    assert evidence.loc["b-x", ["sticky", "stable", "non_admin"]].tolist() == [0.0, 1.0, 0.0]
    assert evidence.loc["c-x", ["sticky", "stable"]].tolist() == [0.0, 0.0]
    found = result.disagreements[result.disagreements[T.KIND].str.startswith("evidence")]
    pairs = {(r[T.CAPABILITY], r[T.CRITERION], r[T.KIND], r[T.BOARD], r[T.EVIDENCE]) for r in found.to_dict("records")}
    assert pairs == {
        ("a-x", "sticky", "evidence-disagrees", "0", "1"),
        ("a-x", "stable", "evidence-disagrees", "0", "1"),
        ("b-x", "sticky", "evidence-disagrees", "1", "0"),
        ("b-x", "non_admin", "evidence-disagrees", "1", "0"),
        ("c-x", "sticky", "evidence-for-unscored", "?", "0"),
        ("c-x", "stable", "evidence-for-unscored", "?", "0"),
        ("c-x", "non_admin", "evidence-for-unscored", "?", "1"),
    }
    assert set(found[T.RULE]) == {"the board's mark wins"}
    filled = apply_evidence(result.scored.marks, evidence)
    assert filled.loc["c-x", ["deployed", "stable", "sticky", "non_admin"]].tolist() == ["?", "0", "0", "1"]
    assert filled.loc["a-x", ["sticky", "stable"]].tolist() == ["0", "0"]  # the board's marks stay


def test_deployed_evidence_from_runs(make_guideline: Callable[..., Guideline]) -> None:
    guideline = make_guideline({"a-x": "required"}, tests={"a-x": [{"name": "t.a", "idempotent_id": f"id-{U1}"}]})
    sheet = read_worksheet("a-x: [0,1,1] [1,1,1] [1,1,0] [1,1,1] [1]\n", source="w.txt")
    runs = Runs(*T.results_frames([run("a", ("t.a", U1)), run("b", ("t.a", None)), run("c")]))
    result = assess(sheet, guideline, runs=runs)
    assert result.evidence.loc["a-x", [T.CLOUDS, T.CLOUDS_PASSING, "deployed"]].tolist() == [3, 2, 1.0]
    (row,) = result.disagreements[result.disagreements[T.CRITERION].eq("deployed")].to_dict("records")
    assert (row[T.BOARD], row[T.EVIDENCE]) == ("0", "1")
    assert row[T.DETAIL].startswith("pass rate 0.667 (2 of 3 clouds pass every non-flagged test")


def test_api_pass_rates_returns_plain_rows(make_guideline: Callable[..., Guideline]) -> None:
    guideline = make_guideline(
        {"a-x": "required", "b-x": "advisory"}, tests={"a-x": [{"name": "t.a", "idempotent_id": f"id-{U1}"}], "b-x": []}
    )
    rows = api.pass_rates([run("a", ("t.a", U1)), run("b")], guideline, "platform")
    assert rows == [
        {
            "capability": "a-x",
            "tests": 1,
            "counted_tests": 1,
            "clouds": 2,
            "clouds_passing": 1,
            "pass_rate": 0.5,
            "test_pass_rate": 0.5,
            "deployed": 1.0,
        },
        {
            "capability": "b-x",
            "tests": 0,
            "counted_tests": 0,
            "clouds": 2,
            "clouds_passing": 0,
            "pass_rate": None,
            "test_pass_rate": None,
            "deployed": None,
        },
    ]


def test_results_documents_v1_and_extended(tmp_path: Path) -> None:
    v1 = {"cpid": "cloud-1", "duration_seconds": 5, "results": [{"name": "t.a", "uuid": str(U1)}]}
    extended = {
        "schema": "tcup.run/1",
        "cpid": "cloud-2",
        "duration_seconds": 5,
        "provenance": {},
        "results": [{"name": "t.a", "uuid": str(U1), "outcome": "fail"}],
    }
    folder = tmp_path / "runs"
    folder.mkdir()
    (folder / "1.json").write_text(json.dumps(v1))
    (folder / "2.json").write_text(json.dumps(extended))
    runs = read_runs([folder])
    assert [(r.cpid, r.results[0].passed) for r in runs] == [("cloud-1", True), ("cloud-2", False)]
    (tmp_path / "bad.json").write_text('{"cpid": "x"}')
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ResultsError) as caught:
        read_runs([tmp_path / "bad.json", tmp_path / "broken.json"])
    problems = caught.value.problems
    assert any(p.startswith(f"{tmp_path / 'bad.json'}: 'duration_seconds' is required") for p in problems)
    assert any(p.startswith(f"{tmp_path / 'broken.json'}: not valid JSON at line 1") for p in problems)
