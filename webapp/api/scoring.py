"""``/v1/scoring``: evidence and scores for the interop board, from the scoring engine.

* Pass rates per capability across clouds (the Widely Deployed evidence): each cloud's
  latest *public* run only (unsigned, or signed and shared), passed tests only, so no
  private run or failure detail ever counts or shows. Clouds are counted, never named.
* Scores and the must-pass set (capabilities whose total reaches the cutoff) of a
  worksheet against a guideline, and the board workbook as ``.xlsx`` or ``.csv``.

The engine is :mod:`scoring.api` (read-only), imported on the first scoring request
only: it loads pandas, which starting the API must not pay for. Worksheets are the
imported ``scoring*.txt`` files, or the text body of a ``POST``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from flask import Blueprint, Response, jsonify, request

from interop_model import Guideline, UnknownTarget
from scoring.errors import ScoringError
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import catalog
from webapp.store import runs as store

bp = Blueprint("scoring", __name__)
EVIDENCE = "the latest public run (unsigned, or signed and shared) of each cloud"
DEFAULT_THRESHOLD = 0.5  # scoring.evidence.DEFAULT_THRESHOLD, without importing pandas to read it


def load_engine() -> ModuleType:
    """:mod:`scoring.api`, imported on first use (it loads pandas), unless ``serve`` has
    imported it before forking its workers (setting ``SCORING_PRELOAD``)."""
    from scoring import api

    return api


def _guideline() -> catalog.LoadedGuideline:
    version = request.args.get("guideline") or catalog.newest_core_guideline(session())
    if not version:
        raise ApiError(404, "No guideline is available: import some with tcup-server import-guidelines")
    loaded = catalog.resolve_guideline(session(), version, request.args.get("target"))
    if loaded is None:
        raise ApiError(404, f"Guideline {version} not found")
    return loaded


def _target(loaded: catalog.LoadedGuideline) -> str | None:
    target = request.args.get("target")
    if target is None:
        return None
    try:
        loaded.guideline.program(target)
    except UnknownTarget as exc:
        raise ApiError(400, f"Invalid target: {target}", [str(exc)]) from None
    return target


def _threshold() -> float:
    raw = request.args.get("threshold", str(DEFAULT_THRESHOLD))
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise ApiError(400, f"Invalid threshold: {raw[:40]} (a share of clouds between 0 and 1)")
    return value


def evidence(guidelines: Sequence[Guideline], *, signed_only: bool = False) -> tuple[Any, int]:
    """Each cloud's latest public run, as the passed tests ``guidelines`` list, ready for the
    engine (:class:`scoring.api.Runs`), and the number of clouds."""
    columns = store.evidence_columns(session(), guidelines, signed_only=signed_only)
    runs = load_engine().runs_from_cases(columns.cpids, columns.run_of, columns.case_of, columns.names, columns.uuids)
    return runs, len(columns.cpids)


def _scoring_errors(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ScoringError as exc:
        raise ApiError(400, str(exc).splitlines()[0], exc.problems) from None
    except UnknownTarget as exc:
        raise ApiError(400, f"Invalid target: {exc.target}", [str(exc)]) from None


def _csv(records: list[dict[str, Any]], name: str) -> Response:
    out = io.StringIO()
    if records:
        writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )


@bp.get("/scoring/pass-rates", strict_slashes=False)
def show_pass_rates() -> Response:
    """``GET /v1/scoring/pass-rates?guideline=&target=&threshold=&signed_only=``."""
    scoring = load_engine()
    loaded = _guideline()
    target, threshold = _target(loaded), _threshold()
    signed_only = request.args.get("signed_only", "").lower() in ("1", "true", "yes")
    runs, clouds = evidence([loaded.guideline], signed_only=signed_only)
    records = _scoring_errors(lambda: scoring.pass_rates(runs, loaded.guideline, target, threshold=threshold))
    if request.path.endswith(".csv"):
        return _csv(records, f"pass-rates-{loaded.guideline.id}.csv")
    return jsonify(
        {
            "guideline": loaded.guideline.id,
            "guideline_file": loaded.file,
            "target": target or "platform",
            "threshold": threshold,
            "clouds": clouds,
            "evidence": EVIDENCE + (", signed only" if signed_only else ""),
            "capabilities": records,
        }
    )


bp.add_url_rule("/scoring/pass-rates.csv", view_func=show_pass_rates, endpoint="pass_rates_csv")


def _worksheet(loaded: catalog.LoadedGuideline) -> tuple[str, str]:
    if request.method == "POST":
        try:
            text = request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "The worksheet must be UTF-8 text") from None
        bad = sorted(
            {
                f"U+{ord(c):04X}"
                for c in text
                if (ord(c) < 32 and c not in "\t\r\n") or 0xD800 <= ord(c) <= 0xDFFF or ord(c) in (0xFFFE, 0xFFFF)
            }
        )
        if bad:  # a workbook cannot hold them, and no worksheet needs them
            raise ApiError(400, "The worksheet holds control characters: " + ", ".join(bad[:10]))
        return "posted worksheet", text
    family = catalog.classify_name(loaded.file)
    default = "scoring.txt" if family is None or family[0] == catalog.POWERED else f"scoring_{family[0]}.txt"
    name = request.args.get("worksheet") or default
    stored = catalog.load_worksheet(session(), name)
    if stored is None:
        known = ", ".join(catalog.list_worksheets(session())) or "none imported"
        raise ApiError(404, f"Worksheet {name} not found (known: {known})")
    return name, stored


def _board() -> Response:
    scoring = load_engine()
    loaded = _guideline()
    target = _target(loaded)
    name, text = _worksheet(loaded)
    if request.path.endswith(".csv"):
        csv_text = _scoring_errors(lambda: scoring.to_csv_text(text, loaded.guideline, source=name))
        return Response(
            csv_text,
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename=board-{loaded.guideline.id}.csv"},
        )
    previous = [g.guideline for g in catalog.previous_guidelines(session(), loaded.file)]
    runs, clouds = evidence([loaded.guideline, *previous])
    if request.path.endswith(".xlsx"):
        data = _scoring_errors(
            lambda: scoring.board_bytes(
                text, loaded.guideline, previous=previous, runs=runs, program=target, source=name
            )
        )
        return Response(
            data,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename=board-{loaded.guideline.id}.xlsx"},
        )
    view = _scoring_errors(
        lambda: scoring.board_view(text, loaded.guideline, previous=previous, runs=runs, target=target, source=name)
    )
    scores = view["scores"]
    return jsonify(
        {
            "guideline": loaded.guideline.id,
            "guideline_file": loaded.file,
            "worksheet": name,
            "target": target,
            "cutoff": loaded.guideline.cutoff,
            "previous": [g.id for g in previous],
            "clouds": clouds,
            "must_pass": [s["capability"] for s in scores if s.get("star")],
            "scores": scores,
            "disagreements": view["disagreements"],
        }
    )


for _suffix, _endpoint in (("", "board"), (".csv", "board_csv"), (".xlsx", "board_xlsx")):
    bp.add_url_rule(
        f"/scoring/board{_suffix}", view_func=_board, endpoint=_endpoint, methods=["GET", "POST"], strict_slashes=False
    )


@bp.get("/scoring/worksheets", strict_slashes=False)
def list_worksheets() -> Response:
    """``GET /v1/scoring/worksheets``: the imported worksheet names."""
    return jsonify(catalog.list_worksheets(session()))


def openapi_paths(
    op: Callable[..., dict[str, Any]],
    query: Callable[..., dict[str, Any]],
    json_response: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """The scoring operations for the OpenAPI document."""
    item = {"type": "object"}
    rates = [query("guideline"), query("target"), query("threshold", {"type": "number"}), query("signed_only")]
    board = [query("guideline"), query("target"), query("worksheet")]
    text = {"required": False, "content": {"text/plain": {"schema": {"type": "string"}}}}
    csv_response = {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}}
    xlsx = {
        "description": "workbook",
        "content": {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string"}}
        },
    }
    paths: dict[str, Any] = {
        "/v1/scoring/pass-rates": {
            "get": op("Pass rates per capability across clouds", {"200": json_response(item)}, parameters=rates)
        },
        "/v1/scoring/pass-rates.csv": {"get": op("Pass rates as CSV", {"200": csv_response}, parameters=rates)},
        "/v1/scoring/worksheets": {"get": op("Imported worksheets", {"200": json_response({"type": "array"})})},
    }
    for suffix, response in (("", json_response(item)), (".csv", csv_response), (".xlsx", xlsx)):
        paths[f"/v1/scoring/board{suffix}"] = {
            "get": op(
                "Scores, must-pass set and disagreements of a stored worksheet", {"200": response}, parameters=board
            ),
            "post": op(
                "The same for a worksheet sent as the text body", {"200": response}, parameters=board, body=text
            ),
        }
    return paths


__all__ = ["bp", "evidence", "load_engine", "openapi_paths"]
