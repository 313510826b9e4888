"""The files a run leaves in its output folder, and the compliance table on the terminal.

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

from rich.console import Console
from rich.table import Table

from interop_model.compliance import ComplianceReport
from interop_model.results import RunReport
from interop_model.wire import dumps_extended, dumps_v1, to_v1_document
from tcup.credentials import redact_text
from tcup.resolution import Match, Resolution
from tcup.subunit_reader import V2_SIGNATURE, copy_redacted

__all__ = [
    "ComplianceSection",
    "OUTPUT_FILES",
    "compliance_document",
    "print_compliance",
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


@dataclass(frozen=True, slots=True)
class ComplianceSection:
    """One guideline and target judged against the run, with how its tests were resolved."""

    report: ComplianceReport
    resolution: Resolution | None


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
    return [
        {
            "capability": r.capability,
            "name": r.entry.name,
            "idempotent_id": str(r.entry.uuid) if r.entry.uuid else None,
            "match": r.how.value,
            "local_id": r.local_id,
            "note": r.note,
        }
        for r in resolution.items
        if r.how in (Match.MISSING, Match.RENAMED, Match.ALIAS)
    ]


def compliance_document(sections: Sequence[ComplianceSection]) -> dict[str, Any]:
    """The content of ``compliance.json``."""
    reports = []
    for section in sections:
        data = section.report.to_dict()
        if section.resolution is not None:
            data["tempest_version"] = section.resolution.tempest_version
            data["resolution"] = section.resolution.counts()
        data["unresolved"] = unresolved(section.resolution)
        reports.append(data)
    return {"reports": reports}


def print_compliance(
    console: Console, sections: Iterable[ComplianceSection], *, only_capabilities: Iterable[str] | None = None
) -> None:
    """A table per guideline and target: each capability's counts and the verdicts."""
    wanted = set(only_capabilities) if only_capabilities is not None else None
    for section in sections:
        report = section.report
        table = Table(
            title=f"Guideline {report.guideline}, target {report.target} ({report.program})", title_justify="left"
        )
        for column in ("capability", "status", "tests", "passed", "failed", "flagged", "missing", "complete"):
            table.add_column(
                column, justify="right" if column in ("tests", "passed", "failed", "flagged", "missing") else "left"
            )
        for cap in report.capabilities:
            if wanted is not None and cap.name not in wanted:
                continue
            mark = "[green]yes[/]" if cap.complete else "[red]no[/]"
            table.add_row(
                cap.name,
                cap.status.value,
                str(len(cap.tests)),
                str(cap.count("passed")),
                str(cap.count("failed")),
                str(cap.count("flagged")),
                str(cap.count("missing")),
                mark if cap.defined else "[yellow]undefined[/]",
            )
        console.print(table)
        data = report.to_dict()
        required = data["required"]
        verdict = "[green]YES[/]" if report.refstack_compliant else "[red]NO[/]"
        by_id = "YES" if report.compliant_by_id else "NO"
        console.print(
            f"RefStack-compatible compliance: {verdict} (required tests {required['passed']}/"
            f"{required['count']} passed, {required['percent']}%; by idempotent id too: {by_id})"
        )
        if wanted is not None:
            console.print(
                "[dim]Only the selected capabilities ran, so the verdict covers the whole "
                "target only when every required capability was selected.[/]"
            )
        for item in unresolved(section.resolution):
            console.print(
                f"[yellow]{item['match']}[/]: {item['name']} ({item['capability']}): {item['note']}", highlight=False
            )
        if report.prerequisites:
            console.print(f"[dim]Prerequisites not checked here: {', '.join(report.prerequisites)}[/]")


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
