"""Errors the scoring tools report to a user.

Each error says what is wrong, where (file and line, or file and key) and how to fix it.
``cli.py`` turns them into one message and a non-zero exit status; library code only raises.

::

    ScoringError
     +-- WorksheetError     a scored line of a worksheet is malformed (lists every bad line)
     +-- UnknownCriterion   a criterion key the worksheet format does not know
     +-- MissingWeights     marks that no weight (or no cutoff) of the guideline can count
     +-- ResultsError       a results document cannot be read
     +-- BoardError         a board workbook cannot be read back
     +-- DraftError         no draft guideline can be built from these inputs
"""

from __future__ import annotations

from collections.abc import Iterable


class ScoringError(Exception):
    """Base of every error the scoring tools report to a user."""

    exit_code = 1

    def __init__(self, message: str, problems: Iterable[str] | None = None) -> None:
        self.problems: list[str] = list(problems) if problems is not None else [message]
        super().__init__(message)


class _Listing(ScoringError):
    """An error made of several problems, one per line."""

    summary = "problems"

    def __init__(self, problems: Iterable[str]) -> None:
        found = list(problems)
        text = f"{len(found)} {self.summary}:\n" + "\n".join(f"  {p}" for p in found)
        super().__init__(text, found)


class WorksheetError(_Listing):
    """Scored lines that cannot be read; each problem is ``file:line: what (fix: how)``."""

    summary = "malformed worksheet line(s)"


class UnknownCriterion(_Listing):
    """A criterion key that is not one of the twelve DefCore criteria."""

    summary = "unknown criterion key(s)"


class MissingWeights(_Listing):
    """The guideline gives no weight (or no cutoff) for marks the worksheet carries."""

    summary = "mark(s) the guideline cannot weigh"


class ResultsError(_Listing):
    """A results document is unreadable or malformed."""

    summary = "unreadable results document(s)"


class BoardError(_Listing):
    """A board workbook cannot be read back into a worksheet."""

    summary = "problem(s) in the board workbook"


class BoardWriteError(_Listing):
    """Text the board workbook cannot hold (control characters)."""

    summary = "text(s) a spreadsheet cell cannot hold"


class DraftError(_Listing):
    """The inputs cannot produce a draft guideline."""

    summary = "problem(s) drafting the guideline"
