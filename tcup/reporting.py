"""The files a run leaves in its output folder.

Output folder (every file free of passwords and tokens)::

    tempest.subunit   the subunit v2 stream, as stestr produced it (redacted if it held a secret)
    refstack.json     the RefStack v1 upload document: passed tests only, the exact bytes uploaded
    run.json          the extended run document (tcup.run/1): every outcome, duration, reason, provenance
    compliance.json   per guideline and target: the verdict, each capability, unresolved tests
    summary.json      counts, interrupted or not, cpid, fingerprint, timings, Tempest's exit status
    tempest.conf      the generated configuration (it names the accounts file, holds no password)
    tempest.log, stestr.log   Tempest's and stestr's logs, redacted
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop_model.compliance import ComplianceReport
from interop_model.guidelines import Status
from interop_model.results import RunReport
from interop_model.wire import dumps_extended, dumps_v1, to_v1_document
from tcup.credentials import redact_text
from tcup.resolution import Match, Resolution
from tcup.subunit_reader import V2_SIGNATURE, copy_redacted
from tcup.verdicts import STATES, SectionVerdict

__all__ = [
    "ComplianceSection",
    "FILE_ROLES",
    "OUTPUT_FILES",
    "compliance_document",
    "scrub_outputs",
    "write_json",
    "write_run_documents",
]

OUTPUT_FILES = {
    "subunit": "tempest.subunit",
    "v1": "refstack.json",
    "extended": "run.json",
    "compliance": "compliance.json",
    "summary": "summary.json",
    "tempest_conf": "tempest.conf",
    "tempest_log": "tempest.log",
    "stestr_log": "stestr.log",
}
FILE_ROLES = {
    "subunit": "Tempest's subunit v2 stream",
    "v1": "the RefStack upload: passed tests only",
    "extended": "every outcome, with reasons and provenance",
    "compliance": "per capability and test: state, why, what to do; both verdicts",
    "summary": "counts, timings, cloud id, Tempest version",
    "tempest_conf": "the generated Tempest configuration (no password)",
    "tempest_log": "Tempest's log",
    "stestr_log": "stestr's command, output and exit status",
}


@dataclass(frozen=True, slots=True)
class ComplianceSection:
    """One guideline and target judged against the run: how its tests were resolved, and the verdicts."""

    report: ComplianceReport
    resolution: Resolution | None
    verdict: SectionVerdict


def write_json(path: Path, data: Any) -> None:
    """Write indented JSON atomically (a temporary file renamed over the target)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)


def write_run_documents(output: Path, run: RunReport) -> dict[str, Path]:
    """Write ``refstack.json`` (the exact upload bytes) and ``run.json``; return their paths."""
    v1 = output / OUTPUT_FILES["v1"]
    extended = output / OUTPUT_FILES["extended"]
    v1.write_bytes(dumps_v1(to_v1_document(run)))
    extended.write_bytes(dumps_extended(run, indent=2) + b"\n")
    return {"v1": v1, "extended": extended}


def unresolved(resolution: Resolution | None) -> list[dict[str, Any]]:
    """Guideline entries that are missing from, or renamed in, the installed Tempest."""
    if resolution is None:
        return []
    return [r.as_dict() for r in resolution.items if r.how in (Match.MISSING, Match.RENAMED, Match.ALIAS)]


def compliance_document(sections: Sequence[ComplianceSection]) -> dict[str, Any]:
    """The content of ``compliance.json``: per guideline and target, both verdicts and every test's state.

    ``compliant``/``verdict`` keep RefStack's exact rule; ``tcup_compliant`` honours the exemptions
    (each named in ``exemptions``) and idempotent ids. Each test says its ``state``, ``detail`` and
    ``action`` (what the user can do); a skip is never counted as a failure.
    """
    reports = []
    for section in sections:
        data = section.report.to_dict()
        verdict = section.verdict
        if section.resolution is not None:
            data["tempest_version"] = section.resolution.tempest_version
            data["resolution"] = section.resolution.counts()
        data["unresolved"] = unresolved(section.resolution)
        data["refstack_compliant"] = verdict.refstack_compliant
        data["tcup_compliant"] = verdict.tcup_compliant
        data["verdicts"] = {
            "tcup": "YES" if verdict.tcup_compliant else "NO",
            "refstack": "YES" if verdict.refstack_compliant else "NO",
            "differ": verdict.verdicts_differ,
        }
        data["judged_capabilities"] = verdict.selected
        data["exemptions"] = [e.to_dict() for e in verdict.exemptions_used]
        required = [t for t in verdict.tests if t.status is Status.REQUIRED]
        data["required_states"] = {s.value: sum(1 for t in required if t.state is s) for s in STATES}
        data["not_passed"] = [t.to_dict() for t in verdict.not_passed()]
        rows_by_cap: dict[str, list[dict[str, Any]]] = {}
        for row in verdict.tests:
            rows_by_cap.setdefault(row.capability, []).append(row.to_dict())
        data["capabilities"] = [
            {
                "name": cap.name,
                "status": cap.status.value,
                "defined": cap.defined,
                "complete": cap.complete,
                "total": sum(cap.counts.values()),
                **cap.counts,
                "tests": rows_by_cap.get(cap.name, []),
            }
            for cap in verdict.capabilities
        ]
        reports.append(data)
    return {"states": list(STATES), "reports": reports}


def counts_line(counts: Mapping[str, int]) -> str:
    """``82 passed, 0 failed, 1 skipped``."""
    passed = counts.get("success", 0) + counts.get("xfail", 0)
    failed = counts.get("fail", 0) + counts.get("uxsuccess", 0)
    return f"{passed} passed, {failed} failed, {counts.get('skip', 0)} skipped"


def scrub_outputs(output: Path, secrets: Iterable[str]) -> list[Path]:
    """Blank every secret in every file under ``output``; return the files that held one.

    Text files are rewritten with ``***``; a subunit v2 stream is re-encoded packet by packet.
    """
    wanted = [s for s in secrets if s and len(s) >= 3]
    changed: list[Path] = []
    for path in sorted(p for p in output.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if not any(s.encode() in data for s in wanted):
            continue
        tmp = path.with_name(path.name + ".scrub")
        if data[:1] == bytes([V2_SIGNATURE]):
            with open(path, "rb") as src, open(tmp, "wb") as dst:
                copy_redacted(src, dst, wanted)
        else:
            tmp.write_text(redact_text(data.decode("utf-8", "replace"), wanted))
        tmp.replace(path)
        changed.append(path)
    return changed
