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
# a cpid is printable: no control character or line separator (see test_control_characters_are_refused)
cpids = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40).filter(str.strip)
uuids = st.uuids()


@st.composite
def v1_documents(draw: st.DrawFn) -> dict:
    items = draw(st.lists(st.tuples(names, st.none() | uuids), min_size=1, max_size=30, unique_by=lambda t: t[0]))
    results = [{"name": n} if u is None else {"name": n, "uuid": str(u)} for n, u in items]
    return {"cpid": draw(cpids), "duration_seconds": draw(st.integers(0, 10**6)), "results": results}


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
            environments=st.lists(st.sampled_from(["devcloud", "lab"]), max_size=2).map(tuple),
        )
    )
    return RunReport(
        cpid=draw(cpids),
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
    with pytest.raises(InvalidRunDocument, match=r"not valid JSON at line 1, column 2"):
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


# -- hostile documents: control characters, bounds, deep nesting, huge values ---------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("tempest.api.a.T.test_x\ntempest.api.identity.v3.T.test_admin", "'\\n' (U+000A) at position 22"),
        ("tempest.api.a.T.test_\x1b[31mred", "'\\x1b' (U+001B) at position 21"),
        ("tempest.api.a.T.test_\x07", "'\\x07' (U+0007) at position 21"),
        ("tempest.api.a.T.test_\r", "'\\r' (U+000D) at position 21"),
        ("tempest.api.a.T.test_\u2028b", "'\\u2028' (U+2028) at position 21"),
        ("tempest.api.a.T.test_\x85", "'\\x85' (U+0085) at position 21"),
        ("tempest.api.a.T.test_\ud800", "'\\ud800' (U+D800) at position 21"),
    ],
)
def test_control_characters_in_test_names_are_refused_naming_the_item(name: str, shown: str) -> None:
    doc = {"cpid": "c", "duration_seconds": 1, "results": [{"name": "tempest.ok.T.test_ok"}, {"name": name}]}
    with pytest.raises(InvalidRunDocument) as info:
        from_v1_document(doc)
    kind = "a lone surrogate" if "U+D8" in shown else "a control character"
    assert info.value.problems == [f"results[1].name: holds {kind}, {shown} (test names are printable text)"]
    extended = {
        "schema": EXTENDED_SCHEMA,
        "cpid": "c",
        "duration_seconds": 1,
        "results": [{"name": name, "outcome": "success"}],
    }
    with pytest.raises(InvalidRunDocument, match=r"results\[0\]\.name: holds a (control character|lone surrogate)"):
        from_extended_document(extended)


def test_a_cpid_with_a_control_character_is_refused() -> None:
    with pytest.raises(InvalidRunDocument, match=r"'cpid' holds a control character, '\\n'"):
        from_v1_document({"cpid": "c\nd", "duration_seconds": 1, "results": [{"name": "a.b"}]})


def test_the_bounds_are_parameters() -> None:
    doc = {"cpid": "c", "duration_seconds": 1, "results": [{"name": f"t.x{i}"} for i in range(5)]}
    assert len(from_v1_document(doc, max_results=5).results) == 5
    with pytest.raises(InvalidRunDocument) as info:
        from_v1_document(doc, max_results=4)
    assert info.value.problems == [
        "'results' holds 5 items, more than the 4 accepted in one document (fix: split the run into several documents)"
    ]
    extended = to_extended_document(from_v1_document(doc))
    with pytest.raises(InvalidRunDocument, match="more than the 4 accepted"):
        from_extended_document(extended, max_results=4)
    with pytest.raises(InvalidRunDocument, match=r"results\[0\]\.name: 4 characters, longer than 3"):
        from_v1_document(doc, max_name_length=3)
    with pytest.raises(InvalidRunDocument, match=r"results\[0\]\.name: 4 characters, longer than 3"):
        from_extended_document(extended, max_name_length=3)


@pytest.mark.parametrize("body", ["[" * 100000 + "]" * 100000, '{"a":' * 50000, '{"cpid": ' + "[" * 5000])
def test_deeply_nested_json_is_a_malformed_document(body: str) -> None:
    with pytest.raises(InvalidRunDocument, match="the body is nested too deeply to be read"):
        loads_v1(body)
    with pytest.raises(InvalidRunDocument, match="the body is nested too deeply to be read"):
        loads_extended(body.encode())


def test_problems_quote_a_bounded_excerpt_of_bad_values() -> None:
    huge = "x" * 5_000_000
    nested: object = "leaf"
    for _ in range(500):
        nested = [nested]
    doc = {"cpid": "c", "duration_seconds": huge, huge: 1, "results": [{"name": "a.b", "uuid": nested}]}
    with pytest.raises(InvalidRunDocument) as info:
        from_v1_document(doc)
    assert len(info.value.problems) == 3
    assert all(len(p) < 300 for p in info.value.problems), [len(p) for p in info.value.problems]


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
