"""``tcup-score``: tabulate interop scoring worksheets, compare scores with statuses and
evidence, build the board spreadsheet, read it back, and draft the next guideline.

Every command parses its options, calls one function and prints the result; errors of
:mod:`scoring.errors` (and invalid guideline or results files) become one message naming
the file, the line and the fix, and exit status 1.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import pandas as pd

from interop_model.errors import InteropModelError, InvalidJson
from interop_model.guideline_loader import guideline_from_dict
from interop_model.jsontext import parse_json
from scoring import tables as T
from scoring.assessment import Assessment, Runs, assess, score_with_guideline
from scoring.board import read_board, write_board
from scoring.draft import NEW_STATUS, NOTE, draft_decisions, draft_guideline
from scoring.errors import DraftError, ScoringError
from scoring.evidence import DEFAULT_THRESHOLD
from scoring.sources import discover_previous, load_guideline, load_previous, load_worksheet, read_runs, read_text
from scoring.worksheet import Worksheet, render_worksheet

F = TypeVar("F", bound=Callable[..., Any])
GRADUATED_HELP = (
    "Marks run from 0 to 5 and count weight x mark / 5; a binary reading (3 or more counts "
    "as 1) is shown beside the graduated total. The scale is read from the marks and printed: "
    "a sheet with no mark from 2 to 5 (the board's 0/1 sheets) stays on the binary scale."
)
_file = click.Path(exists=True, dir_okay=False, path_type=Path)
_out = click.Path(dir_okay=False, writable=True, path_type=Path)
_any = click.Path(exists=True, path_type=Path)


def reported(func: F) -> F:
    """Turn scoring and model errors into one message and exit status 1 (the CLI edge)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ScoringError, InteropModelError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def worksheet_option(func: F) -> F:
    func = click.option("--graduated", is_flag=True, help=GRADUATED_HELP)(func)
    return click.option(
        "--worksheet", "-w", type=_file, required=True, help="Scoring worksheet, e.g. working_materials/scoring.txt."
    )(func)


def evidence_options(func: F) -> F:
    for option in reversed(
        [
            click.option(
                "--target",
                "-t",
                help="Program: platform, compute, object, dns, orchestration, nfv... "
                "Default: platform, or the guideline's only program.",
            ),
            click.option(
                "--previous",
                "-p",
                "previous_paths",
                type=_file,
                multiple=True,
                help="A previous guideline, newest first; repeat for more. Default: the two newest "
                "older guidelines beside --guideline (2020.06.json, 2019.11.json for next.json).",
            ),
            click.option(
                "--results",
                "-r",
                "results_paths",
                type=_any,
                multiple=True,
                help="RefStack v1 upload or tcup extended results document, or a folder of them "
                "(*.json); repeat for more. Gives the Widely Deployed evidence.",
            ),
            click.option(
                "--threshold",
                type=click.FloatRange(0, 1),
                default=DEFAULT_THRESHOLD,
                show_default=True,
                help="Share of clouds whose latest run passes every non-flagged test of a capability "
                "for Widely Deployed evidence of 1.",
            ),
        ]
    ):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def cli() -> None:
    """Score OpenStack interop capabilities, as the Interop Working Group's worksheets do.

    \b
    A worksheet line gives a capability thirteen marks (0, 1, ? or * for "not considered"):
      compute-images-create:  [0,1,1] [0,1,1] [1,1,1] [0,1,1] [1] [72]
    The total is the sum of the guideline's weights for the marks of 1; it is negative while a
    mark is ?, 0 when Non-Admin is 0 (vetoed), and starred when it reaches the cutoff.
    Weights and cutoff always come from the guideline file.
    """


@cli.command(short_help="Compute totals and stars; write the CSV or rewrite the worksheet.")
@worksheet_option
@click.option("--guideline", "-g", type=_file, required=True, help="Guideline giving weights and cutoff.")
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write tabulated_scores.csv here ('-' for stdout).",
)
@click.option(
    "--write",
    is_flag=True,
    help="Write the totals and stars into the worksheet, in place, where it has none; a total or "
    "star the sheet already has is only replaced with --overwrite.",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="With --write: also replace the totals and stars the sheet already has that differ from the computed ones.",
)
@click.option("--check", is_flag=True, help="Exit with status 1 when a written total or star is stale.")
@reported
def tabulate(
    worksheet: Path,
    graduated: bool,
    guideline: Path,
    csv_out: Path | None,
    write: bool,
    overwrite: bool,
    check: bool,
) -> None:
    """Compute every total and star; write the CSV and/or rewrite the worksheet.

    \b
    The CSV has the tabulated_scores.csv shape: Capability, the 12 criteria, Non-Admin, Total
    (74*, 72, -30), and a short "name,0" row for each vetoed capability; graduated sheets add
    a Binary Total column. Hand-written totals that disagree with the weights are reported.
    Without --csv or --write, the CSV goes to stdout.

    \b
    --write never changes what the board wrote unless asked: a sheet whose written totals or
    stars differ from the computed ones is left untouched (exit status 1) without --overwrite.
    With --graduated, the scale in use (binary or graduated, read from the marks) is printed.

    \b
    Example: tcup-score tabulate -w working_materials/scoring.txt -g next.json --csv tabulated_scores.csv
    """
    if overwrite and not write:
        raise click.UsageError("--overwrite only applies with --write")
    sheet = _load_sheet(worksheet, graduated)
    model = load_guideline(guideline)
    scored = score_with_guideline(sheet, model)
    fix = "run with --write --overwrite" if not write or not overwrite else ""
    for name, row in scored.stale.iterrows():
        click.echo(
            f"{sheet.source}:{row[T.LINE]}: {name}: the sheet says [{row[T.BOARD]}] but the marks "
            f"give {row[T.TOTAL_TEXT]} with the weights of {model.id}" + (f" (fix: {fix})" if fix else ""),
            err=True,
        )
    if write and len(scored.stale) and not overwrite:
        first = scored.stale.iloc[0]
        raise ScoringError(
            f"{sheet.source}: not rewritten: --write would replace {len(scored.stale)} total(s) or star(s) "
            f"the sheet already has (line {first[T.LINE]}: [{first[T.BOARD]}] -> [{first[T.TOTAL_TEXT]}]) "
            "(fix: check the guideline and the marks' scale; add --overwrite to replace them)"
        )
    text = T.to_csv_text(scored.marks, scored.scores, graduated=graduated)
    if csv_out is not None or not write:
        _emit(text, csv_out)
    rewritten = render_worksheet(sheet, scored.scores[T.TOTAL_TEXT].to_dict()) if write else None
    if rewritten is not None and rewritten != sheet.text():
        _write(worksheet, rewritten)
    if check and len(scored.stale):
        sys.exit(1)


@cli.command(short_help="List score/status and mark/evidence disagreements, with the process rule.")
@worksheet_option
@click.option("--guideline", "-g", type=_file, required=True, help="Guideline whose statuses are compared.")
@evidence_options
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the disagreements as CSV here ('-' for stdout) instead of a table.",
)
@reported
def compare(
    worksheet: Path,
    graduated: bool,
    guideline: Path,
    target: str | None,
    previous_paths: tuple[Path, ...],
    results_paths: tuple[Path, ...],
    threshold: float,
    csv_out: Path | None,
) -> None:
    """List where scores and statuses, or marks and evidence, disagree.

    \b
    Score against status: required below the cutoff, advisory/deprecated/removed at or above
    it, exactly at the cutoff and never required, candidates not listed, listed but unscored;
    each with the process rule (A4.4, A4.5, A4.6, A7.2, Non-Admin veto) that explains it.
    Evidence: Widely Deployed from pass rates, Core in Last Release and Stable from the previous
    guidelines, Non-Admin from the admin field. The board's mark always wins; this lists them.

    \b
    Example: tcup-score compare -w scoring.txt -g next.json -p 2020.06.json -p 2019.11.json
    """
    result = _assess(worksheet, graduated, guideline, target, previous_paths, results_paths, threshold)
    found = result.disagreements
    if csv_out is not None:
        _emit(found.to_csv(index=False, lineterminator="\n"), csv_out)
    elif len(found):
        lines = (
            found[T.CAPABILITY]
            + "  "
            + found[T.KIND]
            + "  "
            + found[T.CRITERION]
            + ": "
            + found[T.BOARD].replace("", "(not listed)")
            + " vs "
            + found[T.EVIDENCE]
            + "  ["
            + found[T.RULE]
            + "] "
            + found[T.DETAIL]
        )
        click.echo("\n".join(lines))
    click.echo(_counts(found), err=True)


@cli.command(name="pass-rates", short_help="Per-capability pass rates over clouds from results documents.")
@click.option("--guideline", "-g", type=_file, required=True, help="Guideline whose capabilities are rated.")
@click.option(
    "--results",
    "-r",
    "results_paths",
    type=_any,
    multiple=True,
    required=True,
    help="Results document or folder of them; repeat for more.",
)
@click.option("--target", "-t", help="Program (default: platform, or the only one).")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Pass rate at which Widely Deployed evidence is 1.",
)
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write CSV here ('-' for stdout); default: stdout.",
)
@reported
def pass_rates(
    guideline: Path, results_paths: tuple[Path, ...], target: str | None, threshold: float, csv_out: Path | None
) -> None:
    """Per capability: clouds whose latest run passes every non-flagged test, and the rate.

    Tests match by idempotent id first, by name or alias when either side has no id.

    \b
    Example: tcup-score pass-rates -g 2020.06.json -r uploads/ --threshold 0.6
    """
    from scoring.api import pass_rates as rates

    runs = Runs(*T.results_frames(read_runs(results_paths)))
    rows = rates(runs, load_guideline(guideline), target, threshold=threshold)
    _emit(pd.DataFrame(rows).to_csv(index=False, lineterminator="\n"), csv_out)


@cli.command(short_help="Write the board spreadsheet (.xlsx) with live formulas.")
@worksheet_option
@click.option("--guideline", "-g", type=_file, required=True, help="Guideline giving weights, cutoff, statuses.")
@evidence_options
@click.option("--out", "-o", type=_out, required=True, help="The .xlsx file to write.")
@reported
def board(
    worksheet: Path,
    graduated: bool,
    guideline: Path,
    target: str | None,
    previous_paths: tuple[Path, ...],
    results_paths: tuple[Path, ...],
    threshold: float,
    out: Path,
) -> None:
    """Write the board spreadsheet (.xlsx).

    \b
    Sheets: Criteria (weights and cutoff, editable), Scores (marks, Total as a live formula of
    the weights, Must-pass, computed score and star, approved and previous status, disagreement;
    shaded must-pass, vetoed and incomplete rows), Evidence (pass rates, cloud counts),
    Disagreements, Worksheet (the text, for the import).

    \b
    Example: tcup-score board -w scoring.txt -g next.json -r uploads/ --out board.xlsx
    """
    result = _assess(worksheet, graduated, guideline, target, previous_paths, results_paths, threshold)
    book = io.BytesIO()  # NOTE: built in memory, so a failed write leaves no half-closed zip behind
    write_board(result, book)
    _write(out, book.getvalue())
    click.echo(f"{out}: {len(result.scored.marks)} capabilities, {_counts(result.disagreements)}", err=True)


@cli.command(name="import", short_help="Read an edited board back into a worksheet and CSV.")
@click.argument("workbook", type=_file)
@click.option(
    "--worksheet-out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the rebuilt worksheet here ('-' for stdout).",
)
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write tabulated_scores.csv here ('-' for stdout).",
)
@reported
def import_(workbook: Path, worksheet_out: Path | None, csv_out: Path | None) -> None:
    """Read an edited board back into worksheet text and the CSV.

    Marks come from the Scores sheet, weights and cutoff from the Criteria sheet; every other
    worksheet line is kept. An unedited board gives back the worksheet and CSV it came from.

    \b
    Example: tcup-score import board.xlsx --worksheet-out scoring.txt --csv tabulated_scores.csv
    """
    imported = read_board(workbook, name=str(workbook))
    if worksheet_out is None and csv_out is None:
        raise click.UsageError("nothing to write: give --worksheet-out and/or --csv")
    if worksheet_out is not None:
        _emit(imported.worksheet_text, worksheet_out)
    if csv_out is not None:
        _emit(imported.csv_text, csv_out)


@cli.command(short_help="Draft the next guideline (schema 2.0) by the process rules.")
@click.option("--previous", "-p", "previous", type=_file, required=True, help="The guideline being succeeded.")
@worksheet_option
@click.option("--out", "-o", type=_out, required=True, help="Where to write the draft guideline (JSON).")
@click.option("--id", "new_id", default="next", show_default=True, help="The draft's guideline id.")
@click.option("--target", "-t", help="Program whose components receive new capabilities (default: platform).")
@click.option("--keep-flags", is_flag=True, help="Keep test flags (a guideline proposed for approval has none).")
@reported
def draft(
    previous: Path, worksheet: Path, graduated: bool, out: Path, new_id: str, target: str | None, keep_flags: bool
) -> None:
    """Draft the next guideline (schema 2.0) from the previous one and the worksheet.

    \b
    Statuses follow the process rules, not the score alone: at or above the cutoff a new
    capability becomes advisory (A4.6) and an advisory one required; below it a listed
    capability is deprecated, and a deprecated one removed (A4.5); a vetoed one is never
    required; incomplete or unscored capabilities keep their status.

    \b
    Example: tcup-score draft -p 2020.06.json -w scoring.txt -o next.json
    """
    try:
        raw = parse_json(read_text(previous))
    except InvalidJson as exc:
        raise ScoringError(f"{previous}: invalid guideline: {exc.problem}") from None
    model = guideline_from_dict(raw, source=str(previous))
    assert isinstance(raw, dict)  # guideline_from_dict refuses any other document
    scored = score_with_guideline(_load_sheet(worksheet, graduated), model)
    decisions = draft_decisions(scored, model)
    document = draft_guideline(
        scored, model, raw, new_id=new_id, target=target, keep_flags=keep_flags, decisions=decisions
    )
    try:
        checked = guideline_from_dict(json.loads(json.dumps(document)), source=str(out))
    except InteropModelError as exc:  # NOTE: a bug of ours, not the user's; still say what failed
        raise DraftError([f"the draft does not load back: {exc}"]) from exc
    _write(out, json.dumps(document, indent=4, ensure_ascii=False) + "\n")
    changed = decisions[decisions[NEW_STATUS].ne(decisions[T.PREVIOUS_STATUS])]
    for name, row in changed.iterrows():
        click.echo(
            f"{name}: {row[T.PREVIOUS_STATUS] or '(not listed)'} -> {row[NEW_STATUS] or '(not listed)'} "
            f"[{row[T.TOTAL_TEXT] if isinstance(row[T.TOTAL_TEXT], str) else 'no score'}] "
            f"{row[T.RULE]}: {row[NOTE]}",
            err=True,
        )
    click.echo(
        f"{out}: guideline {checked.id}, {len(checked.capabilities)} capabilities, "
        f"{len(changed)} status changes, {len(checked.warnings)} loader warnings",
        err=True,
    )


def _assess(
    worksheet: Path,
    graduated: bool,
    guideline: Path,
    target: str | None,
    previous_paths: Sequence[Path],
    results_paths: Sequence[Path],
    threshold: float,
) -> Assessment:
    previous = list(previous_paths) or discover_previous(guideline)
    if not previous_paths:
        click.echo(
            "previous guidelines: "
            + (", ".join(p.name for p in previous) or "none found")
            + " (auto; choose with --previous)",
            err=True,
        )
    return assess(
        _load_sheet(worksheet, graduated),
        load_guideline(guideline),
        target=target,
        previous=load_previous(previous),
        runs=_runs(results_paths),
        threshold=threshold,
    )


def _load_sheet(path: Path, graduated: bool) -> Worksheet:
    """Read the worksheet; with --graduated, say which scale the marks are read on."""
    sheet = load_worksheet(path, graduated=graduated)
    if graduated:
        click.echo(sheet.scale_note(), err=True)
    return sheet


def _runs(paths: Sequence[Path]) -> Runs | None:
    return Runs(*T.results_frames(read_runs(paths))) if paths else None


def _counts(found: pd.DataFrame) -> str:
    counts = found[T.KIND].value_counts()
    return f"{len(found)} disagreements" + (
        " (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")" if len(found) else ""
    )


def _emit(text: str, path: Path | None) -> None:
    if path is None or str(path) == "-":
        click.echo(text, nl=False)
    else:
        _write(path, text)


def _write(path: Path, content: str | bytes) -> None:
    """Write a file, or one message naming it and why not (a missing folder, a full disk)."""
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    except OSError as exc:
        raise _unwritable(path, exc) from None


def _unwritable(path: Path, exc: OSError) -> ScoringError:
    why = exc.strerror or str(exc)
    fix = "create the folder first" if not path.parent.is_dir() else "choose a writable path"
    return ScoringError(f"{path}: cannot be written: {why} (fix: {fix})")


def main() -> None:
    """Console entry point ``tcup-score``."""
    cli(prog_name="tcup-score")
