"""Resolution of guideline tests against Tempest: id first, then name, then alias."""

from __future__ import annotations

import json
import time
from pathlib import Path
from uuid import UUID

import pytest

from interop_model.guideline_loader import load_guideline_text
from interop_model.guidelines import Flag, Status, TestEntry
from tcup.resolution import Match, resolve_entries, select_entries
from tcup.test_index import TempestInstall, TestIndex
from tests.conftest import skip_or_fail

U1 = UUID("11111111-1111-4111-8111-111111111111")
U2 = UUID("22222222-2222-4222-8222-222222222222")
U3 = UUID("33333333-3333-4333-8333-333333333333")
INSTALL = TempestInstall("47.0.0", "/nowhere/tempest", ())


def index(*ids: str) -> TestIndex:
    return TestIndex(INSTALL, list(ids))


def resolve_one(entry: TestEntry, idx: TestIndex):
    return resolve_entries([("cap", Status.REQUIRED, entry)], idx).items[0]


def test_same_id_and_name() -> None:
    r = resolve_one(TestEntry(name="tempest.a.T.test_x", uuid=U1), index(f"tempest.a.T.test_x[id-{U1},smoke]"))
    assert (r.how, r.local_id, r.local_name) == (Match.ID, f"tempest.a.T.test_x[id-{U1},smoke]", "tempest.a.T.test_x")


def test_renamed_test_found_by_id() -> None:
    r = resolve_one(TestEntry(name="tempest.a.Old.test_x", uuid=U1), index(f"tempest.b.New.test_x[id-{U1}]"))
    assert r.how is Match.RENAMED and r.local_name == "tempest.b.New.test_x"
    assert "now tempest.b.New.test_x" in r.note


def test_a_resolved_entry_as_json_fields() -> None:
    r = resolve_one(TestEntry(name="tempest.a.Old.test_x", uuid=U1), index(f"tempest.b.New.test_x[id-{U1}]"))
    fields = {
        "capability": "cap",
        "name": "tempest.a.Old.test_x",
        "idempotent_id": str(U1),
        "match": "renamed",
        "local_id": f"tempest.b.New.test_x[id-{U1}]",
        "note": r.note,
    }
    assert list(r.as_dict().items()) == list(fields.items())  # compliance.json's unresolved entries
    with_status = {"capability": "cap", "status": "required", **fields}
    assert list(r.as_dict(with_status=True).items()) == list(with_status.items())  # list-tests --format json
    missing = resolve_one(TestEntry(name="tempest.a.T.test_gone"), index())
    assert missing.as_dict()["idempotent_id"] is None and missing.as_dict()["local_id"] is None


def test_id_matching_an_alias() -> None:
    entry = TestEntry(name="tempest.a.Old.test_x", uuid=U1, aliases=("tempest.a.Manual.test_x",))
    idx = index(f"tempest.a.Manual.test_x[id-{U1}]", f"tempest.z.Other.test_x[id-{U1}]")
    assert resolve_one(entry, idx).how is Match.ALIAS


def test_id_first_even_when_the_name_exists_with_another_id() -> None:
    idx = index(f"tempest.a.T.test_x[id-{U2}]", f"tempest.a.T.test_y[id-{U1}]")
    r = resolve_one(TestEntry(name="tempest.a.T.test_x", uuid=U1), idx)
    assert r.how is Match.RENAMED and r.local_name == "tempest.a.T.test_y"


def test_name_when_the_guideline_has_no_id_or_tempest_lost_it() -> None:
    idx = index("tempest.a.T.test_x[smoke]", f"tempest.a.T.test_y[id-{U2}]")
    assert resolve_one(TestEntry(name="tempest.a.T.test_x"), idx).how is Match.NAME
    r = resolve_one(TestEntry(name="tempest.a.T.test_y", uuid=U3), idx)
    assert r.how is Match.NAME and str(U3) in r.note


def test_alias_by_name() -> None:
    entry = TestEntry(name="tempest.a.Gone.test_x", aliases=("tempest.a.Kept.test_x",))
    assert resolve_one(entry, index("tempest.a.Kept.test_x")).how is Match.ALIAS


def test_missing_tests_say_why() -> None:
    idx = index(f"tempest.a.T.test_y[id-{U2}]")
    r = resolve_one(TestEntry(name="tempest.a.T.test_x", uuid=U1), idx)
    assert r.how is Match.MISSING and r.local_id is None and str(U1) in r.note
    plugin = resolve_one(TestEntry(name="designate_tempest_plugin.tests.T.test_z", uuid=U3), idx)
    assert plugin.how is Match.MISSING and "designate_tempest_plugin" in plugin.note


def test_plugin_tests_resolve_like_core_ones() -> None:
    idx = index(f"heat_tempest_plugin.tests.api.T.test_a[id-{U1}]")
    r = resolve_one(TestEntry(name="heat_tempest_plugin.tests.api.T.test_a", uuid=U1), idx)
    assert r.how is Match.ID


def test_include_patterns_are_anchored_and_escaped() -> None:
    res = resolve_entries(
        [("c", None, TestEntry(name="tempest.a.T.test_x", uuid=U1))],
        index(f"tempest.a.T.test_x[id-{U1}]", "tempest.a.T.test_x_more"),
    )
    (pattern,) = res.include_patterns()
    import re

    assert re.search(pattern, f"tempest.a.T.test_x[id-{U1}]")
    assert re.search(pattern, "tempest.a.T.test_x")
    assert not re.search(pattern, "tempest.a.T.test_x_more")
    assert not re.search(pattern, "tempestXaXTXtest_x")


def test_select_entries_filters(interop_dir: Path) -> None:
    g = load_guideline_text((interop_dir / "2020.06.json").read_bytes(), source="2020.06.json")
    every = select_entries(g, "platform", statuses=[Status.REQUIRED])
    assert len(every) == 286
    assert len(select_entries(g, "platform", statuses=[Status.REQUIRED], flagged=False)) == 275
    only = select_entries(g, "platform", capabilities=["identity-v3-tokens-create"])
    assert {c for c, _, _ in only} == {"identity-v3-tokens-create"} and only[0][1] is Status.REQUIRED
    assert all(isinstance(e.flag, Flag | None) for _, _, e in every)


@pytest.fixture(scope="module")
def real_index():
    """The index of the pinned Tempest (skips when it is not installed)."""
    from tcup.errors import TempestNotFound
    from tcup.tempest_env import find_tempest
    from tcup.test_index import load_test_index

    try:
        env = find_tempest()
    except TempestNotFound as exc:
        skip_or_fail(f"no Tempest installed: {exc}")
    return load_test_index(env)


def test_whole_2020_06_against_the_pinned_tempest(interop_dir: Path, real_index: TestIndex) -> None:
    g = load_guideline_text((interop_dir / "2020.06.json").read_bytes(), source="2020.06.json")
    res = resolve_entries(select_entries(g, "platform", statuses=[Status.REQUIRED]), real_index)
    assert real_index.install.version == "47.0.0"
    assert res.counts() == {"id": 284, "renamed": 1, "name": 0, "alias": 0, "missing": 1}
    (renamed,) = [r for r in res.items if r.how is Match.RENAMED]
    assert renamed.local_name == (
        "tempest.api.network.admin.test_routers.RoutersAdminTest.test_update_router_unset_gateway"
    )
    (missing,) = res.missing()
    assert missing.entry.name.endswith("VolumesMetadataTest.test_update_snapshot_metadata")
    assert missing.entry.flag is not None and missing.entry.flag.code == "D406"


def test_resolving_a_whole_guideline_is_fast(interop_dir: Path, real_index: TestIndex) -> None:
    """Not a timing assertion on the machine's speed: a generous bound that catches a full
    ``stestr list`` (seconds) sneaking back into the resolve path; bench/ holds the figures."""
    g = load_guideline_text((interop_dir / "2020.06.json").read_bytes(), source="2020.06.json")
    start = time.perf_counter()
    resolve_entries(select_entries(g, "platform"), real_index)
    assert time.perf_counter() - start < 1.0


def test_index_cache_is_keyed_by_versions(tmp_path: Path, real_index: TestIndex) -> None:
    from tcup.tempest_env import find_tempest
    from tcup.test_index import load_test_index

    again = load_test_index(find_tempest(), cache=tmp_path)
    (cached,) = tmp_path.iterdir()
    assert cached.name.startswith("tempest-47.0.0")
    assert json.loads(cached.read_text())["ids"] == again.ids == real_index.ids
