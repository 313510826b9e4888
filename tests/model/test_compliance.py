"""The compliance verdict equals RefStack's browser-side rule; the extras never change it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from interop_model.compliance import evaluate
from interop_model.guideline_loader import load_guideline_text
from interop_model.guidelines import Guideline, Status
from interop_model.results import CaseResult, Outcome, RunReport

PLATFORMS = {
    "platform": "OpenStack Powered Platform",
    "compute": "OpenStack Powered Compute",
    "object": "OpenStack Powered Storage",
}
ORDER = ["required", "advisory", "deprecated", "removed"]


def refstack_verdict(data: dict, target: str, passed: set[str]) -> tuple[bool, dict[str, int]]:
    """An independent oracle of resultsReportController.js: the verdict and required counters."""
    schema = data.get("schema") or data["metadata"]["schema"]
    caps: dict[str, str] = {}
    if schema == "2.0":
        comps = (
            [c["name"] for c in data["platforms"][PLATFORMS[target]]["components"]]
            if "platforms" in data
            else [f"os_powered_{target}"]
        )
        for comp in comps:
            for status, names in data["components"][comp]["capabilities"].items():
                for n in names:
                    if n not in caps or ORDER.index(status) < ORDER.index(caps[n]):
                        caps[n] = status
    elif target == "platform":
        for comp in data["platform"]["required"]:
            for status, names in data["components"][comp].items():
                for n in names:
                    if n not in caps or ORDER.index(status) < ORDER.index(caps[n]):
                        caps[n] = status
    else:
        for status, names in data["components"][target].items():
            for n in names:
                caps[n] = status
    counts = {"count": 0, "passed": 0, "flagPass": 0, "flagFail": 0}
    for name, status in caps.items():
        if status != "required" or name not in data["capabilities"]:
            continue
        cap = data["capabilities"][name]
        if schema == "1.2":
            tests = [(t, [], t in cap.get("flagged", [])) for t in cap["tests"]]
        else:
            tests = [(t, d.get("aliases", []), "flagged" in d) for t, d in cap["tests"].items()]
        for test, aliases, flagged in tests:
            ok = test in passed or any(a in passed for a in aliases)
            counts["count"] += 1
            counts["passed"] += ok
            counts["flagPass"] += flagged and ok
            counts["flagFail"] += flagged and not ok
    verdict = counts["passed"] - counts["flagPass"] == counts["count"] - counts["flagPass"] - counts["flagFail"]
    return verdict, counts


def load(interop: Path, name: str) -> tuple[Guideline, dict]:
    raw = (interop / name).read_bytes()
    return load_guideline_text(raw, source=name), json.loads(raw)


def run_of(names: list[str], **extra: CaseResult) -> RunReport:
    return RunReport(cpid="cloud", duration_seconds=1, results=tuple(CaseResult(test_id=n) for n in names))


def all_names(data: dict) -> list[str]:
    names: list[str] = []
    for cap in data["capabilities"].values():
        tests = cap["tests"]
        if isinstance(tests, list):
            names.extend(tests)
        else:
            for t, d in tests.items():
                names.append(t)
                names.extend(d.get("aliases", []))
    return sorted(set(names))


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("2020.06.json", "platform"),
        ("2020.06.json", "object"),
        ("2018.02.json", "compute"),
        ("2017.09.json", "platform"),
        ("2016.01.json", "object"),
        ("2015.03.json", "platform"),
        ("2015.05.json", "compute"),
        ("add-ons/dns.2020.06.json", "dns"),
        ("next.json", "platform"),
    ],
)
def test_verdict_equals_refstack_on_random_runs(interop_dir: Path, name: str, target: str) -> None:
    g, data = load(interop_dir, name)
    names = all_names(data)
    rng = random.Random(name + target)
    for share in (0.0, 0.5, 0.9, 0.97, 1.0):
        for _ in range(8):
            passed = {n for n in names if rng.random() < share}
            report = evaluate(g, target, run_of(sorted(passed)))
            verdict, counts = refstack_verdict(data, target, passed)
            req = report.totals[Status.REQUIRED]
            assert report.refstack_compliant == verdict
            assert (req.count, req.passed, req.flag_pass, req.flag_fail) == (
                counts["count"],
                counts["passed"],
                counts["flagPass"],
                counts["flagFail"],
            )


def test_all_required_non_flagged_passed_is_compliant(interop_dir: Path) -> None:
    g, _ = load(interop_dir, "2020.06.json")
    needed = [e.name for c, e in g.entries_for("platform", [Status.REQUIRED]) if not e.flagged]
    report = evaluate(g, "platform", run_of(needed))
    assert report.refstack_compliant and report.compliant_by_id
    d = report.to_dict()
    assert d["verdict"] == "YES"
    assert d["required"]["count"] == 286 and d["required"]["flag_fail"] == 11
    assert d["required"]["distinct_tests"] == 284 and d["required"]["distinct_passed"] == 273
    assert d["required"]["percent_non_flagged"] == 100.0


def test_one_missing_test_fails_its_capability_only(interop_dir: Path) -> None:
    g, _ = load(interop_dir, "2020.06.json")
    entries = [e for c, e in g.entries_for("object", [Status.REQUIRED])]
    dropped = g.capabilities["objectstore-container-quotas"].tests[0].name
    report = evaluate(g, "object", run_of([e.name for e in entries if e.name != dropped]))
    assert not report.refstack_compliant
    failing = [c.name for c in report.capabilities if not c.complete]
    assert failing == ["objectstore-container-quotas"]
    cap = next(c for c in report.capabilities if c.name == "objectstore-container-quotas")
    assert cap.count("missing") == 1 and cap.count("failed") == 0


def test_renamed_test_passes_by_id_but_not_by_refstack_rule(interop_dir: Path) -> None:
    g, _ = load(interop_dir, "2020.06.json")
    entries = [e for c, e in g.entries_for("object", [Status.REQUIRED])]
    victim = entries[0]
    assert victim.uuid is not None and not victim.aliases
    results = [CaseResult(test_id=e.name, idempotent_id=e.uuid) for e in entries if e.name != victim.name]
    results.append(CaseResult(test_id="tempest.api.object_storage.renamed.NewName.test_it", idempotent_id=victim.uuid))
    report = evaluate(g, "object", RunReport(cpid="c", duration_seconds=1, results=tuple(results)))
    assert not report.refstack_compliant  # RefStack matches names only
    assert report.compliant_by_id
    verdict = next(t for c in report.capabilities for t in c.tests if t.name == victim.name)
    assert verdict.passed_by_id and not verdict.passed_by_name
    assert verdict.matched_as == "tempest.api.object_storage.renamed.NewName.test_it"


def test_alias_counts_as_passed(interop_dir: Path) -> None:
    g, _ = load(interop_dir, "2020.06.json")
    pairs = g.entries_for("platform", [Status.REQUIRED])
    cap, aliased = next((c, e) for c, e in pairs if e.aliases)
    report = evaluate(g, "platform", run_of([aliased.aliases[0]]))
    verdict = next(t for c in report.capabilities if c.name == cap for t in c.tests if t.name == aliased.name)
    assert verdict.passed_by_name and verdict.state == "passed"


def test_failures_and_skips_from_extended_runs(interop_dir: Path) -> None:
    g, _ = load(interop_dir, "2020.06.json")
    tests = g.capabilities["identity-v3-tokens-create"].tests
    results = (
        CaseResult(test_id=tests[0].name, outcome=Outcome.FAIL, reason="401 Unauthorized"),
        *(CaseResult(test_id=t.name, outcome=Outcome.SKIP, reason="not configured") for t in tests[1:]),
    )
    report = evaluate(g, "platform", RunReport(cpid="c", duration_seconds=1, results=results))
    cap = next(c for c in report.capabilities if c.name == "identity-v3-tokens-create")
    assert cap.count("failed") == len(tests) and cap.count("missing") == 0
    assert cap.tests[0].reason == "401 Unauthorized"


def test_flagged_failures_never_count(interop_dir: Path) -> None:
    g, _ = load(interop_dir, "2020.06.json")
    cap = next(c for c in report_caps(g) if any(t.flagged for t in g.capabilities[c].tests))
    names = [e.name for _, e in g.entries_for("platform", [Status.REQUIRED]) if not e.flagged]
    report = evaluate(g, "platform", run_of(names))
    result = next(c for c in report.capabilities if c.name == cap)
    assert result.complete and result.count("flagged") >= 1


def report_caps(g: Guideline) -> list[str]:
    return [n for n, s in g.target_statuses("platform").items() if s is Status.REQUIRED]


def test_add_on_prerequisites_are_reported(interop_dir: Path) -> None:
    g, _ = load(interop_dir, "add-ons/orchestration.2020.06.json")
    report = evaluate(g, "orchestration", run_of([]))
    assert report.prerequisites == ("os_powered_compute",)
    assert not report.refstack_compliant


def test_no_required_tests_is_trivially_compliant(interop_dir: Path) -> None:
    g, _ = load(interop_dir, "2015.03.json")
    assert evaluate(g, "platform", run_of(["x.y"])).totals[Status.REQUIRED].count > 0
    data = json.loads((interop_dir / "2020.06.json").read_text())
    for comp in data["components"].values():
        comp["capabilities"]["required"] = []
    empty = load_guideline_text(json.dumps(data), source="empty.json")
    assert evaluate(empty, "platform", run_of(["x.y"])).refstack_compliant
