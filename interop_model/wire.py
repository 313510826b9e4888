"""The documents runs travel in: the only code that knows their shapes.

* The **v1 document** is exactly RefStack's upload: ``{cpid, duration_seconds,
  results: [{name, uuid}]}``, passed tests only. Any
  RefStack-compatible server accepts it.
* The **extended document** (``"schema": "tcup.run/1"``) carries every outcome with
  durations, failure reasons and provenance. It goes to its own endpoint, since
  RefStack rejects unknown top-level keys.

Readers check everything and raise one :class:`InvalidRunDocument` listing every
problem. A problem quotes at most :data:`~interop_model.errors.EXCERPT_LENGTH` characters
of a bad value. The bounds a server sets (results per document, length of a test name) are
parameters of the readers, with the defaults below.

Test names and the cpid are printable text: a control character (a newline, ESC, BEL, ...),
a line/paragraph separator or a lone surrogate is refused, since a name holding a newline reads as two names
in every line-based listing (``passed.txt``, ``stestr --load-list``) and ESC sequences
rewrite a terminal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from interop_model.errors import InvalidJson, InvalidRunDocument, excerpt
from interop_model.jsontext import parse_json
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
MAX_NAME_LENGTH = 1024  # characters of a test name (Tempest's longest are about 250)
MAX_CPID_LENGTH = 255
# Cc (C0, DEL, C1) and the Unicode line and paragraph separators split or rewrite a line; a lone
# surrogate is not text at all (no UTF-8 encoding, so no database keeps it).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
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


def read_v1_upload(doc: object, *, max_results: int | None = None, max_name_length: int = MAX_NAME_LENGTH) -> V1Upload:
    """Read a v1 upload document; unknown keys inside items are ignored, as RefStack did.

    :param max_results: refuse a document of more results than this (None: no bound).
    :param max_name_length: refuse a test name longer than this many characters.
    :raises InvalidRunDocument: listing every problem.
    """
    problems = _check_top(doc, allowed=V1_KEYS, what="upload", max_results=max_results)
    items = doc.get("results") if isinstance(doc, dict) else None
    cases: list[tuple[str, str | None]] = []
    if isinstance(items, list) and not _too_many(items, max_results):
        if not items and not problems:
            problems.append("Uploaded results must contain at least one passing test.")
        fast = _read_v1_items(items, max_name_length)
        if fast is not None:
            cases = fast
        else:
            for i, item in enumerate(items):
                case, item_problems = _read_item(i, item, extended=False, max_name_length=max_name_length)
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


def from_v1_document(
    doc: object, *, max_results: int | None = None, max_name_length: int = MAX_NAME_LENGTH
) -> RunReport:
    """Read a v1 upload document as a run of passed tests (see :func:`read_v1_upload`)."""
    upload = read_v1_upload(doc, max_results=max_results, max_name_length=max_name_length)
    return RunReport(
        cpid=upload.cpid,
        duration_seconds=upload.duration_seconds,
        results=tuple(
            CaseResult(test_id=name, idempotent_id=UUID(uuid) if uuid else None) for name, uuid in upload.cases
        ),
    )


def loads_v1(body: bytes | str) -> RunReport:
    """Decode and read a v1 document."""
    return from_v1_document(decode_document(body))


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
    if p.environments:  # only when named, so older readers still accept the document
        provenance["environments"] = list(p.environments)
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


def from_extended_document(
    doc: object, *, max_results: int | None = None, max_name_length: int = MAX_NAME_LENGTH
) -> RunReport:
    """Read an extended document, checking every field.

    :param max_results: refuse a document of more results than this (None: no bound).
    :param max_name_length: refuse a test name longer than this many characters.
    """
    problems = _check_top(
        doc, allowed=("schema", "provenance", "selection", *V1_KEYS), what="run", max_results=max_results
    )
    if isinstance(doc, dict) and doc.get("schema") != EXTENDED_SCHEMA:
        problems.append(f"'schema' must be {EXTENDED_SCHEMA!r}, not {excerpt(doc.get('schema'))}")
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
    if not isinstance(items, list) or _too_many(items, max_results):
        items = []
    for i, item in enumerate(items):
        case, item_problems = _read_item(i, item, extended=True, max_name_length=max_name_length)
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
    return from_extended_document(decode_document(body))


def dumps_extended(run: RunReport, *, indent: int | None = None) -> bytes:
    """Serialise a run as an extended document."""
    return json.dumps(to_extended_document(run), indent=indent).encode("utf-8")


# -- checks --------------------------------------------------------------------------------


def decode_document(body: bytes | str) -> object:
    """Parse a run document's JSON text (see :func:`interop_model.jsontext.parse_json`).

    :raises InvalidRunDocument: the text is not JSON, not UTF-8, or nests too deeply.
    """
    try:
        return parse_json(body)
    except InvalidJson as exc:
        raise InvalidRunDocument([f"Malformed request: the body is {exc.problem}"], what="document") from None


def unprintable(text: str) -> str | None:
    """The first control character, line separator or lone surrogate of ``text``, worded, or None.

    For example ``a control character, '\\n' (U+000A) at position 12``.
    """
    found = _UNPRINTABLE.search(text)
    if found is None:
        return None
    char = found.group()
    kind = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"{kind}, {char!r} (U+{ord(char):04X}) at position {found.start()}"


def _too_many(items: list[Any], max_results: int | None) -> bool:
    return max_results is not None and len(items) > max_results


def _check_top(doc: object, *, allowed: tuple[str, ...], what: str, max_results: int | None = None) -> list[str]:
    if not isinstance(doc, dict):
        return [f"the {what} document must be a JSON object with keys {', '.join(V1_KEYS)}"]
    problems: list[str] = []
    for key in doc:
        if key not in allowed:
            problems.append(f"unknown top-level key {excerpt(key)}: only {', '.join(allowed)} are allowed")
    cpid = doc.get("cpid")
    if "cpid" not in doc:
        problems.append("'cpid' is required: the cloud's id (its Keystone service id)")
    elif not isinstance(cpid, str) or not cpid.strip():
        problems.append("'cpid' must be non-empty text")
    elif len(cpid) > MAX_CPID_LENGTH:
        problems.append(f"'cpid' is longer than {MAX_CPID_LENGTH} characters")
    elif found := unprintable(cpid):
        problems.append(f"'cpid' holds {found} (fix: send the cloud id as printable text)")
    duration = doc.get("duration_seconds")
    if "duration_seconds" not in doc:
        problems.append("'duration_seconds' is required: the run's length in whole seconds")
    elif isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        problems.append(f"'duration_seconds' must be a whole number of seconds >= 0, not {excerpt(duration)}")
    if "results" not in doc:
        problems.append("'results' is required: a list of {name, uuid} objects")
    elif not isinstance(doc["results"], list):
        problems.append("'results' must be a list of {name, uuid} objects")
    elif _too_many(doc["results"], max_results):
        problems.append(
            f"'results' holds {len(doc['results'])} items, more than the {max_results} accepted in one "
            "document (fix: split the run into several documents)"
        )
    return problems


def _read_v1_items(items: list[Any], max_name_length: int) -> list[tuple[str, str | None]] | None:
    """(name, canonical id text) of the v1 items, on the path every valid upload takes; or None at
    the first item that needs :func:`_read_item` (which then words every problem)."""
    cases: list[tuple[str, str | None]] = []
    append = cases.append
    canonical = _CANONICAL_UUID.match
    control = _UNPRINTABLE.search
    for item in items:
        if type(item) is not dict:
            return None
        name = item.get("name")
        if type(name) is not str or not name or len(name) > max_name_length or name.isspace() or control(name):
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


def _read_item(
    i: int, item: object, *, extended: bool, max_name_length: int = MAX_NAME_LENGTH
) -> tuple[CaseResult | None, list[str]]:
    where = f"results[{i}]"
    if not isinstance(item, dict):
        return None, [f"{where}: must be an object with 'name' (and optionally 'uuid')"]
    problems: list[str] = []
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}.name: must be a non-empty test name")
    elif len(name) > max_name_length:
        problems.append(f"{where}.name: {len(name)} characters, longer than {max_name_length}")
    elif found := unprintable(name):
        problems.append(f"{where}.name: holds {found} (test names are printable text)")
    uuid: UUID | None = None
    if item.get("uuid") is not None:
        try:
            if not isinstance(item["uuid"], str):
                raise ValueError(item["uuid"])
            uuid = UUID(item["uuid"])
        except ValueError:
            problems.append(f"{where}.uuid: {excerpt(item['uuid'])} is not a UUID")
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
        elif found := next(filter(None, map(unprintable, raw_attrs)), None):
            problems.append(f"{where}.attrs: an attribute holds {found} (attributes are printable text)")
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
        elif key == "environments":
            if not isinstance(value, list) or not all(isinstance(e, str) and e.strip() for e in value):
                problems.append("provenance.environments: must be a list of names")
            else:
                values["environments"] = tuple(value)
        elif key in _PROVENANCE_KEYS:
            if value is not None and not isinstance(value, str):
                problems.append(f"provenance.{key}: must be text")
            else:
                values[key] = value
        else:
            problems.append(f"provenance: unknown key {excerpt(key)}")
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
