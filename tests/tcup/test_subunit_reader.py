"""The subunit reader against recorded Tempest streams (v2), their v1 translation, and damage."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from uuid import UUID

import pytest

from interop_model.results import CaseResult, Outcome
from tcup.subunit_reader import (
    TeeReader,
    copy_redacted,
    expand_class_results,
    read_results,
    read_results_file,
    read_stream,
)
from tests.tcup.subunit_streams import stream_bytes

TOKEN = "gAAAAABsecret-token-value"
ID = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token[id-6f8e4436-fc96-4282-8122-e41df57197a9]"


def _counts(results: list[CaseResult]) -> dict[str, int]:
    c = Counter(r.outcome for r in results)
    return {
        "passed": c[Outcome.SUCCESS] + c[Outcome.XFAIL],
        "failed": c[Outcome.FAIL] + c[Outcome.UXSUCCESS],
        "skipped": c[Outcome.SKIP],
    }


def _summaries(fixtures: Path) -> list[Path]:
    return sorted(fixtures.glob("*.summary.json"))


def test_recorded_v2_streams_match_their_summaries(subunit_fixtures: Path) -> None:
    summaries = _summaries(subunit_fixtures)
    assert summaries
    for summary_path in summaries:
        expected = json.loads(summary_path.read_text())
        read = read_results_file(summary_path.with_name(summary_path.name.replace(".summary.json", ".subunit")))
        assert read.version == 2
        assert not read.problems and not read.incomplete
        got = _counts(read.results)
        assert got == {k: expected[k] for k in ("passed", "failed", "skipped")}, summary_path.name
        skips = {r.test_id: r.reason for r in read.results if r.outcome is Outcome.SKIP}
        for test_id, reason in expected["skips"].items():
            name = test_id.split("[")[0]
            assert skips[name] == reason


def test_interop_stream_details(subunit_fixtures: Path) -> None:
    read = read_results_file(subunit_fixtures / "interop-2020.06-nonadmin.subunit")
    assert len(read.results) == 83
    by_name = {r.test_id: r for r in read.results}
    case = by_name["tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"]
    assert case.idempotent_id == UUID("6f8e4436-fc96-4282-8122-e41df57197a9")
    assert case.outcome is Outcome.SUCCESS and case.duration is not None and case.duration > 0
    assert all("[" not in r.test_id for r in read.results)


def test_v1_stream_gives_the_same_results(subunit_fixtures: Path, tmp_path: Path) -> None:
    v2 = subunit_fixtures / "image-nonadmin.subunit"
    v1 = tmp_path / "image.v1"
    with open(v2, "rb") as src, open(v1, "wb") as dst:
        subprocess.run(
            [sys.executable, "-c", "from subunit.filter_scripts.subunit_2to1 import main; main()"],
            stdin=src,
            stdout=dst,
            check=True,
        )
    assert v1.read_bytes()[:1] != b"\xb3"
    read_v1, read_v2 = read_results_file(v1), read_results_file(v2)
    assert read_v1.version == 1
    assert _counts(read_v1.results) == _counts(read_v2.results)
    assert {r.test_id for r in read_v1.results} == {r.test_id for r in read_v2.results}


def test_failures_keep_their_traceback_and_duration() -> None:
    data = stream_bytes(
        [
            (ID, "fail", "Traceback...\nAssertionError: 401 != 201"),
            ("tempest.a.B.test_skip[id-00000000-0000-4000-8000-000000000001]", "skip", "no nova"),
        ]
    )
    fail, skip = read_results(io.BytesIO(data))
    assert fail.outcome is Outcome.FAIL and fail.reason is not None and fail.reason.endswith("401 != 201")
    assert fail.duration == 1.0
    assert skip.outcome is Outcome.SKIP and skip.reason == "no nova"


def test_listener_sees_starts_and_ends_and_unfinished_tests_are_reported() -> None:
    events: list[str] = []

    class Listener:
        def test_started(self, test_id: str) -> None:
            events.append("start " + test_id.split("[")[0].rsplit(".", 1)[-1])

        def test_finished(self, case: CaseResult) -> None:
            events.append(f"end {case.test_id.rsplit('.', 1)[-1]} {case.outcome}")

    data = stream_bytes([(ID, "success", None)], unfinished=("tempest.x.Y.test_running",))
    read = read_stream(io.BytesIO(data), listener=Listener())
    assert events == ["start test_create_token", "end test_create_token success", "start test_running"]
    assert read.incomplete == ["tempest.x.Y.test_running"]


def test_a_truncated_stream_keeps_what_finished(subunit_fixtures: Path) -> None:
    data = (subunit_fixtures / "interop-2020.06-nonadmin.subunit").read_bytes()
    read = read_stream(io.BytesIO(data[: len(data) // 2]))
    assert 20 < len(read.results) < 83
    assert read.problems  # the cut packet is reported, not raised


def test_empty_stream() -> None:
    read = read_stream(io.BytesIO(b""))
    assert read.results == [] and read.problems == []


def test_tee_reader_copies_every_byte(subunit_fixtures: Path) -> None:
    data = (subunit_fixtures / "object-nonadmin.subunit").read_bytes()
    sink = io.BytesIO()
    tee = TeeReader(io.BytesIO(data), sink)  # type: ignore[arg-type]
    read = read_stream(tee)
    assert sink.getvalue() == data
    assert len(read.results) == 149


def test_copy_redacted_blanks_secrets_and_keeps_a_valid_stream() -> None:
    data = stream_bytes([(ID, "fail", f"X-Auth-Token: {TOKEN}\nboom"), (ID.replace("token[", "x["), "success", None)])
    out = io.BytesIO()
    changed = copy_redacted(io.BytesIO(data), out, [TOKEN])
    assert changed == 1
    assert TOKEN.encode() not in out.getvalue()
    results = read_results(io.BytesIO(out.getvalue()))
    assert [r.outcome for r in results] == [Outcome.FAIL, Outcome.SUCCESS]
    assert results[0].reason is not None and "***" in results[0].reason


@pytest.mark.parametrize("first", [b"", b"\xb3"])
def test_version_detection_of_empty_or_v2(first: bytes) -> None:
    assert read_stream(io.BytesIO(first)).version == 2


def test_a_failed_set_up_class_fails_each_selected_test_of_the_class() -> None:
    cls = "tempest.api.image.v2.test_images.ListUserImagesTest"
    data = stream_bytes(
        [
            (f"setUpClass ({cls})", "fail", "InvalidCredentials: no reader"),
            ("tempest.api.x.Other.test_a", "success", None),
            ("setUpClass (tempest.api.y.Unselected)", "skip", "no nova"),
        ]
    )
    selected = [
        f"{cls}.test_list_no_params[id-1e341d7a-90a9-494c-b143-2cdf2aeb6aee]",
        f"{cls}.test_by_name",
        "tempest.api.x.Other.test_a",
    ]
    results = expand_class_results(read_results(io.BytesIO(data)), selected)
    by_name = {r.test_id: r for r in results}
    assert set(by_name) == {
        f"{cls}.test_list_no_params",
        f"{cls}.test_by_name",
        "tempest.api.x.Other.test_a",
        "setUpClass (tempest.api.y.Unselected)",
    }
    expanded = by_name[f"{cls}.test_list_no_params"]
    assert expanded.outcome is Outcome.FAIL and expanded.idempotent_id == UUID("1e341d7a-90a9-494c-b143-2cdf2aeb6aee")
    assert expanded.reason == f"setUpClass ({cls}): InvalidCredentials: no reader"
