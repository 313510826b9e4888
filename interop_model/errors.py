"""Errors raised by the shared model.

::

    InteropModelError
     +-- InvalidGuideline     a guideline file is unreadable or structurally wrong
     +-- InvalidRunDocument   an upload or run document is malformed
     +-- UnknownTarget        a target program the guideline does not define
"""

from __future__ import annotations


class InteropModelError(Exception):
    """Base of every error the shared model raises."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems: list[str] = list(problems) if problems else [message]
        super().__init__(message)


class InvalidGuideline(InteropModelError):
    """A guideline could not be read, or its structure is wrong.

    ``problems`` lists every problem found, each naming where it is.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        text = f"{source}: invalid guideline: " + "; ".join(problems)
        super().__init__(text, problems)


class InvalidRunDocument(InteropModelError):
    """An upload or run document is malformed; ``problems`` lists every problem."""

    def __init__(self, problems: list[str], *, what: str = "run document") -> None:
        text = f"invalid {what}: " + "; ".join(problems)
        super().__init__(text, problems)


class UnknownTarget(InteropModelError):
    """The guideline defines no such target program."""

    def __init__(self, guideline: str, target: str, known: list[str]) -> None:
        self.target = target
        self.known = known
        choices = ", ".join(known) if known else "none"
        super().__init__(f"Invalid target: {target} (guideline {guideline} defines: {choices})")
