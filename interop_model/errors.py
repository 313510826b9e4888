"""Errors raised by the shared model.

::

    InteropModelError
     +-- InvalidGuideline     a guideline file is unreadable or structurally wrong
     +-- InvalidRunDocument   an upload or run document is malformed
     +-- InvalidJson          text that is not JSON, or nests too deeply to be read
     +-- UnknownTarget        a target program the guideline does not define
"""

from __future__ import annotations

import reprlib

EXCERPT_LENGTH = 80  # characters of an input value a problem quotes
_REPR = reprlib.Repr()
_REPR.maxlevel = 2
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = EXCERPT_LENGTH
for _name in ("maxlist", "maxtuple", "maxdict", "maxset", "maxfrozenset", "maxdeque", "maxarray"):
    setattr(_REPR, _name, 4)


def excerpt(value: object, limit: int = EXCERPT_LENGTH) -> str:
    """``repr(value)`` cut to about ``limit`` characters, ending in "…" when cut.

    Problems quote what they refuse; a 5 MB value, or a list nested a thousand deep,
    must not make a 5 MB (or recursive) message.
    """
    text = _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


class InvalidJson(InteropModelError):
    """Text that is not JSON (``problem`` says where it broke), or nests too deeply to be read."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


class UnknownTarget(InteropModelError):
    """The guideline defines no such target program."""

    def __init__(self, guideline: str, target: str, known: list[str]) -> None:
        self.target = target
        self.known = known
        choices = ", ".join(known) if known else "none"
        super().__init__(f"Invalid target: {target} (guideline {guideline} defines: {choices})")
