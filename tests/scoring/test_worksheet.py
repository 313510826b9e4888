"""Reading and writing the worksheet format (core and add-on forms)."""

from __future__ import annotations

import pytest

from scoring.errors import WorksheetError
from scoring.worksheet import format_marks, read_worksheet, render_worksheet, replace_marks

SHEET = """Title
=====

Capability Name: [Widely Deployed,Used By Tools,Used by Clients],
Possible scores: 0, 1, ? (not scored yet or needs discussion)

Compute
-------
compute-a:       [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1] [74]*
compute-b:       [0,1,1] [0,1,1] [1,1,1] [0,1,1] [1] [72]

Notes:
  * see http://example.org/x: [1] footnote
"""


def test_core_form_is_read_with_marks_totals_and_sections() -> None:
    sheet = read_worksheet(SHEET, source="s.txt")
    assert [s.name for s in sheet.scored] == ["compute-a", "compute-b"]
    first = sheet.scored[0]
    assert first.marks == ("1", "1", "1", "1", "1", "1", "0", "1", "0", "0", "1", "1", "1")
    assert (first.lineno, first.written_total, first.written_star, first.compact) == (9, "74", True, False)
    assert first.section == "Compute"
    assert first.head == "compute-a:       [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1]"
    assert sheet.text() == SHEET


def test_addon_compact_form_with_not_considered_marks() -> None:
    sheet = read_worksheet("dns-zone-crud:   [*,1,1][1,1,1][1,1,0][*,1,*][1] [64]\n", source="dns.txt")
    (line,) = sheet.scored
    assert line.compact and line.marks[0] == "*" and line.marks[9] == "*" and line.marks[11] == "*"
    assert line.written_total == "64" and not line.written_star


def test_render_rewrites_totals_and_copies_other_lines() -> None:
    sheet = read_worksheet(SHEET, source="s.txt")
    text = render_worksheet(sheet, {"compute-a": "80*", "compute-b": "-30"})
    assert "compute-a:       [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1] [80]*\n" in text
    assert "compute-b:       [0,1,1] [0,1,1] [1,1,1] [0,1,1] [1] [-30]\n" in text
    assert text.replace("[80]*", "[74]*").replace("[-30]", "[72]") == SHEET


def test_render_keeps_star_marks_inside_compact_groups() -> None:
    sheet = read_worksheet("dns-zone-crud:   [*,1,1][1,1,1][1,1,0][*,1,*][1] [64]\n", source="dns.txt")
    assert (
        render_worksheet(sheet, {"dns-zone-crud": "66*"}) == "dns-zone-crud:   [*,1,1][1,1,1][1,1,0][*,1,*][1] [66]*\n"
    )


def test_a_line_without_total_is_scored() -> None:
    sheet = read_worksheet("x-y: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]", source="s.txt")
    assert sheet.scored[0].written_total is None and not sheet.final_newline


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("compute-a: [1,1,1] [1,1] [0,1,0] [0,1,1] [1] [74]", "group 2, direction"),
        ("compute-a: [1,1,1] [1,1,1] [0,1,0] [0,1,1] [74]", "expected 5 mark groups"),
        ("compute-a: [1,1,1] [1,x,1] [0,1,0] [0,1,1] [1] [74]", "mark 'x' in group 2"),
        ("compute-a: [1,1,1] [1,1,1] [0,1,0] [0,1,1] [*] [74]", "Non-Admin is 0 (vetoed), 1 or ?"),
        ("compute-a: [1,1,1] [1,1,1] [0,3,0] [0,1,1] [1] [74]", "pass --graduated"),
        ("compute-a: [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1] [7x]", "is not a number"),
        ("compute-a: [1,1,1] [1,1,1] [0,1,0] [0,1,1] [1] [74] see notes", "after the line"),
        ("compute-a: [1,1,1] and [1,1,1] [0,1,0] [0,1,1] [1] [74]", "text between the mark groups"),
    ],
)
def test_malformed_lines_name_file_line_and_fix(line: str, message: str) -> None:
    with pytest.raises(WorksheetError) as caught:
        read_worksheet(f"Title\n{line}\n", source="sheet.txt")
    (problem,) = caught.value.problems
    assert problem.startswith("sheet.txt:2: compute-a: ")
    assert message in problem and "fix:" in problem


def test_every_malformed_line_is_listed_and_duplicates_are_refused() -> None:
    text = (
        "a-b: [1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"
        "c-d: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]\n"
        "c-d: [1,1,1] [1,1,1] [1,1,1] [1,1,1] [0]\n"
    )
    with pytest.raises(WorksheetError) as caught:
        read_worksheet(text, source="w.txt")
    assert [p.split(": ")[0] for p in caught.value.problems] == ["w.txt:1", "w.txt:3"]
    assert "already scored at line 2" in caught.value.problems[1]


def test_graduated_marks_are_accepted_only_when_asked() -> None:
    line = "g-h: [5,4,3] [2,1,0] [?,5,5] [0,0,0] [1] [10]\n"
    assert read_worksheet(line, source="g.txt", graduated=True).scored[0].marks[:3] == ("5", "4", "3")
    with pytest.raises(WorksheetError):
        read_worksheet(line, source="g.txt")


def test_replace_marks_changes_adds_and_drops_lines() -> None:
    sheet = read_worksheet(SHEET, source="s.txt")
    new_b = ("1",) * 13
    new_c = ("0",) * 12 + ("1",)
    changed = replace_marks(sheet, [("compute-b", new_b), ("compute-c", new_c)])
    assert [s.name for s in changed.scored] == ["compute-b", "compute-c"]
    assert changed.lines[8] == "compute-b:       [1,1,1] [1,1,1] [1,1,1] [1,1,1] [1]"
    assert changed.lines[9] == "compute-c:       " + format_marks(new_c, compact=False)
    assert changed.lines[10:] == sheet.lines[10:]


def test_replace_marks_with_the_same_marks_is_the_same_sheet() -> None:
    sheet = read_worksheet(SHEET, source="s.txt")
    same = replace_marks(sheet, [(s.name, s.marks) for s in sheet.scored])
    assert same.text() == SHEET
