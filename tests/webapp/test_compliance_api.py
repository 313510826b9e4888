"""GET /v1/results/<id>/compliance: the model's verdict on the stored run, RefStack's rule first."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from flask import Flask

from interop_model import CaseResult, Guideline, RunReport, evaluate, load_guideline_text
from tests.webapp.conftest import import_into
from tests.webapp.envelope import assert_error
from tests.webapp.signing import v1_body


@pytest.fixture
def guideline(guideline_dir: Path) -> Guideline:
    return load_guideline_text((guideline_dir / "2020.06.json").read_bytes(), source="2020.06.json")


def required_entries(guideline: Guideline, target: str = "platform"):  # type: ignore[no-untyped-def]
    statuses = guideline.target_statuses(target)
    return [(cap, e) for cap, e in guideline.entries_for(target) if statuses[cap].value == "required"]


def upload(app: Flask, pairs: list[tuple[str, str | None]]) -> str:
    return str(app.test_client().post("/v1/results", data=v1_body(pairs)).get_json()["test_id"])


def report_of(pairs: list[tuple[str, str | None]]) -> RunReport:
    seen: dict[str, CaseResult] = {}
    for name, uid in pairs:
        seen.setdefault(name, CaseResult(test_id=name, idempotent_id=UUID(uid) if uid else None))
    return RunReport(cpid="cloud-1", duration_seconds=60, results=tuple(seen.values()))


def compliance(app: Flask, run_id: str, query: str = "guideline=2020.06&target=platform") -> dict:  # type: ignore[type-arg]
    response = app.test_client().get(f"/v1/results/{run_id}/compliance?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def same_as_model(answer: dict, expected: dict) -> None:  # type: ignore[type-arg]
    for key in ("compliant", "compliant_by_id", "verdict", "required", "totals", "capabilities", "program"):
        assert answer[key] == expected[key], key


@pytest.fixture
def loaded(app: Flask, guideline_dir: Path) -> Flask:
    import_into(app, guideline_dir)
    return app


def test_full_pass_is_compliant_and_equals_the_model(loaded: Flask, guideline: Guideline) -> None:
    pairs = [(e.name, str(e.uuid) if e.uuid else None) for _, e in required_entries(guideline) if not e.flagged]
    pairs += [("tempest.api.extra.test_unrelated", None)]
    answer = compliance(loaded, upload(loaded, pairs))
    assert answer["verdict"] == "YES" and answer["compliant"] and answer["compliant_by_id"]
    same_as_model(answer, evaluate(guideline, "platform", report_of(pairs)).to_dict())
    assert answer["guideline_file"] == "2020.06.json" and answer["evidence"] == "passed-only"


def test_renamed_test_counts_by_id_only(loaded: Flask, guideline: Guideline) -> None:
    entries = [e for _, e in required_entries(guideline) if not e.flagged]
    victim = next(e for e in entries if e.uuid and not e.aliases)
    pairs = [(e.name, str(e.uuid) if e.uuid else None) for e in entries if e is not victim]
    pairs.append((victim.name.replace(".test_", ".test_renamed_", 1), str(victim.uuid)))
    answer = compliance(loaded, upload(loaded, pairs))
    assert answer["verdict"] == "NO" and answer["compliant"] is False  # RefStack's rule: names only
    assert answer["compliant_by_id"] is True
    same_as_model(answer, evaluate(guideline, "platform", report_of(pairs)).to_dict())
    matched = [t for c in answer["capabilities"] for t in c["tests"] if t["name"] == victim.name]
    assert matched and all(t["passed_by_id"] and not t["passed_by_name"] for t in matched)


def test_alias_counts_and_flagged_tests_never_count_against(loaded: Flask, guideline: Guideline) -> None:
    entries = [e for _, e in required_entries(guideline) if not e.flagged]
    aliased = next(e for e in entries if e.aliases)
    pairs = [(e.name, None) for e in entries if e is not aliased] + [(aliased.aliases[0], None)]
    answer = compliance(loaded, upload(loaded, pairs))
    assert answer["verdict"] == "YES"
    assert answer["required"]["flag_fail"] == sum(1 for _, e in required_entries(guideline) if e.flagged)
    same_as_model(answer, evaluate(guideline, "platform", report_of(pairs)).to_dict())


def test_missing_test_is_not_compliant_with_counts(loaded: Flask, guideline: Guideline) -> None:
    entries = [e for _, e in required_entries(guideline) if not e.flagged]
    pairs = [(e.name, None) for e in entries[1:]]
    answer = compliance(loaded, upload(loaded, pairs))
    assert answer["verdict"] == "NO"
    cap = next(c for c in answer["capabilities"] if any(t["name"] == entries[0].name for t in c["tests"]))
    assert cap["missing"] >= 1 and cap["complete"] is False
    assert cap["passed"] + cap["failed"] + cap["flagged"] + cap["missing"] == cap["total"]
    same_as_model(answer, evaluate(guideline, "platform", report_of(pairs)).to_dict())


def test_add_on_target_and_defaults_from_meta(loaded: Flask, guideline_dir: Path) -> None:
    dns = load_guideline_text((guideline_dir / "add-ons/dns.2020.06.json").read_bytes(), source="dns")
    pairs = [(e.name, str(e.uuid) if e.uuid else None) for _, e in dns.entries_for("dns")]
    run = upload(loaded, pairs)
    answer = compliance(loaded, run, "guideline=2020.06&target=dns")
    assert answer["guideline_file"] == "dns.2020.06.json" and answer["verdict"] == "YES"
    assert answer["prerequisites"]  # DNS needs Compute; reported, never enforced
    # with no parameters the run's meta decides, as RefStack's UI did
    admin = loaded.test_client()
    from tests.webapp.conftest import add_user

    foundation = add_user(loaded, "f", foundation=True)
    admin.post(f"/v1/results/{run}/meta/guideline", data="2020.06.json", headers=foundation.headers)
    admin.post(f"/v1/results/{run}/meta/target", data="dns", headers=foundation.headers)
    assert compliance(loaded, run, "")["guideline_file"] == "dns.2020.06.json"


def test_compliance_errors(loaded: Flask) -> None:
    run = upload(loaded, [("tempest.a", None)])
    client = loaded.test_client()
    assert_error(client.get(f"/v1/results/{run}/compliance?guideline=1999.01"), 404)
    assert_error(client.get(f"/v1/results/{run}/compliance?guideline=2020.06&target=moon"), 400, "Invalid target: moon")
    assert compliance(loaded, run, "")["guideline"] == "2020.06"  # newest approved core guideline
