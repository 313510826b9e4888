"""The documents runs travel in: the only code that knows their shapes.

* The **v1 document** is exactly RefStack's upload: ``{cpid, duration_seconds,
  results: [{name, uuid}]}``, passed tests only (REFERENCE §1.2). Any
  RefStack-compatible server accepts it.
* The **extended document** (``"schema": "tcup.run/1"``) carries every outcome with
  durations, failure reasons and provenance. It goes to its own endpoint, since
  RefStack rejects unknown top-level keys.

Readers check everything and raise one :class:`InvalidRunDocument` listing every
problem.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from interop_model.errors import InvalidRunDocument
from interop_model.results import CaseResult, Outcome, Provenance, RunReport, RunSelection

EXTENDED_SCHEMA = "tcup.run/1"
V1_KEYS = ("cpid", "duration_seconds", "results")
_PROVENANCE_KEYS = (
    "tempest_version",
    "plugins",
    "tcup_version",
    "guideline",
    "target",
    "auth_url_fingerprint",
    "region",
    "started_at",
)
MAX_NAME_LENGTH = 1024
MAX_CPID_LENGTH = 255
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


@dataclass(frozen=True, slots=True)
class V1Upload:
    """A checked v1 document as plain pairs: what a server stores, without a :class:`CaseResult` per test."""

    cpid: str
    duration_seconds: int
    cases: tuple[tuple[str, str | None], ...]  # (name, idempotent id in canonical text), each name once


# -- v1 ------------------------------------------------------------------------------------


def to_v1_document(run: RunReport) -> dict[str, Any]:
    """The RefStack upload document: passed tests only, each name once."""
    results: list[dict[str, str]] = []
    seen: set[str] = set()
    for case in run.results:
        if not case.passed or case.test_id in seen:
            continue
        seen.add(case.test_id)
        item = {"name": case.test_id}
        if case.idempotent_id is not None:
            item["uuid"] = str(case.idempotent_id)
        results.append(item)
    return {"cpid": run.cpid, "duration_seconds": run.duration_seconds, "results": results}


def dumps_v1(doc: Mapping[str, Any]) -> bytes:
    """Serialise a v1 document once, the way refstack-client does (default separators)."""
    return json.dumps(doc).encode("utf-8")


def read_v1_upload(doc: object) -> V1Upload:
    """Read a v1 upload document; unknown keys inside items are ignored, as RefStack did.

    :raises InvalidRunDocument: listing every problem.
    """
    problems = _check_top(doc, allowed=V1_KEYS, what="upload")
    items = doc.get("results") if isinstance(doc, dict) else None
    cases: list[tuple[str, str | None]] = []
    if isinstance(items, list):
        if not items and not problems:
            problems.append("Uploaded results must contain at least one passing test.")
        fast = _read_v1_items(items)
        if fast is not None:
            cases = fast
        else:
            for i, item in enumerate(items):
                case, item_problems = _read_item(i, item, extended=False)
                problems.extend(item_problems)
                if case is not None:
                    cases.append((case.test_id, str(case.idempotent_id) if case.idempotent_id else None))
    if problems:
        raise InvalidRunDocument(problems, what="upload document")
    assert isinstance(doc, dict)
    by_name: dict[str, str | None] = {}
    for name, uuid in cases:  # a name repeated in one upload is stored once: its first entry
        by_name.setdefault(name, uuid)
    return V1Upload(cpid=doc["cpid"], duration_seconds=doc["duration_seconds"], cases=tuple(by_name.items()))


def from_v1_document(doc: object) -> RunReport:
    """Read a v1 upload document as a run of passed tests (see :func:`read_v1_upload`)."""
    upload = read_v1_upload(doc)
    return RunReport(
        cpid=upload.cpid,
        duration_seconds=upload.duration_seconds,
        results=tuple(
            CaseResult(test_id=name, idempotent_id=UUID(uuid) if uuid else None) for name, uuid in upload.cases
        ),
    )


def loads_v1(body: bytes | str) -> RunReport:
    """Decode and read a v1 document."""
    return from_v1_document(_decode(body))


# -- extended ------------------------------------------------------------------------------


def to_extended_document(run: RunReport) -> dict[str, Any]:
    """The extended document: every outcome, with durations, reasons and provenance."""
    results: list[dict[str, Any]] = []
    for case in run.results:
        item: dict[str, Any] = {"name": case.test_id, "outcome": case.outcome.value}
        if case.idempotent_id is not None:
            item["uuid"] = str(case.idempotent_id)
        if case.duration is not None:
            item["duration"] = case.duration
        if case.reason is not None:
            item["reason"] = case.reason
        if case.attrs:
            item["attrs"] = list(case.attrs)
        results.append(item)
    p = run.provenance
    provenance: dict[str, Any] = {k: getattr(p, k) for k in _PROVENANCE_KEYS if getattr(p, k) is not None}
    provenance["plugins"] = [{"name": n, "version": v} for n, v in p.plugins]
    doc: dict[str, Any] = {
        "schema": EXTENDED_SCHEMA,
        "cpid": run.cpid,
        "duration_seconds": run.duration_seconds,
        "provenance": provenance,
        "results": results,
    }
    if run.selection is not None:
        s = run.selection
        doc["selection"] = {
            "guideline": s.guideline,
            "target": s.target,
            "capability_globs": list(s.capability_globs),
            "capabilities": list(s.capabilities),
            "statuses": list(s.statuses),
        }
    return doc


def from_extended_document(doc: object) -> RunReport:
    """Read an extended document, checking every field."""
    problems = _check_top(doc, allowed=("schema", "provenance", "selection", *V1_KEYS), what="run")
    if isinstance(doc, dict) and doc.get("schema") != EXTENDED_SCHEMA:
        problems.append(f"'schema' must be {EXTENDED_SCHEMA!r}, not {doc.get('schema')!r}")
    provenance = Provenance()
    if isinstance(doc, dict):
        provenance, prov_problems = _read_provenance(doc.get("provenance", {}))
        problems.extend(prov_problems)
    selection = None
    if isinstance(doc, dict) and doc.get("selection") is not None:
        selection, sel_problems = _read_selection(doc["selection"])
        problems.extend(sel_problems)
    cases: list[CaseResult] = []
    items = doc.get("results") if isinstance(doc, dict) else None
    for i, item in enumerate(items if isinstance(items, list) else []):
        case, item_problems = _read_item(i, item, extended=True)
        problems.extend(item_problems)
        if case is not None:
            cases.append(case)
    if problems:
        raise InvalidRunDocument(problems, what="extended run document")
    assert isinstance(doc, dict)
    return RunReport(
        cpid=doc["cpid"],
        duration_seconds=doc["duration_seconds"],
        results=tuple(cases),
        provenance=provenance,
        selection=selection,
    )


def loads_extended(body: bytes | str) -> RunReport:
    """Decode and read an extended document."""
    return from_extended_document(_decode(body))


def dumps_extended(run: RunReport, *, indent: int | None = None) -> bytes:
    """Serialise a run as an extended document."""
    return json.dumps(to_extended_document(run), indent=indent).encode("utf-8")


# -- checks --------------------------------------------------------------------------------


def _decode(body: bytes | str) -> object:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidRunDocument(
            [f"Malformed request: the body is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"],
            what="document",
        ) from None
    except UnicodeDecodeError as exc:
        raise InvalidRunDocument(
            [f"Malformed request: the body is not UTF-8 ({exc.reason})"], what="document"
        ) from None


def _check_top(doc: object, *, allowed: tuple[str, ...], what: str) -> list[str]:
    if not isinstance(doc, dict):
        return [f"the {what} document must be a JSON object with keys {', '.join(V1_KEYS)}"]
    problems: list[str] = []
    for key in doc:
        if key not in allowed:
            problems.append(f"unknown top-level key {key!r}: only {', '.join(allowed)} are allowed")
    cpid = doc.get("cpid")
    if "cpid" not in doc:
        problems.append("'cpid' is required: the cloud's id (its Keystone service id)")
    elif not isinstance(cpid, str) or not cpid.strip():
        problems.append("'cpid' must be non-empty text")
    elif len(cpid) > MAX_CPID_LENGTH:
        problems.append(f"'cpid' is longer than {MAX_CPID_LENGTH} characters")
    duration = doc.get("duration_seconds")
    if "duration_seconds" not in doc:
        problems.append("'duration_seconds' is required: the run's length in whole seconds")
    elif isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        problems.append(f"'duration_seconds' must be a whole number of seconds >= 0, not {duration!r}")
    if "results" not in doc:
        problems.append("'results' is required: a list of {name, uuid} objects")
    elif not isinstance(doc["results"], list):
        problems.append("'results' must be a list of {name, uuid} objects")
    return problems


def _read_v1_items(items: list[Any]) -> list[tuple[str, str | None]] | None:
    """(name, canonical id text) of the v1 items, on the path every valid upload takes; or None at
    the first item that needs :func:`_read_item` (which then words every problem)."""
    cases: list[tuple[str, str | None]] = []
    append = cases.append
    canonical = _CANONICAL_UUID.match
    for item in items:
        if type(item) is not dict:
            return None
        name = item.get("name")
        if type(name) is not str or not name or len(name) > MAX_NAME_LENGTH or name.isspace():
            return None
        uuid = item.get("uuid")
        if uuid is not None:
            if type(uuid) is not str:
                return None
            if canonical(uuid) is None:
                try:
                    uuid = str(UUID(uuid))
                except ValueError:
                    return None
        append((name, uuid))
    return cases


def _read_item(i: int, item: object, *, extended: bool) -> tuple[CaseResult | None, list[str]]:
    where = f"results[{i}]"
    if not isinstance(item, dict):
        return None, [f"{where}: must be an object with 'name' (and optionally 'uuid')"]
    problems: list[str] = []
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}.name: must be a non-empty test name")
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(f"{where}.name: longer than {MAX_NAME_LENGTH} characters")
    uuid: UUID | None = None
    if item.get("uuid") is not None:
        try:
            uuid = UUID(str(item["uuid"]))
        except ValueError:
            problems.append(f"{where}.uuid: {item['uuid']!r} is not a UUID")
    outcome, duration, reason, attrs = Outcome.SUCCESS, None, None, ()
    if extended:
        try:
            outcome = Outcome(str(item.get("outcome")))
        except ValueError:
            problems.append(f"{where}.outcome: must be one of {', '.join(o.value for o in Outcome)}")
        raw = item.get("duration")
        if raw is not None:
            if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw < 0:
                problems.append(f"{where}.duration: must be seconds >= 0")
            else:
                duration = float(raw)
        reason = item.get("reason")
        if reason is not None and not isinstance(reason, str):
            problems.append(f"{where}.reason: must be text")
        raw_attrs = item.get("attrs", [])
        if not isinstance(raw_attrs, list) or not all(isinstance(a, str) for a in raw_attrs):
            problems.append(f"{where}.attrs: must be a list of text")
        else:
            attrs = tuple(raw_attrs)
    if problems:
        return None, problems
    assert isinstance(name, str)
    return CaseResult(
        test_id=name, idempotent_id=uuid, outcome=outcome, duration=duration, reason=reason, attrs=attrs
    ), []


def _read_provenance(raw: object) -> tuple[Provenance, list[str]]:
    if not isinstance(raw, dict):
        return Provenance(), ["'provenance' must be an object"]
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "plugins":
            ok = isinstance(value, list) and all(
                isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("version"), str)
                for p in value
            )
            if not ok:
                problems.append("provenance.plugins: must be a list of {name, version}")
            else:
                values["plugins"] = tuple((p["name"], p["version"]) for p in value)
        elif key in _PROVENANCE_KEYS:
            if value is not None and not isinstance(value, str):
                problems.append(f"provenance.{key}: must be text")
            else:
                values[key] = value
        else:
            problems.append(f"provenance: unknown key {key!r}")
    return Provenance(**values), problems


_SELECTION_LISTS = ("capability_globs", "capabilities", "statuses")


def _read_selection(raw: object) -> tuple[RunSelection | None, list[str]]:
    """The optional ``selection`` of an extended document: what the run chose to test."""
    if not isinstance(raw, dict):
        return None, ["'selection' must be an object"]
    problems = [f"selection: unknown key {k!r}" for k in raw if k not in ("guideline", "target", *_SELECTION_LISTS)]
    for key in ("guideline", "target"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            problems.append(f"selection.{key}: must be non-empty text")
    lists: dict[str, tuple[str, ...]] = {}
    for key in _SELECTION_LISTS:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"selection.{key}: must be a list of text")
        else:
            lists[key] = tuple(value)
    if problems:
        return None, problems
    return RunSelection(
        guideline=raw["guideline"],
        target=raw["target"],
        capability_globs=lists["capability_globs"],
        capabilities=lists["capabilities"],
        statuses=lists.get("statuses") or ("required",),
    ), []
