"""The shared exemption list and its version ranges (standard library only)."""

from __future__ import annotations

import pytest

from interop_model.exemptions import (
    ExemptionKind,
    InvalidExemptions,
    VersionRange,
    applicable_exemptions,
    bundled_exemptions,
    read_exemptions,
)

MARKER = "tempest.api.object_storage.test_account_services.AccountTest.test_list_containers_with_marker"


@pytest.mark.parametrize(
    ("spec", "version", "inside"),
    [
        (">=47.0.0", "47.0.0", True),
        (">=47.0.0", "47", True),
        (">=47.0.0", "48.1.0", True),
        (">=47.0.0", "46.0.0", False),
        (">=47.0.0", "46.9.9", False),
        (">=47.0.0,<48", "47.5.1", True),
        (">=47.0.0,<48", "48.0.0", False),
        (" >= 47 , < 48 ", "47.0.0", True),
        ("==47.0.0", "47", True),
        ("!=47.0.0", "47.0.0", False),
        (">46", "46.0.0", False),
        ("<=46", "46.0.0", True),
        (">=47.0.0", "47.0.0+local.1", True),
        (">=47.0.0", "48.0.0rc1", False),  # a pre-release gets no exemption
        (">=47.0.0", "47.0.1.dev3", False),
        (">=47.0.0", "not a version", False),
    ],
)
def test_version_ranges(spec: str, version: str, inside: bool) -> None:
    assert (version in VersionRange.parse(spec)) is inside


@pytest.mark.parametrize("spec", ["", "47", "~=47.0", "==47.*", ">=47.0.0rc1", ">=47;<48", ">=47,,<48", "=>47"])
def test_anything_but_simple_clauses_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="clause|empty"):
        VersionRange.parse(spec)


def test_the_range_prints_as_written() -> None:
    assert str(VersionRange.parse(" >= 47.0.0 , <48")) == ">=47.0.0,<48"


def test_the_bundled_list_holds_the_marker_test_for_tempest_47_only() -> None:
    (marker,) = [e for e in bundled_exemptions() if e.test == MARKER]
    assert marker.kind is ExemptionKind.TEMPEST_NON_ADMIN and "bug#2147232" in marker.reason
    assert "launchpad" in marker.source
    assert applicable_exemptions([marker], "47.0.0") == [marker]
    assert applicable_exemptions([marker], "46.0.0") == [] and applicable_exemptions([marker], None) == []
    assert marker.covers("skip") and marker.covers(None) and not marker.covers("fail")
    assert marker.to_dict()["tempest"] == ">=47.0.0"


def test_every_problem_of_a_document_is_listed() -> None:
    data = {"exemptions": [{"test": "t", "kind": "nope", "tempest": "about 47", "reason": "r", "source": "", "x": 1}]}
    with pytest.raises(InvalidExemptions) as caught:
        read_exemptions(data, source="x.json")
    problems = caught.value.problems
    assert any("unknown field 'x'" in p for p in problems)
    assert any("kind must be" in p for p in problems)
    assert any("about 47" in p for p in problems)
    assert any("'source'" in p for p in problems)
    with pytest.raises(InvalidExemptions):
        read_exemptions([1, 2], source="x.json")
