"""The upload and extended documents: exact shapes, lossless round trips, every problem listed."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interop_model.errors import InvalidRunDocument
from interop_model.results import CaseResult, Outcome, Provenance, RunReport, parse_test_id
from interop_model.wire import (
    EXTENDED_SCHEMA,
    dumps_v1,
    from_extended_document,
    from_v1_document,
    loads_extended,
    loads_v1,
    to_extended_document,
    to_v1_document,
)

names = st.from_regex(r"[a-z_]{1,8}(\.[A-Za-z_][A-Za-z0-9_]{0,10}){1,5}( \(\w+\))?", fullmatch=True)
texts = st.text(min_size=1, max_size=40)
uuids = st.uuids()


@st.composite
def v1_documents(draw: st.DrawFn) -> dict:
    items = draw(st.lists(st.tuples(names, st.none() | uuids), min_size=1, max_size=30, unique_by=lambda t: t[0]))
    results = [{"name": n} if u is None else {"name": n, "uuid": str(u)} for n, u in items]
    return {"cpid": draw(texts.filter(str.strip)), "duration_seconds": draw(st.integers(0, 10**6)), "results": results}


@st.composite
def runs(draw: st.DrawFn) -> RunReport:
    cases = draw(
        st.lists(
            st.builds(
                CaseResult,
                test_id=names,
                idempotent_id=st.none() | uuids,
                outcome=st.sampled_from(list(Outcome)),
                duration=st.none() | st.floats(0, 1e5, allow_nan=False),
                reason=st.none() | st.text(max_size=200),
                attrs=st.lists(st.sampled_from(["smoke", "negative", "slow"]), max_size=2).map(tuple),
            ),
            max_size=20,
        )
    )
    provenance = draw(
        st.builds(
            Provenance,
            tempest_version=st.none() | st.just("47.0.0"),
            plugins=st.lists(st.tuples(texts, texts), max_size=2).map(tuple),
            guideline=st.none() | st.just("2020.06"),
            target=st.none() | st.sampled_from(["platform", "object"]),
            region=st.none() | texts,
        )
    )
    return RunReport(
        cpid=draw(texts.filter(str.strip)),
        duration_seconds=draw(st.integers(0, 10**6)),
        results=tuple(cases),
        provenance=provenance,
    )


@given(v1_documents())
def test_v1_document_round_trips(doc: dict) -> None:
    run = from_v1_document(doc)
    assert to_v1_document(run) == doc
    assert loads_v1(dumps_v1(doc)) == run
    assert from_v1_document(to_v1_document(run)) == run


@given(runs())
def test_extended_document_round_trips(run: RunReport) -> None:
    assert from_extended_document(to_extended_document(run)) == run
    assert loads_extended(json.dumps(to_extended_document(run))) == run


@given(runs())
def test_v1_carries_passes_only_each_name_once(run: RunReport) -> None:
    doc = to_v1_document(run)
    assert set(doc) == {"cpid", "duration_seconds", "results"}
    assert [r["name"] for r in doc["results"]] == list(dict.fromkeys(r.test_id for r in run.results if r.passed))
    assert all(set(item) <= {"name", "uuid"} for item in doc["results"])


def test_dumps_v1_matches_refstack_client_serialisation() -> None:
    doc = {"cpid": "abc", "duration_seconds": 3, "results": [{"name": "tempest.a.B.test_c", "uuid": str(UUID(int=1))}]}
    assert dumps_v1(doc) == json.dumps(doc).encode("utf-8")
    assert b'", "' in dumps_v1(doc) and b'": ' in dumps_v1(doc)


def test_refstack_example_document() -> None:
    doc = {
        "cpid": "0c6d3f4e7a5b4f1e9a3c2b1d0e9f8a7b",
        "duration_seconds": 1830,
        "results": [
            {
                "name": "tempest.api.compute.servers.test_create_server.ServersTestJSON"
                ".test_host_name_is_same_as_server_name",
                "uuid": "ac1ad47f-984b-4441-9274-c9079b7a0666",
            }
        ],
    }
    run = from_v1_document(doc)
    assert run.results[0].idempotent_id == UUID("ac1ad47f-984b-4441-9274-c9079b7a0666")


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(InvalidRunDocument) as info:
        from_v1_document(
            {
                "cpid": 7,
                "duration_seconds": 1.5,
                "meta": {"shared": "true"},
                "results": [{"name": ""}, "text", {"name": "ok.name", "uuid": "not-a-uuid"}],
            }
        )
    problems = info.value.problems
    assert len(problems) == 6, problems
    assert any("unknown top-level key 'meta'" in p for p in problems)
    assert any("'cpid' must be non-empty text" in p for p in problems)
    assert any("'duration_seconds' must be a whole number" in p for p in problems)
    assert any(p.startswith("results[0].name") for p in problems)
    assert any(p.startswith("results[1]:") for p in problems)
    assert any(p.startswith("results[2].uuid") for p in problems)


def test_missing_keys_and_empty_results() -> None:
    with pytest.raises(InvalidRunDocument) as info:
        from_v1_document({})
    assert len(info.value.problems) == 3
    with pytest.raises(InvalidRunDocument, match="at least one passing test"):
        from_v1_document({"cpid": "c", "duration_seconds": 0, "results": []})
    with pytest.raises(InvalidRunDocument, match="must be a JSON object"):
        from_v1_document([1, 2])
    with pytest.raises(InvalidRunDocument, match=r"not JSON \(line 1, column 2"):
        loads_v1(b"{nope")


def test_unknown_item_keys_are_ignored_and_duplicates_collapse() -> None:
    run = from_v1_document(
        {"cpid": "c", "duration_seconds": 0, "results": [{"name": "a.b", "uid": "x"}, {"name": "a.b"}, {"name": "c.d"}]}
    )
    assert [r.test_id for r in run.results] == ["a.b", "c.d"]


def test_extended_document_checks() -> None:
    good = to_extended_document(
        RunReport(
            cpid="c",
            duration_seconds=1,
            results=(CaseResult(test_id="a.b", outcome=Outcome.FAIL, reason="boom", duration=0.5),),
        )
    )
    assert good["schema"] == EXTENDED_SCHEMA
    bad = {**good, "schema": "other/9", "results": [{"name": "a.b", "outcome": "exploded", "duration": -1}]}
    with pytest.raises(InvalidRunDocument) as info:
        from_extended_document(bad)
    assert len(info.value.problems) == 3


@pytest.mark.parametrize(
    ("test_id", "name", "uuid", "attrs"),
    [
        (
            "tempest.a.B.test_c[id-ac1ad47f-984b-4441-9274-c9079b7a0666,smoke]",
            "tempest.a.B.test_c",
            UUID("ac1ad47f-984b-4441-9274-c9079b7a0666"),
            ("smoke",),
        ),
        (
            "tempest.scenario.T.test_x[compute,id-ac1ad47f-984b-4441-9274-c9079b7a0666](scn)",
            "tempest.scenario.T.test_x(scn)",
            UUID("ac1ad47f-984b-4441-9274-c9079b7a0666"),
            ("compute",),
        ),
        ("tempest.a.B.test_c", "tempest.a.B.test_c", None, ()),
        ("tempest.a.B.test_c[negative]", "tempest.a.B.test_c", None, ("negative",)),
        ("t.A.test[x][y]", "t.A.test", None, ("x][y",)),
    ],
)
def test_parse_test_id_follows_refstack(test_id: str, name: str, uuid: UUID | None, attrs: tuple) -> None:
    assert parse_test_id(test_id) == (name, uuid, attrs)


def test_extended_selection_round_trips_and_is_optional() -> None:
    from interop_model.results import RunSelection
    from interop_model.wire import dumps_extended, loads_extended, to_extended_document

    selection = RunSelection(
        guideline="2020.06", target="object", capability_globs=("objectstore-*",), capabilities=("a", "b")
    )
    run = RunReport(cpid="c", duration_seconds=1, selection=selection)
    assert loads_extended(dumps_extended(run)) == run
    assert to_extended_document(run)["selection"]["capabilities"] == ["a", "b"]
    assert "selection" not in to_extended_document(RunReport(cpid="c", duration_seconds=1))
    doc = to_extended_document(run)
    doc["selection"] = {"guideline": "", "target": 3, "capabilities": "a", "zzz": 1}
    with pytest.raises(InvalidRunDocument) as info:
        loads_extended(json.dumps(doc))
    assert len(info.value.problems) == 4
