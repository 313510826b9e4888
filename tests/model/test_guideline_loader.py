"""The loader reads every guideline file in the interop repository and reports its flaws."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest

from interop_model.errors import InvalidGuideline
from interop_model.guideline_loader import guideline_from_dict, load_guideline_text
from interop_model.guidelines import Guideline, Status

GUIDELINE_FILES = [
    "2015.03.json",
    "2015.04.json",
    "2015.05.json",
    "2015.07.json",
    "2015.next.json",
    "2016.01.json",
    "2016.08.json",
    "2016.next.json",
    "2017.01.json",
    "2017.08.json",
    "2017.09.json",
    "2018.02.json",
    "2018.11.json",
    "2019.06.json",
    "2019.11.json",
    "2020.06.json",
    "next.json",
    "havanacore.json",
    "icehousecore.json",
    "junocore.json",
    "legacy/havanacore.json",
    "legacy/icehousecore.json",
    "legacy/junocore.json",
    "drafts/havanacore.json",
    "verticals/nfv.next.json",
    "doc/source/schema/next.2.0.json",
    *(
        f"add-ons/{a}.{v}.json"
        for a in ("dns", "orchestration")
        for v in ("2018.02", "2018.11", "2019.06", "2019.11", "2020.06", "next")
    ),
]
NOT_GUIDELINES = [
    "newcaps.json",
    "havana/capabilities.json",
    "havana/coretests.json",
    "havana/drivers.json",
    "doc/source/schema/1.5.json",
    "doc/source/schema/1.6.json",
    "doc/source/schema/2.0.json",
]
INVALID_JSON = ["havanasections.json", "legacy/havanasections.json"]


def load(interop: Path, name: str) -> Guideline:
    return load_guideline_text((interop / name).read_bytes(), source=name)


def codes(g: Guideline) -> Counter[str]:
    return Counter(w.code for w in g.warnings)


def warned(g: Guideline, code: str, where_part: str) -> bool:
    return any(w.code == code and where_part in w.where for w in g.warnings)


@pytest.mark.parametrize("name", GUIDELINE_FILES)
def test_every_guideline_file_loads(interop_dir: Path, name: str) -> None:
    g = load(interop_dir, name)
    assert g.id and g.capabilities and g.targets
    assert g.schema in {"1.0", "1.2", "1.3", "1.5", "1.6", "2.0"}
    for cap in g.capabilities.values():
        assert all(t.name and "." in t.name for t in cap.tests), cap.name


def test_no_json_file_is_left_unclassified(interop_dir: Path) -> None:
    every = {str(p.relative_to(interop_dir)) for p in interop_dir.rglob("*.json")}
    assert every == set(GUIDELINE_FILES) | set(NOT_GUIDELINES) | set(INVALID_JSON)


@pytest.mark.parametrize("name", INVALID_JSON)
def test_invalid_json_names_file_line_and_column(interop_dir: Path, name: str) -> None:
    with pytest.raises(InvalidGuideline) as info:
        load(interop_dir, name)
    assert str(info.value).startswith(f"{name}: ")
    assert "line 52, column 10" in str(info.value)


@pytest.mark.parametrize("name", NOT_GUIDELINES)
def test_files_shaped_otherwise_are_not_guidelines(interop_dir: Path, name: str) -> None:
    with pytest.raises(InvalidGuideline, match="this is not a guideline"):
        load(interop_dir, name)


def test_plain_text_flagged_list_is_refused_clearly(interop_dir: Path) -> None:
    with pytest.raises(InvalidGuideline, match=r"not valid JSON at line 1, column 1"):
        load_guideline_text((interop_dir / "flagged_list").read_bytes(), source="flagged_list")


@pytest.mark.parametrize("version", ["2018.02", "2018.11", "2019.06", "2019.11", "2020.06", "next"])
def test_misspelt_achievements_key_is_reported_and_still_read(interop_dir: Path, version: str) -> None:
    g = load(interop_dir, f"{version}.json")
    for cap in ("objectstore-slo-support", "objectstore-dlo-support"):
        assert warned(g, "misspelt-key", f"capabilities.{cap}.acheivements")
        assert warned(g, "unknown-achievement", f"capabilities.{cap}.achievements")
        # "discoverable" is read as the criterion it means
        assert "discover" in g.capabilities[cap].achievements


@pytest.mark.parametrize("version", ["2018.11", "2019.06", "2019.11", "2020.06", "next"])
def test_tokens_delete_flaws(interop_dir: Path, version: str) -> None:
    g = load(interop_dir, f"{version}.json")
    assert warned(g, "misspelt-key", "capabilities.identity-v3-tokens-delete.descriptin")
    assert warned(g, "empty-achievement", "capabilities.identity-v3-tokens-delete.achievements")
    assert g.capabilities["identity-v3-tokens-delete"].achievements == ()


def test_misspelt_idempotent_id_in_2017_08(interop_dir: Path) -> None:
    g = load(interop_dir, "2017.08.json")
    hits = [w for w in g.warnings if w.code == "misspelt-key" and w.where.endswith(".idempotent-id")]
    assert len(hits) == 2
    # the id is still used for matching, but the RefStack list shows an empty bracket
    entries = [e for c in g.capabilities.values() for e in c.tests if e.stored_id is None and e.uuid]
    assert len(entries) == 2


@pytest.mark.parametrize("name", ["2015.next.json", "2016.next.json"])
def test_flag_spelt_without_ged_is_reported_and_not_a_flag(interop_dir: Path, name: str) -> None:
    g = load(interop_dir, name)
    hits = [w for w in g.warnings if w.code == "misspelt-key" and w.where.endswith(".flag")]
    assert len(hits) == 23
    assert all("NOT treated as flagged" in w.message for w in hits)
    misspelt = {w.where.split(".tests.")[1].removesuffix(".flag") for w in hits}
    entries = {e.name: e for c in g.capabilities.values() for e in c.tests}
    assert not any(entries[name].flagged for name in misspelt)


def test_idempotent_id_forms(interop_dir: Path) -> None:
    assert codes(load(interop_dir, "2016.01.json"))["suffixed-idempotent-id"] == 29
    assert codes(load(interop_dir, "2016.next.json"))["bare-idempotent-id"] == 3
    for name in ("2017.01.json", "2017.08.json"):
        assert warned(load(interop_dir, name), "missing-idempotent-id", "tempest.api.volume.NEED_TEST")
    for addon in ("dns", "orchestration"):
        g = load(interop_dir, f"add-ons/{addon}.2020.06.json")
        entries = [e for c in g.capabilities.values() for e in c.tests]
        assert codes(g)["bare-idempotent-id"] == len(entries) > 0
        assert all(e.uuid is not None for e in entries)


def test_normalised_ids_agree_across_forms(interop_dir: Path) -> None:
    g = load(interop_dir, "2016.01.json")
    suffixed = [e for c in g.capabilities.values() for e in c.tests if e.stored_id and "," in e.stored_id]
    assert len(suffixed) == 29
    assert all(e.stored_id and e.stored_id.startswith(f"id-{e.uuid},") for e in suffixed)


def test_flag_reasons_without_code(interop_dir: Path) -> None:
    g = load(interop_dir, "2020.06.json")
    resize = [w for w in g.warnings if w.code == "flag-without-code"]
    assert len(resize) == 4 and all("compute-servers-resize" in w.where for w in resize)
    flags = [e.flag for c in g.capabilities.values() for e in c.tests if e.flag]
    assert len(flags) == 11
    assert {f.code for f in flags} == {"D400", "D401", "D406", None}


@pytest.mark.parametrize(
    ("name", "undefined"),
    [
        ("2018.02.json", {"volumes-v2-attach-detach", "volumes-v3-attach-detach"}),
        ("2016.next.json", {"volumes-v2-create-from-snapshot"}),
    ],
)
def test_undefined_capabilities(interop_dir: Path, name: str, undefined: set[str]) -> None:
    g = load(interop_dir, name)
    found = {w.message.split("'")[1] for w in g.warnings if w.code == "undefined-capability"}
    assert found == undefined


def test_next_json_lists_14_undefined_removed_capabilities(interop_dir: Path) -> None:
    g = load(interop_dir, "next.json")
    hits = [w for w in g.warnings if w.code == "undefined-capability"]
    assert len(hits) == 14 and all(w.where.endswith("os_powered_compute.removed") for w in hits)


@pytest.mark.parametrize(
    ("name", "unlisted"),
    [
        ("2015.04.json", {"compute-floating-ips", "images-v1", "volume"}),
        ("2015.05.json", {"compute-floating-ips", "images-v1", "volume"}),
        ("2016.08.json", {"images-v2-import"}),
        ("2017.01.json", {"images-v2-import", "volumes-v3-upload"}),
        ("2018.02.json", {"images-v2-import", "volumes-v3-upload"}),
        ("2020.06.json", {"images-v2-import"}),
        ("next.json", {"images-v2-import"}),
        ("add-ons/orchestration.next.json", {"stack-list-resources", "stack-update"}),
    ],
)
def test_unlisted_capabilities(interop_dir: Path, name: str, unlisted: set[str]) -> None:
    g = load(interop_dir, name)
    assert {w.message.split("'")[1] for w in g.warnings if w.code == "unlisted-capability"} == unlisted


@pytest.mark.parametrize("version", ["2018.02", "2018.11", "2019.06", "2019.11", "2020.06", "next"])
def test_admin_flag_on_required_capabilities(interop_dir: Path, version: str) -> None:
    g = load(interop_dir, f"{version}.json")
    hits = {w.where.split("capabilities.")[1] for w in g.warnings if w.code == "admin-required"}
    assert hits == {"networks-l3-CRUD.admin", "networks-l3-router.admin"}


@pytest.mark.parametrize(
    ("version", "shared"),
    [
        ("2017.01", 61),
        ("2017.08", 59),
        ("2017.09", 59),
        ("2018.11", 59),
        ("2019.06", 59),
        ("2018.02", 57),
        ("2019.11", 2),
        ("2020.06", 2),
        ("next", 2),
    ],
)
def test_tests_shared_between_capabilities(interop_dir: Path, version: str, shared: int) -> None:
    assert codes(load(interop_dir, f"{version}.json"))["shared-test"] == shared


def test_stale_add_on_id(interop_dir: Path) -> None:
    g = load(interop_dir, "add-ons/orchestration.2018.02.json")
    assert g.id == "orchestration.next"
    assert warned(g, "id-mismatch", "metadata.id")


def test_clean_files_have_no_warnings(interop_dir: Path) -> None:
    assert load(interop_dir, "2015.03.json").warnings == ()
    assert load(interop_dir, "legacy/havanacore.json").warnings == ()


def test_model_of_2020_06(interop_dir: Path) -> None:
    g = load(interop_dir, "2020.06.json")
    assert (g.id, g.schema, g.status, g.kind, g.cutoff) == ("2020.06", "2.0", "approved", "core", 74)
    assert len(g.capabilities) == 79
    assert sum(len(c.tests) for c in g.capabilities.values()) == 289
    assert sum(bool(e.aliases) for c in g.capabilities.values() for e in c.tests) == 95
    assert sum(g.weights.values()) == 100 and g.weights["deployed"] == 8 and g.weights["future"] == 11
    assert [c.key for c in g.criteria][:3] == ["deployed", "tools", "clients"]
    assert g.targets == ("platform", "compute", "object")
    statuses = g.target_statuses("platform")
    assert sum(s is Status.REQUIRED for s in statuses.values()) == 78
    assert sum(s is Status.REQUIRED for s in g.target_statuses("compute").values()) == 60
    assert sum(s is Status.REQUIRED for s in g.target_statuses("object").values()) == 20


def test_cutoff_as_text_and_number(interop_dir: Path) -> None:
    assert load(interop_dir, "2017.09.json").cutoff == 74  # stored as the string "74"
    assert load(interop_dir, "add-ons/dns.2020.06.json").cutoff == 60
    assert load(interop_dir, "2015.03.json").cutoff is None


def test_add_on_programs(interop_dir: Path) -> None:
    g = load(interop_dir, "add-ons/dns.2020.06.json")
    program = g.program("dns")
    assert program.add_on and program.components == ("os_powered_dns",)
    assert program.prerequisites == ("os_powered_compute",)
    assert sum(g.weights.values()) == 75


# -- validation that catches garbage --------------------------------------------------------


def test_corrupted_capability_is_rejected_naming_it(interop_dir: Path) -> None:
    data = json.loads((interop_dir / "2020.06.json").read_text())
    data["capabilities"]["compute-servers-create"] = {"garbage": 1}
    with pytest.raises(InvalidGuideline) as info:
        guideline_from_dict(data, source="corrupt.json")
    assert "capabilities.compute-servers-create" in str(info.value)
    assert "'compute-servers-create' has no 'tests'" in str(info.value)


@pytest.mark.parametrize(
    "name", ["tempest.api.a b", "tempest.api.a\tb", "tempest.api.x\u2003y", " tempest.api.a", "nodots"]
)
def test_test_names_with_whitespace_or_without_dots_are_refused(interop_dir: Path, name: str) -> None:
    data = json.loads((interop_dir / "2020.06.json").read_text())
    tests = data["capabilities"]["images-v2-list"]["tests"]
    tests[name] = tests.pop(next(iter(tests)))
    with pytest.raises(InvalidGuideline) as info:
        guideline_from_dict(data, source="names.json")
    (problem,) = info.value.problems
    assert problem.startswith("capabilities.images-v2-list.tests") and problem.endswith(
        f"{name!r} is not a dotted test name"
    )


def test_every_structural_problem_is_listed_at_once(interop_dir: Path) -> None:
    data = json.loads((interop_dir / "2020.06.json").read_text())
    broken = copy.deepcopy(data)
    broken["capabilities"]["compute-servers-create"] = "oops"
    first_test = next(iter(broken["capabilities"]["images-v2-list"]["tests"]))
    broken["capabilities"]["images-v2-list"]["tests"][first_test] = ["not", "an", "object"]
    broken["capabilities"]["identity-v3-tokens-create"]["admin"] = "yes"
    broken["metadata"]["scoring"]["criteria"]["atomic"]["weight"] = "heavy"
    with pytest.raises(InvalidGuideline) as info:
        guideline_from_dict(broken, source="broken.json")
    problems = info.value.problems
    assert len(problems) == 4, problems
    assert any("capability 'compute-servers-create' must be an object, not text" in p for p in problems)
    assert any("test entry of 'images-v2-list' must be an object, not a list" in p for p in problems)
    assert any("identity-v3-tokens-create.admin" in p for p in problems)
    assert any("criteria.atomic: weight 'heavy'" in p for p in problems)


def test_unsupported_schema(interop_dir: Path) -> None:
    data = json.loads((interop_dir / "2020.06.json").read_text())
    data["metadata"]["schema"] = "3.1"
    with pytest.raises(InvalidGuideline, match="schema '3.1' is not supported"):
        guideline_from_dict(data, source="future.json")


@pytest.mark.parametrize("text", ["[" * 100000 + "]" * 100000, '{"a":' * 50000])
def test_a_deeply_nested_guideline_is_an_invalid_guideline(text: str) -> None:
    with pytest.raises(InvalidGuideline, match="deep.json: invalid guideline: nested too deeply to be read"):
        load_guideline_text(text, source="deep.json")
