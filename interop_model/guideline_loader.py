"""Build a :class:`~interop_model.guidelines.Guideline` from any schema family's JSON.

Structure problems (a capability that is not an object, tests that are neither a list
nor a map, ...) are errors: :class:`InvalidGuideline` lists all of them at once, each
naming where it is. Data-quality problems that real files carry (misspelt criteria, missing fields) are
warnings on the returned guideline: the file still loads, and nothing is dropped
without a word.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from interop_model.errors import InvalidGuideline, InvalidJson
from interop_model.guidelines import (
    CRITERIA_ORDER,
    PLATFORM_TARGETS,
    STATUSES,
    Capability,
    Component,
    Criterion,
    Flag,
    Guideline,
    GuidelineWarning,
    Program,
    Status,
    TestEntry,
)
from interop_model.jsontext import parse_json

SUPPORTED_SCHEMAS = ("1.0", "1.2", "1.3", "1.4", "1.5", "1.6", "2.0")

_CAPABILITY_KEYS = {
    "achievements",
    "admin",
    "description",
    "project",
    "tests",
    "required-since",
    "required_since",
    "status",
    "guidelines",
    "flagged",
    "name",
    "core",
}
_TEST_KEYS = {"idempotent_id", "aliases", "flagged"}
# Misspellings seen in real files, beyond what a fuzzy match finds.
_KNOWN_MISSPELLINGS = {
    "flag": "flagged",
    "acheivements": "achievements",
    "descriptin": "description",
    "idempotent-id": "idempotent_id",
}
_FLAG_CODE = re.compile(r"^\[?(D\d{3})\]?")


def load_guideline_text(text: str | bytes, *, source: str) -> Guideline:
    """Parse JSON text and build the guideline; bad JSON names line and column."""
    try:
        data = parse_json(text)
    except InvalidJson as exc:
        raise InvalidGuideline(source, [f"{exc.problem} (fix the file, or point --guideline at another one)"]) from None
    return guideline_from_dict(data, source=source)


def detect_schema(data: object) -> str | None:
    """The schema version of a guideline-shaped document, or None when it is not one."""
    if not isinstance(data, dict):
        return None
    meta = data.get("metadata")
    if isinstance(meta, dict) and "schema" in meta and "components" in data and "capabilities" in data:
        return str(meta["schema"])
    if "schema" in data and "capabilities" in data and ("components" in data or "release" in data):
        return str(data["schema"])
    return None


def guideline_from_dict(data: object, *, source: str) -> Guideline:
    """Map a decoded guideline (schema 1.0 to 2.0) onto the model."""
    schema = detect_schema(data)
    if schema is None or not isinstance(data, dict):
        raise InvalidGuideline(
            source,
            [
                "this is not a guideline: a guideline is a JSON object with 'schema' (or 'metadata.schema'), "
                "'capabilities' and 'components' (or 'release' for schema 1.0)"
            ],
        )
    if schema not in SUPPORTED_SCHEMAS:
        raise InvalidGuideline(
            source, [f"schema {schema!r} is not supported (supported: {', '.join(SUPPORTED_SCHEMAS)})"]
        )
    return _Builder(data, schema, source).build()


class _Builder:
    """One pass over a guideline document, collecting problems and warnings."""

    def __init__(self, data: dict[str, Any], schema: str, source: str) -> None:
        self.data = data
        self.schema = schema
        self.source = source
        self.problems: list[str] = []
        self.warnings: list[GuidelineWarning] = []

    def warn(self, code: str, where: str, message: str) -> None:
        self.warnings.append(GuidelineWarning(code=code, where=f"{self.source}: {where}", message=message))

    def build(self) -> Guideline:
        data, schema = self.data, self.schema
        meta: dict[str, Any] = data.get("metadata", {}) if schema == "2.0" else data
        if not isinstance(meta, dict):
            raise InvalidGuideline(self.source, ["'metadata' must be an object"])
        if schema == "2.0":
            approval = meta.get("os_trademark_approval") or {}
            scoring = meta.get("scoring") or {}
            gid = str(meta.get("id", ""))
            status = approval.get("status") if isinstance(approval, dict) else None
            cutoff_raw = scoring.get("cutoff_score") if isinstance(scoring, dict) else None
            criteria_raw = scoring.get("criteria") if isinstance(scoring, dict) else None
            replaces = approval.get("replaces") if isinstance(approval, dict) else None
            target_approval = approval.get("target_approval") if isinstance(approval, dict) else None
            releases = approval.get("releases", []) if isinstance(approval, dict) else []
            repos_raw = data.get("test_repositories", {})
        else:
            gid = str(data.get("id") or data.get("release") or "")
            status = data.get("status")
            cutoff_raw = data.get("cutoff_score")
            criteria_raw = data.get("criteria")
            replaces = data.get("replaces")
            target_approval = data.get("target_approval")
            releases = data.get("releases", [])
            repos_raw = data.get("test-repositories", {})
        if not gid:
            self.problems.append("the guideline has no id ('id', 'release' or 'metadata.id')")
        criteria = self._criteria(criteria_raw)
        capabilities = self._capabilities(data.get("capabilities"), {c.key for c in criteria})
        components, programs = self._programs_and_components(capabilities)
        kind = "add-on" if "add-ons" in data else ("legacy" if schema == "1.0" else "core")
        self._check_id(gid)
        self._check_cross_references(capabilities, components)
        if self.problems:
            raise InvalidGuideline(self.source, self.problems)
        return Guideline(
            id=gid,
            schema=schema,
            source=self.source,
            status=str(status) if status else None,
            kind=kind,
            cutoff=self._cutoff(cutoff_raw),
            criteria=criteria,
            capabilities=capabilities,
            components=components,
            programs=programs,
            replaces=str(replaces) if replaces else None,
            target_approval=str(target_approval) if target_approval else None,
            releases=tuple(str(r) for r in releases) if isinstance(releases, list) else (),
            test_repositories=_repositories(repos_raw),
            warnings=tuple(self.warnings),
        )

    # -- metadata ---------------------------------------------------------------------------

    def _cutoff(self, raw: object) -> int | None:
        if raw is None or raw == "":
            return None
        try:
            return int(str(raw))
        except ValueError:
            self.problems.append(f"cutoff_score {raw!r} is not a whole number")
            return None

    def _criteria(self, raw: object) -> tuple[Criterion, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.problems.append("criteria: must be an object of criterion key -> {name, weight}")
            return ()
        found: list[Criterion] = []
        for key, value in raw.items():
            where = f"criteria.{key}"
            if not isinstance(value, dict):
                self.problems.append(f"{where}: must be an object with 'name' and 'weight'")
                continue
            try:
                weight = int(value.get("weight"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                self.problems.append(f"{where}: weight {value.get('weight')!r} is not a whole number")
                continue
            description = value.get("description", value.get("Description", ""))
            found.append(
                Criterion(key=key, name=str(value.get("name", key)), weight=weight, description=str(description))
            )
            if key not in CRITERIA_ORDER:
                self.warn("unknown-criterion", where, f"criterion {key!r} is not one of the DefCore criteria")
        order = {k: i for i, k in enumerate(CRITERIA_ORDER)}
        return tuple(sorted(found, key=lambda c: order.get(c.key, len(order))))

    def _check_id(self, gid: str) -> None:
        name = self.source.replace("\\", "/").rsplit("/", 1)[-1]
        if name.endswith(".json") and re.fullmatch(r"([a-z]+\.)?(\d{4}\.\d{2}|next)", name[:-5]):
            if name[:-5] != gid and not name[:-5].endswith("." + gid):
                self.warn(
                    "id-mismatch",
                    "metadata.id" if self.schema == "2.0" else "id",
                    f"the file is named {name} but its id says {gid!r}",
                )

    # -- capabilities and tests -------------------------------------------------------------

    def _capabilities(self, raw: object, criteria_keys: set[str]) -> dict[str, Capability]:
        if not isinstance(raw, dict):
            self.problems.append("capabilities: must be an object of capability name -> capability")
            return {}
        known_achievements = criteria_keys or set(CRITERIA_ORDER)
        result: dict[str, Capability] = {}
        for name, value in raw.items():
            where = f"capabilities.{name}"
            if not isinstance(value, dict):
                self.problems.append(f"{where}: capability {name!r} must be an object, not {_kind(value)}")
                continue
            if "tests" not in value:
                self.problems.append(f"{where}: capability {name!r} has no 'tests'")
                continue
            self._check_keys(value, _CAPABILITY_KEYS, where)
            tests = self._tests(name, value, where)
            achievements = self._achievements(value, where, known_achievements)
            admin = value.get("admin")
            if admin is not None and not isinstance(admin, bool):
                self.problems.append(f"{where}.admin: must be true or false, not {admin!r}")
                admin = None
            if self.schema == "1.0" and not isinstance(value.get("core", False), bool):
                self.problems.append(f"{where}.core: must be true or false")
            since = value.get("required_since", value.get("required-since"))
            result[name] = Capability(
                name=name,
                tests=tests,
                description=str(value.get("description", "")),
                project=value.get("project"),
                admin=admin,
                achievements=achievements,
                required_since=str(since) if since else None,
            )
        return result

    def _check_keys(self, obj: Mapping[str, Any], known: set[str], where: str) -> None:
        for key in obj:
            if key in known:
                continue
            meant = _KNOWN_MISSPELLINGS.get(key)
            close = [meant] if meant in known else difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.8)
            if close:
                self.warn(
                    "misspelt-key",
                    f"{where}.{key}",
                    f"unknown key {key!r}; did you mean {close[0]!r}?" + _misspelling_effect(key, close[0]),
                )
            else:
                self.warn("unknown-key", f"{where}.{key}", f"unknown key {key!r} is ignored")

    def _achievements(self, cap: Mapping[str, Any], where: str, known: set[str]) -> tuple[str, ...]:
        raw = cap.get("achievements")
        if raw is None and "acheivements" in cap:
            raw = cap["acheivements"]  # reported by _check_keys; the values are still meant
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(a, str) for a in raw):
            self.problems.append(f"{where}.achievements: must be a list of criterion keys")
            return ()
        result: list[str] = []
        for value in raw:
            if value in known:
                result.append(value)
                continue
            if value == "":
                self.warn(
                    "empty-achievement",
                    f"{where}.achievements",
                    'an empty achievement "" scores nothing; list criterion keys instead',
                )
                continue
            close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
            if close:
                self.warn(
                    "unknown-achievement",
                    f"{where}.achievements",
                    f"achievement {value!r} is not a criterion key; read as {close[0]!r}",
                )
                result.append(close[0])
            else:
                self.warn(
                    "unknown-achievement",
                    f"{where}.achievements",
                    f"achievement {value!r} is not a criterion key and scores nothing",
                )
        return tuple(dict.fromkeys(result))

    def _tests(self, cap_name: str, cap: Mapping[str, Any], where: str) -> tuple[TestEntry, ...]:
        raw = cap["tests"]
        if isinstance(raw, list):
            return self._test_list(cap, raw, where)
        if not isinstance(raw, dict):
            self.problems.append(
                f"{where}.tests: must be a list of names or an object of name -> entry, not {_kind(raw)}"
            )
            return ()
        entries: list[TestEntry] = []
        for name, entry in raw.items():
            twhere = f"{where}.tests.{name}"
            if not isinstance(entry, dict):
                self.problems.append(f"{twhere}: test entry of {cap_name!r} must be an object, not {_kind(entry)}")
                continue
            if not _looks_like_test_name(name):
                self.problems.append(f"{twhere}: {name!r} is not a dotted test name")
                continue
            self._check_keys(entry, _TEST_KEYS, twhere)
            stored = entry.get("idempotent_id")
            if stored is not None and not isinstance(stored, str):
                self.problems.append(f"{twhere}.idempotent_id: must be text")
                stored = None
            uuid = self._uuid(stored if stored is not None else entry.get("idempotent-id"), twhere)
            aliases = entry.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                self.problems.append(f"{twhere}.aliases: must be a list of test names")
                aliases = []
            entries.append(
                TestEntry(
                    name=name,
                    stored_id=stored,
                    uuid=uuid,
                    aliases=tuple(aliases),
                    flag=self._flag(entry.get("flagged"), twhere) if "flagged" in entry else None,
                )
            )
        return tuple(entries)

    def _test_list(self, cap: Mapping[str, Any], raw: list[Any], where: str) -> tuple[TestEntry, ...]:
        """Schema 1.0/1.2: bare names, flags in the capability's own ``flagged`` list."""
        flagged_raw = cap.get("flagged", [])
        flagged = set(flagged_raw) if isinstance(flagged_raw, list) else set()
        entries: list[TestEntry] = []
        for i, name in enumerate(raw):
            if not isinstance(name, str) or not _looks_like_test_name(name):
                self.problems.append(f"{where}.tests[{i}]: {name!r} is not a dotted test name")
                continue
            flag = Flag(reason="listed in the capability's flagged list") if name in flagged else None
            entries.append(TestEntry(name=name, flag=flag))
        for name in sorted(flagged - set(raw)):
            self.warn("stray-flag", f"{where}.flagged", f"{name!r} is flagged but not among the tests")
        return tuple(entries)

    def _uuid(self, stored: object, where: str) -> UUID | None:
        if stored is None:
            self.warn("missing-idempotent-id", where, "no idempotent_id: matched by name only")
            return None
        text = str(stored).strip()
        if not text:
            self.warn("missing-idempotent-id", where, "empty idempotent_id: matched by name only")
            return None
        first = text.split(",")[0].strip()
        bare = not first.lower().startswith("id-")
        try:
            uuid = UUID(first[0 if bare else 3 :].lower())
        except ValueError:
            self.warn("bad-idempotent-id", where, f"idempotent_id {text!r} is not a UUID: matched by name only")
            return None
        if "," in text:
            self.warn(
                "suffixed-idempotent-id",
                where,
                f"idempotent_id {text!r} carries attributes after the id; read as {str(uuid)!r}",
            )
        if bare:
            self.warn("bare-idempotent-id", where, f"idempotent_id {text!r} lacks the 'id-' prefix")
        return uuid

    def _flag(self, raw: object, where: str) -> Flag:
        if not isinstance(raw, dict):
            self.warn(
                "bad-flag",
                f"{where}.flagged",
                "'flagged' should be an object with a reason; the test is treated as flagged",
            )
            return Flag(reason=str(raw))
        reason = str(raw.get("reason", "")).strip()
        match = _FLAG_CODE.match(reason)
        if match is None:
            self.warn(
                "flag-without-code",
                f"{where}.flagged.reason",
                f"flag reason does not start with a code D400-D406: {reason[:60]!r}",
            )
        return Flag(
            reason=reason,
            code=match.group(1) if match else None,
            action=_opt_str(raw.get("action")),
            date=_opt_str(raw.get("date")),
        )

    # -- components and programs ------------------------------------------------------------

    def _programs_and_components(
        self, capabilities: Mapping[str, Capability]
    ) -> tuple[dict[str, Component], dict[str, Program]]:
        data = self.data
        if self.schema == "1.0":
            core = tuple(n for n, c in capabilities.items() if self.data["capabilities"][n].get("core"))
            other = tuple(n for n in capabilities if n not in core)
            comp = Component(name="platform", capabilities={Status.REQUIRED: core, Status.ADVISORY: other})
            return {"platform": comp}, {
                "platform": Program(target="platform", name="OpenStack Powered Platform", components=("platform",))
            }
        raw_components = data.get("components")
        if not isinstance(raw_components, dict):
            self.problems.append("components: must be an object of component name -> status lists")
            return {}, {}
        components: dict[str, Component] = {}
        for name, value in raw_components.items():
            lists = value.get("capabilities") if self.schema == "2.0" and isinstance(value, dict) else value
            if not isinstance(lists, dict):
                self.problems.append(f"components.{name}: must hold status -> capability lists")
                continue
            by_status: dict[Status, tuple[str, ...]] = {}
            for key, names in lists.items():
                if key not in {s.value for s in STATUSES}:
                    self.warn("unknown-status", f"components.{name}.{key}", f"unknown status {key!r} is ignored")
                    continue
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    self.problems.append(f"components.{name}.{key}: must be a list of capability names")
                    continue
                by_status[Status(key)] = tuple(names)
            components[name] = Component(name=name, capabilities=by_status)
        return components, self._programs(components)

    def _programs(self, components: Mapping[str, Component]) -> dict[str, Program]:
        data = self.data
        programs: dict[str, Program] = {}
        if self.schema != "2.0":
            platform = data.get("platform", {})
            required = platform.get("required", []) if isinstance(platform, dict) else []
            programs["platform"] = Program(
                target="platform", name="OpenStack Powered Platform", components=tuple(required)
            )
            for name in components:
                display = {"compute": "OpenStack Powered Compute", "object": "OpenStack Powered Storage"}
                programs.setdefault(name, Program(target=name, name=display.get(name, name), components=(name,)))
            return programs
        if isinstance(data.get("add-ons"), dict):
            for name, value in data["add-ons"].items():
                comps = _component_names(value.get("components") if isinstance(value, dict) else None)
                prereq = _component_names(
                    value.get("required_platform_components") if isinstance(value, dict) else None
                )
                for comp in comps:
                    target = comp.removeprefix("os_powered_")
                    programs[target] = Program(
                        target=target, name=name, components=(comp,), add_on=True, prerequisites=prereq
                    )
            return programs
        platforms = data.get("platforms")
        if not isinstance(platforms, dict):
            self.problems.append("platforms: a 2.0 guideline needs 'platforms' or 'add-ons'")
            return {}
        by_name = {v: k for k, v in PLATFORM_TARGETS.items()}
        for name, value in platforms.items():
            for comp in value.get("components", []) if isinstance(value, dict) else []:
                if isinstance(comp, dict) and comp.get("name") not in components:
                    self.warn(
                        "external-component",
                        f"platforms.{name}",
                        f"component {comp.get('name')!r} is not defined in this file"
                        + (f" (it comes from {comp['source']})" if comp.get("source") else "")
                        + "; its capabilities are not counted",
                    )
        for name, value in platforms.items():
            target = by_name.get(name) or _slug(name)
            comps = _component_names(value.get("components") if isinstance(value, dict) else None)
            programs[target] = Program(target=target, name=name, components=comps)
        return programs

    def _check_cross_references(
        self, capabilities: Mapping[str, Capability], components: Mapping[str, Component]
    ) -> None:
        listed: dict[str, list[tuple[str, Status]]] = {}
        for comp in components.values():
            for status in STATUSES:
                for name in comp.listed(status):
                    listed.setdefault(name, []).append((comp.name, status))
                    if name not in capabilities:
                        self.warn(
                            "undefined-capability",
                            f"components.{comp.name}.{status.value}",
                            f"capability {name!r} is listed but never defined; it counts as zero tests",
                        )
        for name, cap in capabilities.items():
            places = listed.get(name)
            if not places and self.schema != "1.0":
                self.warn(
                    "unlisted-capability",
                    f"capabilities.{name}",
                    f"capability {name!r} is defined but no component lists it",
                )
            if cap.admin and places and any(s is Status.REQUIRED for _, s in places):
                self.warn(
                    "admin-required",
                    f"capabilities.{name}.admin",
                    f"required capability {name!r} is marked admin: true; the Non-Admin veto "
                    "is not applied from this field",
                )
        seen: dict[str, str] = {}
        for name, cap in capabilities.items():
            for entry in cap.tests:
                other = seen.setdefault(entry.name, name)
                if other != name:
                    self.warn(
                        "shared-test",
                        f"capabilities.{name}.tests.{entry.name}",
                        f"test also listed in capability {other!r}; it counts once per capability",
                    )


def _misspelling_effect(key: str, meant: str) -> str:
    if meant == "flagged":
        return " The test is NOT treated as flagged, as RefStack does not either."
    if meant == "achievements":
        return " Its values are read as achievements."
    if meant == "idempotent_id":
        return " The id is used for matching, but the test list shows an empty bracket, as RefStack's does."
    return " The key is ignored."


def _looks_like_test_name(name: str) -> bool:
    return "." in name and name.split() == [name]  # no whitespace (split() and isspace() agree on it)


def _component_names(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(str(c["name"]) for c in raw if isinstance(c, dict) and "name" in c)


def _repositories(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    result: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, dict):
            result[name] = str(value.get("reference") or value.get("git-sha") or "")
    return result


def _slug(platform_name: str) -> str:
    text = platform_name.lower().removeprefix("openstack powered").strip()
    text = text.removesuffix("platform").strip()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "platform"


def _kind(value: object) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "text",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)
