"""Reading the files the commands take: worksheets, guidelines, results documents.

The only module of :mod:`scoring` that opens files by path (besides the board workbook).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from interop_model import wire
from interop_model.errors import InvalidJson, InvalidRunDocument
from interop_model.guideline_loader import load_guideline_text
from interop_model.guidelines import Guideline
from interop_model.jsontext import parse_json
from interop_model.results import RunReport
from scoring.errors import ResultsError, ScoringError
from scoring.worksheet import Worksheet, read_worksheet, require_scored

_DATED = re.compile(r"^(?P<prefix>(?:[a-z_]+\.)?)(?P<date>\d{4}\.\d{2}|next)$")
PREVIOUS_COUNT = 2  # enough for Core in Last Release and Stable


def read_text(path: Path) -> str:
    """A UTF-8 text file, or a :class:`ScoringError` that says which file and why."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScoringError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); fix: save the file as UTF-8"
        ) from None
    except OSError as exc:
        raise ScoringError(f"{path}: cannot be read: {exc.strerror}") from None


def load_worksheet(path: Path, *, graduated: bool = False) -> Worksheet:
    """Read and parse a worksheet file; one without a single scored line is an error, not an empty result."""
    return require_scored(read_worksheet(read_text(path), source=str(path), graduated=graduated))


def load_guideline(path: Path) -> Guideline:
    """Read a guideline file of any schema (errors: :class:`interop_model.errors.InvalidGuideline`)."""
    return load_guideline_text(read_text(path), source=str(path))


def discover_previous(path: Path, *, count: int = PREVIOUS_COUNT) -> list[Path]:
    """The guidelines before ``path`` in its folder, newest first, at most ``count``.

    ``next.json`` is preceded by every dated core file (``2020.06.json``, ...);
    ``dns.next.json`` by ``dns.<date>.json``; a dated file by the older dates only.
    """
    match = _DATED.match(path.name.removesuffix(".json"))
    if match is None or not path.name.endswith(".json"):
        return []
    prefix, date = match["prefix"], match["date"]
    found = []
    for sibling in path.parent.glob(f"{prefix}*.json"):
        other = _DATED.match(sibling.name.removesuffix(".json"))
        if other and other["prefix"] == prefix and other["date"] != "next" and (date == "next" or other["date"] < date):
            found.append((other["date"], sibling))
    return [p for _, p in sorted(found, reverse=True)[:count]]


def load_previous(paths: Sequence[Path]) -> list[Guideline]:
    """Load the previous guidelines, in the order given (newest first)."""
    return [load_guideline(p) for p in paths]


def expand_results(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a directory stands for its ``*.json`` files, sorted by name."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


def read_runs(paths: Iterable[Path]) -> list[RunReport]:
    """Read results documents: RefStack v1 uploads and tcup extended documents.

    Every unreadable file is listed in one :class:`ResultsError`. A document with a
    ``schema`` key is read as extended, any other as v1 (both by :mod:`interop_model.wire`).
    """
    runs: list[RunReport] = []
    problems: list[str] = []
    for path in expand_results(paths):
        try:
            runs.append(decode_run(parse_json(read_text(path))))
        except InvalidJson as exc:
            problems.append(f"{path}: {exc.problem}")
        except InvalidRunDocument as exc:
            problems.extend(f"{path}: {p}" for p in exc.problems)
        except ScoringError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ResultsError(problems)
    return runs


def decode_run(doc: object) -> RunReport:
    """One decoded results document as a run (extended when it names a ``schema``)."""
    if isinstance(doc, dict) and "schema" in doc:
        return wire.from_extended_document(doc)
    return wire.from_v1_document(doc)
