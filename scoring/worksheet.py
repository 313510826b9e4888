"""Read and write the interop scoring worksheet (``working_materials/scoring*.txt``).

A scored line names a capability and gives thirteen marks in five groups: the twelve
criteria in worksheet order (usage, direction, community, system) and the Non-Admin veto,
then the total and a ``*`` when the total reaches the cutoff::

    compute-images-create:           [0,1,1] [0,1,1] [1,1,1] [0,1,1] [1] [72]
    dns-zone-crud:   [*,1,1][1,1,1][1,1,0][*,1,*][1] [64]

Both the core form (one space between groups) and the add-on form (no spaces) are read.
A mark is ``0``, ``1``, ``?`` (not scored yet: the total is shown negative) or ``*`` (the
program does not consider this criterion). With ``graduated=True`` the criteria marks may
also be ``2`` to ``5`` (see :mod:`scoring.engine`). Non-Admin is always ``0``, ``1`` or ``?``.

**The scale is read from the marks**, not taken on trust: a sheet is graduated only when a
criterion is marked ``2`` to ``5``. The board's core worksheet is marked 0/1; read as
graduated, each of its 1s would count a fifth of its weight and every total would be wrong.

Every other line (title, prose, headings, notes) is kept verbatim. A line that *looks* scored
(``name:`` followed by ``[``) but cannot be read is an error naming its file and line, where
the upstream tabulator silently copied it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from interop_model.guidelines import CRITERIA_ORDER
from scoring.errors import WorksheetError

MARK_COUNT = len(CRITERIA_ORDER) + 1  # twelve criteria, then Non-Admin
GROUP_SIZES = (3, 3, 3, 3, 1)
_GROUP_NAMES = (
    "usage [Widely Deployed, Used by Tools, Used by Clients]",
    "direction [Future Direction, Complete, Stable]",
    "community [Discoverable, Documented, Core in Last Release]",
    "system [Foundation, Atomic, Proximity]",
    "[Non-Admin]",
)
BINARY_MARKS = frozenset({"0", "1", "?", "*"})
GRADUATED_ONLY = frozenset({"2", "3", "4", "5"})
GRADUATED_MARKS = BINARY_MARKS | GRADUATED_ONLY
NON_ADMIN_MARKS = frozenset({"0", "1", "?"})

# A capability name starts with a letter or digit (so no cell of the board starts with "=").
_CANDIDATE = re.compile(r"^(?P<name>[A-Za-z0-9][^\s:\[\]]*):(?P<gap>[ \t]*)(?P<rest>\[.*)$")
_GROUP = re.compile(r"\[([^\[\]]*)\]")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
FORM = (
    "write it as `name: [d,t,c] [f,c,s] [di,do,st] [fo,a,p] [n] [total]` with marks 0, 1, ? "
    "(or * for a criterion the program does not consider)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredLine:
    """One scored line, as written."""

    lineno: int  # 1-based
    name: str
    marks: tuple[str, ...]  # the twelve criteria in worksheet order, then Non-Admin
    head: str  # the line up to and including the Non-Admin group; kept verbatim on rewrite
    written_total: str | None
    written_star: bool
    compact: bool  # groups written without spaces between them (the add-on form)
    section: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Worksheet:
    """A whole worksheet: every line, and the scored ones parsed."""

    source: str
    lines: tuple[str, ...]
    scored: tuple[ScoredLine, ...]
    graduated: bool = False  # the scale in use: True only when a criterion is marked 2 to 5
    final_newline: bool = True
    newline: str = "\n"

    @property
    def scale(self) -> int:
        """The highest mark: 1 for 0/1 marks, 5 for graduated marks."""
        return 5 if self.graduated else 1

    def text(self) -> str:
        """The worksheet text exactly as read."""
        return _join(self.lines, self.newline, self.final_newline)

    def scale_note(self) -> str:
        """One line saying which scale the marks are read on, and why."""
        if self.graduated:
            return (
                f"{self.source}: marks on the graduated scale (0 to 5): each counts weight x mark / 5, "
                "and the binary reading counts a mark of 3 or more as 1"
            )
        return (
            f"{self.source}: marks on the binary scale (0/1): no criterion is marked 2 to 5, so each "
            "mark of 1 counts its full weight, as the sheet's totals were computed"
        )


def read_worksheet(text: str, *, source: str, graduated: bool = False) -> Worksheet:
    """Parse a worksheet; :class:`WorksheetError` lists every malformed scored line.

    :param source: the file name used in messages.
    :param graduated: accept criteria marks 0 to 5 instead of 0 and 1. The sheet is read on the
        graduated scale only when one of them is 2 to 5 (:attr:`Worksheet.graduated`).
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    final_newline = text.endswith(newline) or text == ""
    lines = tuple(text.split(newline)[:-1] if final_newline and text else text.split(newline))
    allowed = GRADUATED_MARKS if graduated else BINARY_MARKS
    scored: list[ScoredLine] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    section = ""
    for index, line in enumerate(lines):
        if _UNDERLINE.match(line) and index > 0 and lines[index - 1].strip():
            section = lines[index - 1].strip()
        match = _CANDIDATE.match(line)
        if match is None:
            continue
        where = f"{source}:{index + 1}: {match['name']}"
        parsed, line_problems = _parse_line(match, allowed, graduated)
        if line_problems:
            problems.extend(f"{where}: {p}" for p in line_problems)
            continue
        if match["name"] in seen:
            problems.append(
                f"{where}: already scored at line {seen[match['name']]} (fix: keep one line per capability)"
            )
            continue
        seen[match["name"]] = index + 1
        assert parsed is not None
        scored.append(replace(parsed, lineno=index + 1, section=section))
    if problems:
        raise WorksheetError(problems)
    return Worksheet(
        source=source,
        lines=lines,
        scored=tuple(scored),
        graduated=graduated and any(m in GRADUATED_ONLY for s in scored for m in s.marks),
        final_newline=final_newline,
        newline=newline,
    )


def require_scored(worksheet: Worksheet) -> Worksheet:
    """``worksheet``, or a :class:`WorksheetError` when it has no scored line (then it is not a worksheet)."""
    if not worksheet.scored:
        raise WorksheetError(
            [
                f"{worksheet.source}: no scored line: is this a scoring worksheet? (fix: score each "
                f"capability on a line of its own; {FORM})"
            ]
        )
    return worksheet


def _parse_line(match: re.Match[str], allowed: frozenset[str], graduated: bool) -> tuple[ScoredLine | None, list[str]]:
    rest, offset = match["rest"], match.start("rest")
    groups = list(_GROUP.finditer(rest))
    gaps = [rest[a.end() : b.start()] for a, b in zip(groups, groups[1:], strict=False)]
    problems: list[str] = []
    if any(gap.strip() for gap in gaps) or (groups and rest[: groups[0].start()].strip()):
        problems.append(f"text between the mark groups (fix: {FORM})")
    count = len(groups) - (1 if len(groups) == 6 else 0)
    if (
        count == len(GROUP_SIZES)
        and len(groups) == 5
        and _NUMBER.match(groups[4][1].strip())
        and groups[4][1].strip() not in NON_ADMIN_MARKS
    ):
        count = 4  # the last group is a total: a mark group is missing
    if count != len(GROUP_SIZES):
        return None, [*problems, f"expected 5 mark groups and a total, found {count} mark groups (fix: {FORM})"]
    tail = rest[groups[-1].end() :]
    total: str | None = None
    if len(groups) == 6:
        total = groups[5][1].strip()
        if not _NUMBER.match(total):
            problems.append(f"the total [{total}] is not a number (fix: write a number, or run tabulate --write)")
    if tail.strip() not in ("", "*"):
        problems.append(f"unexpected text {tail.strip()!r} after the line (fix: move comments to a Notes: block)")
    marks: list[str] = []
    for number, (group, size) in enumerate(zip(groups[:5], GROUP_SIZES, strict=True)):
        values = [v.strip() for v in group[1].split(",")]
        if len(values) != size:
            problems.append(
                f"group {number + 1}, {_GROUP_NAMES[number]}, has {len(values)} marks, expected {size} (fix: {FORM})"
            )
            continue
        ok = NON_ADMIN_MARKS if number == 4 else allowed
        for value in values:
            if value not in ok:
                problems.append(_bad_mark(value, number, graduated))
        marks.extend(values)
    if problems:
        return None, problems
    head = match.string[: offset + groups[4].end()]
    return ScoredLine(
        lineno=0,
        name=match["name"],
        marks=tuple(marks),
        head=head,
        written_total=total,
        written_star=tail.strip() == "*",
        compact=not any(gaps[:4]),
        section="",
    ), []


def _bad_mark(value: str, group: int, graduated: bool) -> str:
    what = f"mark {value!r} in group {group + 1}, {_GROUP_NAMES[group]}"
    if group == 4:
        return f"{what}: Non-Admin is 0 (vetoed), 1 or ? (fix: use one of those)"
    if value in GRADUATED_MARKS and not graduated:
        return f"{what}: marks are 0, 1, ? or * (fix: pass --graduated to score marks 0 to 5)"
    choices = "0 to 5, ? or *" if graduated else "0, 1, ? or *"
    return f"{what} is not a mark (fix: use {choices})"


def render_worksheet(worksheet: Worksheet, totals: Mapping[str, str]) -> str:
    """The worksheet with each scored line's total and star rewritten from ``totals``.

    Scored lines become ``<head> [<total>]`` plus ``*`` when ``totals[name]`` carries one,
    as the upstream tabulator writes them; every other line is copied unchanged.
    """
    by_line = {s.lineno: s for s in worksheet.scored}
    out = [
        _with_total(by_line[i].head, totals[by_line[i].name]) if i in by_line else line
        for i, line in enumerate(worksheet.lines, start=1)
    ]
    return _join(out, worksheet.newline, worksheet.final_newline)


def _with_total(head: str, total: str) -> str:
    star = total.endswith("*")
    return f"{head} [{total.removesuffix('*')}]" + ("*" if star else "")


def format_marks(marks: Sequence[str], *, compact: bool) -> str:
    """Thirteen marks as five bracketed groups, in the core or the compact form."""
    groups, start = [], 0
    for size in GROUP_SIZES:
        groups.append("[" + ",".join(marks[start : start + size]) + "]")
        start += size
    return ("" if compact else " ").join(groups)


def replace_marks(worksheet: Worksheet, rows: Sequence[tuple[str, tuple[str, ...]]]) -> Worksheet:
    """A worksheet whose scored lines carry ``rows`` (name, thirteen marks), in place.

    Lines whose marks are unchanged stay verbatim; changed ones keep their name and spacing;
    capabilities missing from ``rows`` lose their line; new ones are added after the last
    scored line, aligned with it. The totals are left for :func:`render_worksheet`.
    """
    wanted = dict(rows)
    by_line = {s.lineno: s for s in worksheet.scored}
    lines: list[str] = []
    after: int | None = None  # where new capabilities go: after the last kept scored line
    for number, line in enumerate(worksheet.lines, start=1):
        scored = by_line.get(number)
        if scored is None:
            lines.append(line)
            continue
        if scored.name not in wanted:
            continue
        marks = wanted[scored.name]
        if marks == scored.marks:
            lines.append(line)
        else:
            lines.append(scored.head[: scored.head.index("[")] + format_marks(marks, compact=scored.compact))
        after = len(lines)
    existing = {s.name for s in worksheet.scored}
    template = worksheet.scored[-1] if worksheet.scored else None
    width = template.head.index("[") if template else 0
    compact = template.compact if template else False
    after = len(lines) if after is None else after
    lines[after:after] = [
        f"{name}:".ljust(max(width, len(name) + 2)) + format_marks(marks, compact=compact)
        for name, marks in rows
        if name not in existing
    ]
    text = _join(lines, worksheet.newline, worksheet.final_newline)
    return read_worksheet(text, source=worksheet.source, graduated=worksheet.graduated)


def _join(lines: Sequence[str], newline: str, final_newline: bool) -> str:
    return newline.join(lines) + (newline if final_newline and lines else "")
