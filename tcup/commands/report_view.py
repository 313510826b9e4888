"""The report of ``tcup run`` on the terminal: per capability, every required test that did not pass
(why, and what to do), and the verdicts. It goes to stdout; progress and logs go to stderr."""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from interop_model.guidelines import Status
from tcup.reporting import ComplianceSection, unresolved
from tcup.verdicts import SectionVerdict, TestState

__all__ = ["print_compliance", "verdict_lines"]

_COLUMNS = (
    ("passed", TestState.PASSED),
    ("failed", TestState.FAILED),
    ("skipped", TestState.SKIPPED),
    ("accounts", TestState.NEEDS_ACCOUNTS),
    ("flagged", TestState.FLAGGED),
    ("exempted", TestState.EXEMPTED),
    ("missing", TestState.MISSING),
    ("not run", TestState.NOT_RUN),
)
_STYLE = {
    TestState.FAILED: "red",
    TestState.SKIPPED: "yellow",
    TestState.NEEDS_ACCOUNTS: "yellow",
    TestState.FLAGGED: "dim",
    TestState.EXEMPTED: "cyan",
    TestState.MISSING: "magenta",
    TestState.NOT_RUN: "yellow",
}


def print_compliance(console: Console, sections: Iterable[ComplianceSection]) -> None:
    """A table per guideline and target, the tests that did not pass, and the verdicts."""
    for section in sections:
        verdict = section.verdict
        report = section.report
        table = Table(
            title=f"Guideline {report.guideline}, target {report.target} ({report.program})", title_justify="left"
        )
        table.add_column("capability")
        table.add_column("status")
        table.add_column("tests", justify="right")
        for label, _ in _COLUMNS:
            table.add_column(label, justify="right")
        table.add_column("complete")
        for cap in verdict.capabilities:
            mark = "[green]yes[/]" if cap.complete else "[red]no[/]"
            table.add_row(
                cap.name,
                cap.status.value,
                str(sum(cap.counts.values())),
                *(str(cap.counts[state.value]) for _, state in _COLUMNS),
                mark if cap.defined else "[yellow]undefined[/]",
            )
        console.print(table)
        rows = verdict.not_passed()
        if rows:
            detail = Table(title="Required tests that did not pass", title_justify="left", show_lines=True)
            for column in ("state", "test", "why", "what you can do"):
                detail.add_column(column, overflow="fold")
            for row in rows:
                style = _STYLE.get(row.state, "")
                detail.add_row(
                    f"[{style}]{row.state.value}[/]" if style else row.state.value,
                    escape(f"{row.name} ({row.capability})"),
                    escape(row.detail),
                    escape(row.action),
                )
            console.print(detail)
        for item in unresolved(section.resolution):
            if item["match"] != "missing":  # missing tests are rows above
                console.print(
                    f"{item['match']}: {item['name']} ({item['capability']}): {item['note']}", highlight=False
                )
        for line in verdict_lines(verdict):
            console.print(line, highlight=False)
        if report.prerequisites:
            console.print(f"[dim]Prerequisites not checked here: {', '.join(report.prerequisites)}[/]")


def verdict_lines(verdict: SectionVerdict) -> list[str]:
    """tcup's verdict, and RefStack's beside it when the two differ (rich markup)."""
    required = [t for t in verdict.tests if t.status is Status.REQUIRED]
    passed = sum(1 for t in required if t.state is TestState.PASSED)
    exempted = sum(1 for t in required if t.state is TestState.EXEMPTED)
    flagged = sum(1 for t in required if t.state is TestState.FLAGGED)
    yes = "[green]YES[/]" if verdict.tcup_compliant else "[red]NO[/]"
    what = f"{passed}/{len(required)} required tests passed"
    if flagged:
        what += f", {flagged} flagged"
    if exempted:
        what += f", {exempted} exempted"
    lines = [f"Verdict: {yes} ({what})"]
    data = verdict.report.to_dict()["required"]
    refstack = "YES" if verdict.refstack_compliant else "NO"
    ref_line = (
        f"RefStack-compatible verdict: {refstack} (required tests {data['passed']}/{data['count']} passed by "
        f"name, {data['percent']}%)"
    )
    if verdict.verdicts_differ:
        why = []
        if exempted:
            why.append("it counts exempted tests as not passed")
        if any(t.state is TestState.PASSED and not t.passed_by_name for t in required):
            why.append("it matches tests by name only, not by idempotent id")
        if verdict.selected is not None:
            why.append("it judges every capability of the target, not only the selected ones")
        ref_line += f"; it differs from tcup's because {' and '.join(why) or 'of its exact rule'}"
        lines.append(ref_line)
    else:
        lines.append(ref_line + ": the same")
    if verdict.selected is not None:
        lines.append(
            f"[dim]Only {len(verdict.selected)} selected capabilities were judged; the verdict covers the whole "
            "target only when every required capability is selected.[/]"
        )
    return lines
