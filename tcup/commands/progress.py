"""A live progress display of a Tempest run, fed by the subunit stream as it is read.

On a terminal: a rich progress bar with the passed/failed/skipped counts, the current test and
the estimated time left. Elsewhere (CI logs, pipes): one line per failure and a count line every
tenth of the run. Only test ids and counts are shown, never a credential.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from interop_model.results import CaseResult, Outcome

__all__ = ["RunProgress", "make_console"]


def make_console(*, stdout: bool = False) -> Console:
    """A stderr console (stdout for the report); wide when it is not a terminal, so logs and saved
    reports keep whole test names."""
    console = Console(stderr=not stdout)
    if not console.is_terminal:
        console = Console(stderr=not stdout, width=200)
    return console


class RunProgress:
    """A :class:`~tcup.subunit_reader.ResultListener` that shows progress; use as a context manager."""

    def __init__(self, total: int, *, console: Console | None = None, live: bool | None = None) -> None:
        self.console = console or make_console()
        self.total = max(total, 1)
        self.live = self.console.is_terminal if live is None else live
        self.counts = {"passed": 0, "failed": 0, "skipped": 0}
        self.current = ""
        self.started = time.monotonic()
        self._done = 0
        self._next_report = 0.1
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> RunProgress:
        if self.live:
            self._progress = Progress(
                TextColumn("[bold]tempest"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(
                    "[green]{task.fields[passed]} passed[/] [red]{task.fields[failed]} failed[/] "
                    "[yellow]{task.fields[skipped]} skipped[/]"
                ),
                TimeRemainingColumn(),
                TextColumn("{task.fields[current]}", style="dim"),
                console=self.console,
                transient=False,
                refresh_per_second=4,
            )
            self._progress.start()
            self._task = self._progress.add_task("run", total=self.total, current="", passed=0, failed=0, skipped=0)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._update(current="")
            self._progress.stop()

    def test_started(self, test_id: str) -> None:
        """Show ``test_id`` as the current test."""
        self.current = _short(test_id)
        self._update(current=self.current)

    def test_finished(self, case: CaseResult) -> None:
        """Count a finished test."""
        key = (
            "passed"
            if case.outcome in (Outcome.SUCCESS, Outcome.XFAIL)
            else "skipped"
            if case.outcome is Outcome.SKIP
            else "failed"
        )
        self.counts[key] += 1
        self._done += 1
        if self._done > self.total:  # setUpClass pseudo-tests: grow the total
            self.total = self._done
        if self._progress is not None and self._task is not None:
            c = self.counts
            self._progress.update(
                self._task,
                completed=self._done,
                total=self.total,
                passed=c["passed"],
                failed=c["failed"],
                skipped=c["skipped"],
            )
            if key == "failed":
                self._progress.console.print("[red]FAIL[/] " + escape(case.test_id), highlight=False)
            return
        if key == "failed":
            self.console.print(f"FAIL {case.test_id}", highlight=False, markup=False, soft_wrap=True)
        if self._done >= self._next_report * self.total:
            self._next_report = min(1.0, self._done / self.total) + 0.1
            self.console.print(self.summary_line(), highlight=False, soft_wrap=True)

    def summary_line(self) -> str:
        """``[40/83] 38 passed, 1 failed, 1 skipped (12 s)``."""
        c = self.counts
        elapsed = time.monotonic() - self.started
        return (
            f"[{self._done}/{self.total}] {c['passed']} passed, {c['failed']} failed, "
            f"{c['skipped']} skipped ({elapsed:.0f} s)"
        )

    def _update(self, *, current: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, current=current)


def _short(test_id: str, width: int = 60) -> str:
    name = test_id.split("[", 1)[0]
    return name if len(name) <= width else "…" + name[-(width - 1) :]
