"""The board spreadsheet: write an assessment to .xlsx, and read an edited one back.

Sheets:

- **Criteria**: one row per criterion with its weight, then the cutoff. The weights and the
  cutoff are the editable (yellow) cells; everything else follows from them.
- **Scores**: row 1 repeats the weights (live references to Criteria), row 2 is the header,
  then one row per capability: the marks, ``Total`` as a live formula of the weights
  (negative when a mark is ``?``, 0 when Non-Admin is 0), ``Must-pass`` (total reaches the
  cutoff), the engine's computed score and star, the approved and previous statuses and the
  disagreements. Conditional formatting shades must-pass, vetoed and incomplete rows.
- **Evidence**: pass rates and cloud counts per capability; for Widely Deployed, Core in Last
  Release, Stable and Non-Admin the evidence, the board's mark and the proposal (the board's
  mark wins; evidence only fills a ``?``).
- **Disagreements**: every status and evidence disagreement, with the process rule.
- **Worksheet**: the worksheet text, one line per row, so the import can rebuild it.

:func:`read_board` turns an edited workbook back into worksheet text and the CSV; an unedited
board gives back exactly what ``tabulate --write`` and ``tabulate --csv`` give.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from os import PathLike
from typing import IO, Any

import pandas as pd
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError

from scoring import tables as T
from scoring.assessment import Assessment, Scored, score_worksheet
from scoring.engine import GRADUATED_MET
from scoring.errors import BoardError, BoardWriteError
from scoring.evidence import EVIDENCE_CRITERIA, apply_evidence
from scoring.worksheet import (
    BINARY_MARKS,
    GRADUATED_MARKS,
    NON_ADMIN_MARKS,
    read_worksheet,
    render_worksheet,
    replace_marks,
)

CRITERIA_SHEET, SCORES_SHEET, EVIDENCE_SHEET = "Criteria", "Scores", "Evidence"
DISAGREEMENTS_SHEET, WORKSHEET_SHEET = "Disagreements", "Worksheet"
WEIGHT_COL = "C"  # Criteria!C2..C13 hold the weights
FIRST_MARK = 3  # Scores column C: the first criterion
META = ("cutoff", "scale", "graduated_met", "guideline", "target", "previous", "worksheet", "final_newline")
META_ROW = {key: len(T.CRITERIA) + 3 + i for i, key in enumerate(META)}  # cutoff on row 15
EDITABLE = PatternFill("solid", fgColor="FFF2CC")
GREEN, GREY, ORANGE, RED = (PatternFill("solid", bgColor=c) for c in ("C6EFCE", "D9D9D9", "FCE4D6", "FFC7CE"))

Target = str | PathLike[str] | IO[bytes]


def write_board(assessment: Assessment, target: Target) -> None:
    """Write the board workbook for ``assessment`` to a path or a binary buffer.

    :raises BoardWriteError: for a control character (other than tab and newline) in the worksheet,
        found before anything is written; or in the guideline's texts.
    """
    scored = assessment.scored
    problems = [
        f"{scored.worksheet.source}:{number}: control character U+{ord(found.group()):04X} (fix: delete it)"
        for number, line in enumerate(scored.worksheet.lines, start=1)
        if (found := ILLEGAL_CHARACTERS_RE.search(line))
    ]
    if problems:
        raise BoardWriteError(problems)
    try:
        _write(assessment, target)
    except IllegalCharacterError:
        raise BoardWriteError(
            [
                f"{assessment.guideline.id}: a name or description holds a control character "
                "(fix: delete it from the guideline file)"
            ]
        ) from None


def _write(assessment: Assessment, target: Target) -> None:
    scored = assessment.scored
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        _criteria(assessment).to_excel(writer, sheet_name=CRITERIA_SHEET, index=False)
        scores = _scores(assessment)
        scores.to_excel(writer, sheet_name=SCORES_SHEET, index=False, startrow=1)
        _evidence(assessment).to_excel(writer, sheet_name=EVIDENCE_SHEET, index=False)
        labels = {
            T.CAPABILITY: "Capability",
            T.KIND: "Kind",
            T.CRITERION: "Criterion",
            T.BOARD: "Board",
            T.EVIDENCE: "Evidence / score",
            T.RULE: "Rule",
            T.DETAIL: "Detail",
        }
        assessment.disagreements.rename(columns=labels).to_excel(writer, sheet_name=DISAGREEMENTS_SHEET, index=False)
        book = writer.book
        _finish_criteria(book[CRITERIA_SHEET], assessment)
        _finish_scores(book[SCORES_SHEET], len(scores), list(scores.columns))
        lines = book.create_sheet(WORKSHEET_SHEET)
        for row, line in enumerate(scored.worksheet.lines, start=1):
            cell = lines.cell(row=row, column=1)
            cell.value, cell.data_type = line, "s"  # "=====" underlines must not become formulas
        for sheet in (book[EVIDENCE_SHEET], book[DISAGREEMENTS_SHEET]):
            sheet.freeze_panes = "B2"
            sheet.column_dimensions["A"].width = 40


def _criteria(assessment: Assessment) -> pd.DataFrame:
    named = {c.key: c for c in assessment.guideline.criteria}
    weights = assessment.scored.weights
    return pd.DataFrame(
        {
            "Key": list(T.CRITERIA),
            "Criterion": [T.DISPLAY_NAMES[k] for k in T.CRITERIA],
            "Weight": [None if pd.isna(weights[k]) else float(weights[k]) for k in T.CRITERIA],
            "Name in the guideline": [named[k].name if k in named else "(not considered)" for k in T.CRITERIA],
            "Description": [named[k].description if k in named else "" for k in T.CRITERIA],
        }
    )


def _finish_criteria(sheet: Any, assessment: Assessment) -> None:
    scored = assessment.scored
    values = {
        "cutoff": scored.cutoff,
        "scale": scored.worksheet.scale,
        "graduated_met": GRADUATED_MET,
        "guideline": assessment.guideline.id,
        "target": assessment.target or "",
        "previous": ", ".join(p.id for p in assessment.previous),
        "worksheet": scored.worksheet.source,
        "final_newline": scored.worksheet.final_newline,
    }
    labels = {
        "cutoff": "Cutoff (a total at or above it is a must-pass candidate)",
        "scale": "Highest mark (1, or 5 for graduated marks)",
        "graduated_met": "Graduated mark that counts as 1 in the binary reading",
    }
    for key in META:
        row = META_ROW[key]
        sheet.cell(row=row, column=1, value=key)
        sheet.cell(row=row, column=2, value=labels.get(key, key.replace("_", " ").capitalize()))
        sheet.cell(row=row, column=3, value=values[key])
    for row in [*range(2, len(T.CRITERIA) + 2), META_ROW["cutoff"]]:
        sheet.cell(row=row, column=3).fill = EDITABLE
    sheet.cell(
        row=META_ROW["final_newline"] + 2,
        column=2,
        value="Edit the yellow cells: the Scores sheet recomputes its totals and must-pass flags.",
    )
    sheet.column_dimensions["B"].width = 50
    sheet.column_dimensions["D"].width = 24


def _scores(assessment: Assessment) -> pd.DataFrame:
    scored, status = assessment.scored, assessment.status
    marks, scores = scored.marks, scored.scores
    frame = pd.DataFrame({"Capability": marks.index, "Section": marks[T.SECTION].to_numpy()})
    for key in T.MARK_COLUMNS:
        number = pd.to_numeric(marks[key], errors="coerce")
        frame[T.DISPLAY_NAMES[key]] = number.astype(object).where(number.notna(), marks[key]).to_numpy()
    n, last = len(frame), get_column_letter(FIRST_MARK + len(T.CRITERIA) - 1)
    rows = pd.Series(range(3, n + 3)).astype(str)
    na = get_column_letter(FIRST_MARK + len(T.CRITERIA))
    sign = "IF(SUMPRODUCT(--(C" + rows + ":" + na + rows + '="?"))>0,-1,1)'
    weights = f"$C$1:${last}$1"
    cutoff = f"{CRITERIA_SHEET}!${WEIGHT_COL}${META_ROW['cutoff']}"
    scale = f"{CRITERIA_SHEET}!${WEIGHT_COL}${META_ROW['scale']}"
    frame["Total"] = (
        "=IF(" + na + rows + "=0,0," + sign + f"*SUMPRODUCT({weights},C" + rows + ":" + last + rows + f")/{scale})"
    ).to_numpy()
    total_col = get_column_letter(len(frame.columns))
    frame["Must-pass"] = ("=" + total_col + rows + f">={cutoff}").to_numpy()
    if scored.worksheet.graduated:
        met = f"{CRITERIA_SHEET}!${WEIGHT_COL}${META_ROW['graduated_met']}"
        frame["Binary total"] = (
            "=IF("
            + na
            + rows
            + "=0,0,"
            + sign
            + f"*SUMPRODUCT({weights},ISNUMBER(C"
            + rows
            + ":"
            + last
            + rows
            + ")*(C"
            + rows
            + ":"
            + last
            + rows
            + f">={met})))"
        ).to_numpy()
    frame["Computed score"] = scores[T.TOTAL].to_numpy()
    frame["Star"] = scores[T.STAR].map({True: "*", False: ""}).to_numpy()
    if scored.worksheet.graduated:
        frame["Computed binary score"] = scores[T.BINARY_TOTAL].to_numpy()
    frame["Status"] = status[T.STATUS].reindex(marks.index).to_numpy()
    frame["Previous status"] = status[T.PREVIOUS_STATUS].reindex(marks.index).to_numpy()
    frame["Disagreement"] = _summary(assessment).reindex(marks.index).fillna("").to_numpy()
    frame["Line"] = marks[T.LINE].to_numpy()
    return frame


def _summary(assessment: Assessment) -> pd.Series:
    found = assessment.disagreements
    text = found[T.KIND].where(found[T.CRITERION].ne("status"), found[T.KIND] + " (" + found[T.RULE] + ")")
    text = text.where(found[T.KIND].ne("evidence-disagrees"), "evidence differs: " + found[T.CRITERION])
    return text.groupby(found[T.CAPABILITY], sort=False).agg("; ".join)


def _finish_scores(sheet: Any, n: int, columns: list[str]) -> None:
    def letter(name: str) -> str:
        return str(get_column_letter(columns.index(name) + 1))

    sheet["A1"] = "Weight (from Criteria)"
    for i in range(len(T.CRITERIA)):
        sheet.cell(row=1, column=FIRST_MARK + i, value=f"={CRITERIA_SHEET}!${WEIGHT_COL}${i + 2}")
    for cell in sheet[1]:
        cell.font = Font(italic=True)
    sheet.freeze_panes = "C3"
    sheet.column_dimensions["A"].width = 44
    if n == 0:
        return
    end = get_column_letter(len(columns))
    rows = f"A3:{end}{n + 2}"
    na, total, must = letter(T.DISPLAY_NAMES[T.NON_ADMIN]), letter("Total"), letter("Must-pass")
    sheet.conditional_formatting.add(rows, FormulaRule(formula=[f"${na}3=0"], fill=GREY, stopIfTrue=True))
    sheet.conditional_formatting.add(rows, FormulaRule(formula=[f"${total}3<0"], fill=ORANGE, stopIfTrue=True))
    sheet.conditional_formatting.add(rows, FormulaRule(formula=[f"${must}3=TRUE"], fill=GREEN))
    dis = letter("Disagreement")
    sheet.conditional_formatting.add(f"{dis}3:{dis}{n + 2}", FormulaRule(formula=[f"LEN(${dis}3)>0"], fill=RED))
    sheet.column_dimensions[dis].width = 60


def _evidence(assessment: Assessment) -> pd.DataFrame:
    evidence, marks = assessment.evidence, assessment.scored.marks
    labels = {
        T.TESTS: "Tests",
        T.COUNTED_TESTS: "Non-flagged tests",
        T.CLOUDS: "Clouds",
        T.CLOUDS_PASSING: "Clouds passing",
        T.PASS_RATE: "Pass rate",
        T.TEST_PASS_RATE: "Test pass rate",
    }
    frame = evidence.reindex(columns=list(labels)).rename(columns=labels)
    proposed = apply_evidence(marks, evidence, scale=assessment.scored.worksheet.scale).reindex(evidence.index)
    for key in EVIDENCE_CRITERIA:
        frame[f"{T.DISPLAY_NAMES[key]} (evidence)"] = evidence[key]
        frame[f"{T.DISPLAY_NAMES[key]} (board)"] = marks[key].reindex(evidence.index)
        frame[f"{T.DISPLAY_NAMES[key]} (proposed)"] = proposed[key]  # the board's mark; evidence only fills "?"
    return frame.rename_axis("Capability").reset_index()


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedBoard:
    """A board read back: the rebuilt worksheet scored with the board's weights and cutoff."""

    scored: Scored
    guideline: str
    worksheet_text: str
    csv_text: str


def read_board(source: Target, *, name: str = "board.xlsx") -> ImportedBoard:
    """Read an (edited) board: marks, weights and cutoff; rebuild the worksheet and the CSV.

    :raises BoardError: listing every unknown criterion, bad mark or missing weight, by cell.
    """
    try:
        book = load_workbook(source)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise BoardError([f"{name}: not an .xlsx workbook ({exc})"]) from None
    problems: list[str] = []
    missing = [s for s in (CRITERIA_SHEET, SCORES_SHEET, WORKSHEET_SHEET) if s not in book.sheetnames]
    if missing:
        raise BoardError([f"{name}: sheet {s!r} is missing (fix: export the board again)" for s in missing])
    weights, meta = _read_criteria(book[CRITERIA_SHEET], name, problems)
    scale = _number(meta.get("scale"), 1.0)
    if scale not in (1.0, 5.0):
        problems.append(
            f"{name}: {CRITERIA_SHEET} sheet: scale {str(meta.get('scale'))[:40]!r} is neither 1 (marks 0/1) "
            "nor 5 (graduated marks 0 to 5) (fix: type 1 or 5)"
        )
    cutoff = _number(meta.get("cutoff"), None)
    if cutoff is not None and not math.isfinite(cutoff):
        problems.append(
            f"{name}: {CRITERIA_SHEET} sheet: cutoff {str(meta.get('cutoff'))[:40]!r} is not a number "
            "(fix: type the cutoff score, e.g. 74)"
        )
    rows = _read_marks(book[SCORES_SHEET], name, int(scale) if scale == 5.0 else 1, problems)
    if problems:
        raise BoardError(problems)
    lines = ["" if v is None else str(v) for (v,) in book[WORKSHEET_SHEET].iter_rows(max_col=1, values_only=True)]
    final = str(meta.get("final_newline", True)).upper() not in ("FALSE", "0")
    text = "\n".join(lines) + ("\n" if final and lines else "")
    source_name = str(meta.get("worksheet") or name)
    worksheet = replace_marks(read_worksheet(text, source=source_name, graduated=scale == 5), rows)
    scored = score_worksheet(
        worksheet,
        weights,
        cutoff,
        guideline_source=f"{name} ({CRITERIA_SHEET} sheet)",
    )
    return ImportedBoard(
        scored=scored,
        guideline=str(meta.get("guideline") or ""),
        worksheet_text=render_worksheet(worksheet, scored.scores[T.TOTAL_TEXT].to_dict()),
        csv_text=T.to_csv_text(scored.marks, scored.scores, graduated=worksheet.graduated),
    )


def _number(value: Any, empty: float | None) -> float | None:
    """A cell's number; ``empty`` for an empty cell, NaN for text that is not a number."""
    if value in (None, ""):
        return empty
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _read_criteria(sheet: Any, name: str, problems: list[str]) -> tuple[pd.Series, dict[str, Any]]:
    weights = pd.Series(float("nan"), index=list(T.CRITERIA), dtype=float).rename_axis(T.CRITERION)
    meta: dict[str, Any] = {}
    for row in sheet.iter_rows(min_row=2, max_col=3):
        key, value = row[0].value, row[2].value
        where = f"{name}: {CRITERIA_SHEET}!{row[2].coordinate}"
        if key in META:
            meta[key] = value
        elif key in T.CRITERIA:
            if isinstance(value, int | float) and not isinstance(value, bool):
                weights[key] = float(value)
            elif value not in (None, ""):
                problems.append(
                    f"{where}: weight {value!r} of {key!r} is not a number (fix: type a number, "
                    "or leave it empty when the criterion is not considered)"
                )
        elif isinstance(key, str) and key.strip():
            problems.append(
                f"{name}: {CRITERIA_SHEET}!{row[0].coordinate}: unknown criterion {key!r} "
                f"(fix: use one of {', '.join(T.CRITERIA)})"
            )
    return weights, meta


def _read_marks(sheet: Any, name: str, scale: int, problems: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    header = [c.value for c in sheet[2]]
    by_name = {v: k for k, v in T.DISPLAY_NAMES.items()}
    where, missing = {}, []
    for key in T.MARK_COLUMNS:
        label = T.DISPLAY_NAMES[key]
        if label not in header:
            missing.append(f"{name}: {SCORES_SHEET}!2: column {label!r} is missing (fix: restore the header)")
        else:
            where[key] = header.index(label)
    unknown = [
        h
        for h in header[2 : header.index("Total") if "Total" in header else None]
        if isinstance(h, str) and h not in by_name
    ]
    missing.extend(
        f"{name}: {SCORES_SHEET}!2: unknown criterion column {h!r} (fix: use the criteria of the "
        f"{CRITERIA_SHEET} sheet)"
        for h in unknown
    )
    if missing:
        problems.extend(missing)
        return []
    allowed = GRADUATED_MARKS if scale == 5 else BINARY_MARKS
    rows: list[tuple[str, tuple[str, ...]]] = []
    for row in sheet.iter_rows(min_row=3):
        capability = row[0].value
        if capability in (None, ""):
            continue
        marks = []
        for key in T.MARK_COLUMNS:
            cell = row[where[key]]
            mark = _mark_text(cell.value)
            ok = NON_ADMIN_MARKS if key == T.NON_ADMIN else allowed
            if mark not in ok:
                problems.append(
                    f"{name}: {SCORES_SHEET}!{cell.coordinate}: {capability}: mark {cell.value!r} "
                    f"for {T.DISPLAY_NAMES[key]} is not one of {', '.join(sorted(ok))}"
                )
            marks.append(mark)
        rows.append((str(capability).strip(), tuple(marks)))
    return rows


def _mark_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()
