"""Guideline files: imported into the database verbatim, served from there, parsed once.

``import_guidelines(DIR)`` walks DIR recursively and keeps every file that *is* a
guideline (by shape, via :func:`interop_model.detect_schema`) and is named like
RefStack's listing expects: ``YYYY.MM.json`` or ``next.json`` for the core
("powered") guidelines, ``<addon>.YYYY.MM.json`` or ``<addon>.next.json`` for add-ons.
Scoring worksheets (``scoring*.txt`` holding scored lines, in the format of the interop
board's ``working_materials/scoring.txt``) are imported alongside. Everything else is
reported as skipped, with the reason. Re-importing replaces a file whose content changed.

Parsed files are cached per app (:class:`~webapp.store.cache.StoreCaches`), keyed by
their content's hash, so a re-import is seen at once.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from interop_model import Guideline, InvalidGuideline, detect_schema, load_guideline_text
from interop_model.errors import InvalidJson
from interop_model.jsontext import parse_json
from webapp.store.cache import caches_of
from webapp.store.tables import GuidelineFile, WorksheetFile

POWERED = "powered"
_CORE_NAME = re.compile(r"^(?:\d{4}\.\d{2}|next)\.json$")
_ADDON_NAME = re.compile(r"^(?P<family>[a-z][a-z0-9_-]*)\.(?P<name>(?:\d{4}\.\d{2}|next)\.json)$")


@dataclass
class ImportReport:
    """What ``import-guidelines`` did: files imported (with warnings) and files skipped (with reasons)."""

    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def classify_name(file_name: str) -> tuple[str, str] | None:
    """(family, listed name) for a guideline file name, or None when RefStack would not list it."""
    if _CORE_NAME.match(file_name):
        return POWERED, file_name
    match = _ADDON_NAME.match(file_name)
    if match:
        return match["family"], match["name"]
    return None


def import_guidelines(session: Session, directory: Path) -> ImportReport:
    """Import every guideline file found under ``directory`` (see the module docstring)."""
    report = ImportReport()
    seen: dict[str, Path] = {}
    for path in sorted(p for p in directory.rglob("*.json") if p.is_file()):
        where = str(path.relative_to(directory))
        data = path.read_bytes()
        try:
            doc = parse_json(data)
        except InvalidJson as exc:
            report.skipped.append((where, exc.problem))
            continue
        schema = detect_schema(doc)
        if schema is None:
            report.skipped.append((where, "not a guideline (no schema/capabilities/components)"))
            continue
        names = classify_name(path.name)
        if names is None:
            report.skipped.append(
                (where, "a guideline, but not named YYYY.MM.json, next.json, <addon>.YYYY.MM.json or <addon>.next.json")
            )
            continue
        if path.name in seen:
            report.skipped.append((where, f"same file name as {seen[path.name].relative_to(directory)}"))
            continue
        try:
            guideline = _parse(session, data, path.name)
        except InvalidGuideline as exc:
            report.skipped.append((where, "invalid guideline: " + "; ".join(exc.problems)))
            continue
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.skipped.append((where, f"not UTF-8 ({exc.reason})"))
            continue
        seen[path.name] = path
        report.warnings.extend(str(w) for w in guideline.warnings)
        changed = _store(session, path.name, names, guideline, content, source=str(path))
        (report.imported if changed else report.unchanged).append(path.name)
    for path in sorted(p for p in directory.rglob("scoring*.txt") if p.is_file()):
        _import_worksheet(session, path, directory, report)
    session.commit()
    return report


def _import_worksheet(session: Session, path: Path, directory: Path, report: ImportReport) -> None:
    from scoring.errors import ScoringError
    from scoring.worksheet import read_worksheet

    where = str(path.relative_to(directory))
    try:
        content = path.read_text(encoding="utf-8")
        worksheet = read_worksheet(content, source=where)
    except (UnicodeDecodeError, ScoringError) as exc:
        report.skipped.append((where, f"not a readable worksheet: {exc}"))
        return
    if not worksheet.scored:
        report.skipped.append((where, "no scored lines: not a worksheet"))
        return
    sha = hashlib.sha256(content.encode("utf-8")).hexdigest()
    row = session.scalar(select(WorksheetFile).where(WorksheetFile.name == path.name))
    if row is not None and row.sha256 == sha:
        report.unchanged.append(path.name)
        return
    if row is None:
        row = WorksheetFile(name=path.name)
        session.add(row)
    row.content, row.sha256 = content, sha
    row.imported_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    report.imported.append(path.name)


def list_worksheets(session: Session) -> list[str]:
    """Names of the imported worksheets."""
    return list(session.scalars(select(WorksheetFile.name).order_by(WorksheetFile.name)))


def load_worksheet(session: Session, name: str) -> str | None:
    """A worksheet's text, or None."""
    return session.scalar(select(WorksheetFile.content).where(WorksheetFile.name == name))


def previous_guidelines(session: Session, file_name: str, *, count: int = 2) -> list[LoadedGuideline]:
    """The guidelines of the same family before ``file_name``, newest first (``next`` is newest)."""
    family = classify_name(file_name)
    if family is None:
        return []
    rows = session.scalars(select(GuidelineFile.file).where(GuidelineFile.family == family[0]))
    order = sorted(rows, key=lambda f: (f.endswith("next.json"), f))
    if file_name not in order:
        return []
    earlier = order[: order.index(file_name)][::-1][:count]
    return [g for g in (load_guideline(session, f) for f in earlier) if g is not None]


def _store(
    session: Session, file_name: str, names: tuple[str, str], guideline: Guideline, content: str, *, source: str
) -> bool:
    sha = hashlib.sha256(content.encode("utf-8")).hexdigest()
    row = session.scalar(select(GuidelineFile).where(GuidelineFile.file == file_name))
    if row is not None and row.sha256 == sha:
        return False
    if row is None:
        row = GuidelineFile(file=file_name)
        session.add(row)
    row.family, row.name = names
    row.guideline_id = guideline.id
    row.schema = guideline.schema
    row.status = guideline.status
    row.content = content
    row.sha256 = sha
    row.source = source
    row.imported_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return True


def list_guidelines(session: Session) -> dict[str, list[dict[str, str]]]:
    """RefStack's ``GET /v1/guidelines`` body: family -> [{name, file}], sorted by file."""
    listing: dict[str, list[dict[str, str]]] = {POWERED: []}
    rows = session.execute(
        select(GuidelineFile.family, GuidelineFile.name, GuidelineFile.file).order_by(
            GuidelineFile.family, GuidelineFile.file
        )
    )
    for family, name, file_name in rows:
        listing.setdefault(family, []).append({"name": name, "file": file_name})
    return listing


def file_name_for(version: str) -> str:
    """``2020.06`` -> ``2020.06.json``; names already ending in ``.json`` stay."""
    return version if version.endswith(".json") else version + ".json"


@dataclass(frozen=True, slots=True)
class LoadedGuideline:
    """A stored guideline file: its raw text and its model."""

    file: str
    content: str
    guideline: Guideline
    status: str | None


def _parse(session: Session, content: bytes | str, file_name: str) -> Guideline:
    """Parse a guideline once per app and content (a bounded cache: files are large)."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    key = (hashlib.sha256(raw).hexdigest(), file_name)
    parsed = caches_of(session).parsed_guidelines
    guideline = parsed.get(key)
    if guideline is None:
        guideline = load_guideline_text(raw, source=file_name)
        parsed.put(key, guideline)
    return guideline  # type: ignore[no-any-return]


def load_guideline(session: Session, file_name: str) -> LoadedGuideline | None:
    """The stored guideline file, parsed (cached by content hash), or None."""
    return _first_stored(session, [file_name])


def _first_stored(session: Session, file_names: list[str]) -> LoadedGuideline | None:
    """The first of ``file_names`` that is stored, parsed; one query when the parse is cached."""
    found = {
        name: (sha, status)
        for name, sha, status in session.execute(
            select(GuidelineFile.file, GuidelineFile.sha256, GuidelineFile.status).where(
                GuidelineFile.file.in_(file_names)
            )
        )
    }
    file_name = next((name for name in file_names if name in found), None)
    if file_name is None:
        return None
    sha, status = found[file_name]
    files = caches_of(session).guideline_files
    cached = files.get(file_name)
    if cached is not None and cached[0] == sha:
        return cached[1]  # type: ignore[no-any-return]
    content = session.scalar(select(GuidelineFile.content).where(GuidelineFile.file == file_name))
    if content is None:
        return None
    item = LoadedGuideline(
        file=file_name, content=content, guideline=_parse(session, content, file_name), status=status
    )
    files.put(file_name, (sha, item))
    return item


def resolve_guideline(session: Session, version: str, target: str | None = None) -> LoadedGuideline | None:
    """Find a guideline by ``2020.06``, ``2020.06.json`` or ``dns.2020.06``; an add-on target
    (``dns``) with a bare date picks that add-on's file, as RefStack's meta keys pair them."""
    file_name = file_name_for(version)
    if target and classify_name(file_name) == (POWERED, file_name):
        return _first_stored(session, [f"{target}.{file_name}", file_name])
    return _first_stored(session, [file_name])


def newest_core_guideline(session: Session) -> str | None:
    """The newest approved core guideline's file name (the default for reports)."""
    rows = session.execute(
        select(GuidelineFile.file, GuidelineFile.status)
        .where(GuidelineFile.family == POWERED)
        .order_by(GuidelineFile.file.desc())
    )
    for file_name, status in rows:
        if file_name != "next.json" and (status or "approved") == "approved":
            return file_name
    return None


@dataclass(frozen=True, slots=True)
class GuidelineRow:
    """A stored guideline file (no content)."""

    file: str
    family: str
    name: str
    guideline_id: str
    schema: str
    status: str


def list_guideline_files(session: Session) -> list[GuidelineRow]:
    """Every imported guideline file: the core ones first, then each add-on; within a family
    ``next.json`` first, then the dated versions newest first."""
    rows = session.execute(
        select(
            GuidelineFile.file,
            GuidelineFile.family,
            GuidelineFile.name,
            GuidelineFile.guideline_id,
            GuidelineFile.schema,
            GuidelineFile.status,
        )
    )
    found = [GuidelineRow(f, fam, n, gid, schema, status or "") for f, fam, n, gid, schema, status in rows]
    found.sort(key=lambda r: r.name, reverse=True)  # "next.json" sorts after every date
    return sorted(found, key=lambda r: (r.family != POWERED, r.family))


__all__ = [
    "POWERED",
    "GuidelineRow",
    "ImportReport",
    "LoadedGuideline",
    "classify_name",
    "file_name_for",
    "import_guidelines",
    "list_guideline_files",
    "list_guidelines",
    "list_worksheets",
    "load_guideline",
    "load_worksheet",
    "newest_core_guideline",
    "previous_guidelines",
    "resolve_guideline",
]
