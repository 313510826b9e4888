"""Server-side SVG charts for the dashboard: markup strings, no JavaScript, no front-end library.

Every chart is inline SVG built here and returned as :class:`markupsafe.Markup`, so a page
shows its charts with scripts disabled and needs nothing from a CDN. Every piece of text
that reaches the SVG (capability names, dates, cpids) goes through :func:`markupsafe.escape`.
Colours come from CSS classes (``webapp/static/dashboard.css``), never from ``style``
attributes, so the pages' Content-Security-Policy can forbid inline styles and scripts.

Each chart carries ``role="img"``, an ``aria-label`` and ``<title>`` tooltips; the pages
also show the same numbers in an HTML table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

STATES = ("passed", "flagged", "failed", "missing", "undefined")


def _svg(
    width: float, height: float, label: str, body: list[str], *, css: str, fluid: bool = False, stretch: bool = False
) -> Markup:
    """The ``<svg>`` element: fixed pixel size, or ``fluid`` (as wide as its box; ``stretch`` distorts)."""
    size = 'width="100%"' if fluid else f'width="{width:.0f}" height="{height:.0f}"'
    aspect = ' preserveAspectRatio="none"' if stretch else ""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'{size}{aspect} role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, text: object, *, cls: str = "", anchor: str = "start", extra: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{klass}{extra}>{escape(text)}</text>'


def summary_bar(parts: Sequence[tuple[str, int]], *, label: str) -> Markup:
    """A horizontal bar split by state: ``parts`` are (state, count) pairs, drawn in order.

    States are CSS classes (``s-passed``, ``s-failed``, ...); empty parts are left out.
    """
    total = sum(count for _, count in parts)
    body: list[str] = []
    x = 0.0
    for state, count in parts:
        if count <= 0:
            continue
        width = 1000.0 * count / total
        body.append(
            f'<rect class="s-{escape(state)}" x="{x:.2f}" y="0" width="{width:.2f}" height="24">'
            f"<title>{escape(state)}: {count}</title></rect>"
        )
        x += width
    if not body:
        body.append(
            '<rect class="s-undefined" x="0" y="0" width="1000" height="24"><title>nothing to show</title></rect>'
        )
    return _svg(1000, 24, label, body, css="summary-bar", fluid=True, stretch=True)


@dataclass(frozen=True, slots=True)
class Column:
    """One run in a history chart."""

    label: str  # the date, shown under the first and last columns and in the tooltip
    value: int  # required capabilities passed
    good: bool  # compliant
    href: str  # the run's page


def run_history(columns: Sequence[Column], *, maximum: int, label: str) -> Markup:
    """A column per run (oldest left), its height the required capabilities passed out of ``maximum``.

    Each column links to its run; a dashed line marks ``maximum`` (every required capability).
    """
    width, height, left, bottom, top = 640.0, 240.0, 44.0, 30.0, 14.0
    plot_w, plot_h = width - left - 10.0, height - bottom - top
    peak = max(maximum, max((c.value for c in columns), default=0), 1)
    body = [
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}"/>',
    ]
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * tick / peak
        body.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}"/>')
        body.append(_text(left - 6, y + 4, tick, cls="tick", anchor="end"))
    if maximum:
        y = top + plot_h - plot_h * maximum / peak
        body.append(f'<line class="target" x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}"/>')
    step = plot_w / max(len(columns), 1)
    bar = max(min(step * 0.7, 40.0), 1.5)
    for i, column in enumerate(columns):
        h = plot_h * column.value / peak
        x = left + step * i + (step - bar) / 2
        cls = "col-good" if column.good else "col-bad"
        tip = f"{column.label}: {column.value} of {maximum} required capabilities"
        body.append(
            f'<a href="{escape(column.href)}"><rect class="{cls}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{bar:.1f}" height="{max(h, 0.5):.1f}"><title>{escape(tip)}</title></rect></a>'
        )
        if len(columns) <= 24:  # room for the value above each column
            body.append(_text(x + bar / 2, top + plot_h - h - 3, column.value, cls="tick", anchor="middle"))
    if columns:
        body.append(_text(left, height - 8, columns[0].label, cls="tick"))
        if len(columns) > 1:
            body.append(_text(width - 10, height - 8, columns[-1].label, cls="tick", anchor="end"))
    return _svg(width, height, label, body, css="history", fluid=True)


@dataclass(frozen=True, slots=True)
class HeatRow:
    """One capability of the scoring heatmap."""

    name: str
    marks: tuple[str, ...]  # one mark per column, as written ("0", "1", "?", "*", "2".."5")
    total: float  # negative when incomplete, 0 when vetoed
    star: bool
    must_pass: bool  # required by the guideline
    vetoed: bool
    incomplete: bool
    note: str = ""  # the status or other words for the tooltip


def heatmap(
    rows: Sequence[HeatRow], columns: Sequence[str], *, cutoff: float, label: str, maximum: float = 100.0
) -> Markup:
    """Capabilities down, criteria across, each cell coloured by its mark; then the total as a bar.

    A vertical line marks the cutoff; must-pass rows get a marker and a bold name, vetoed
    and incomplete rows say so beside their bar.
    """
    name_w, cell, gap, head, row_h = 250.0, 16.0, 2.0, 128.0, 17.0
    grid_x = name_w + 14.0
    bar_x = grid_x + len(columns) * (cell + gap) + 10.0
    bar_w = 170.0
    width = bar_x + bar_w + 80.0
    height = head + row_h * len(rows) + 10.0
    body: list[str] = []
    for j, column in enumerate(columns):
        x = grid_x + j * (cell + gap) + cell / 2 + 4
        turn = f' transform="rotate(-60 {x:.1f} {head - 6:.1f})"'
        body.append(_text(x, head - 6, column, cls="col-label", extra=turn))
    body.append(_text(bar_x, head - 22, "total", cls="col-label"))
    scale = bar_w / max(maximum, 1.0)
    for i, row in enumerate(rows):
        y = head + i * row_h
        classes = " ".join(
            c for c, on in (("must-pass", row.must_pass), ("vetoed", row.vetoed), ("incomplete", row.incomplete)) if on
        )
        tip = f"{row.name}: {abs(row.total):g}{'*' if row.star else ''}" + (f" ({row.note})" if row.note else "")
        body.append(f'<g class="hrow {classes}"><title>{escape(tip)}</title>')
        if row.must_pass:
            body.append(f'<rect class="mp-marker" x="0" y="{y + 2:.1f}" width="6" height="{row_h - 4:.1f}"/>')
        body.append(_text(name_w + 8, y + row_h - 5, row.name, cls="row-label", anchor="end"))
        for j, mark in enumerate(row.marks):
            x = grid_x + j * (cell + gap)
            body.append(
                f'<rect class="m m{_mark_class(mark)}" x="{x:.1f}" y="{y + 1:.1f}" width="{cell}" '
                f'height="{row_h - 3:.1f}"><title>{escape(columns[j])}: {escape(mark)}</title></rect>'
            )
        length = abs(row.total) * scale
        kind = (
            "tot-veto"
            if row.vetoed
            else "tot-incomplete"
            if row.incomplete
            else "tot-star"
            if row.star
            else "tot-below"
        )
        body.append(
            f'<rect class="{kind}" x="{bar_x:.1f}" y="{y + 3:.1f}" width="{max(length, 0.5):.1f}" '
            f'height="{row_h - 7:.1f}"/>'
        )
        words = (
            "vetoed"
            if row.vetoed
            else f"{abs(row.total):g}{'*' if row.star else ''}" + (" incomplete" if row.incomplete else "")
        )
        body.append(_text(bar_x + max(length, 0.5) + 4, y + row_h - 5, words, cls="tot-label"))
        body.append("</g>")
    x = bar_x + cutoff * scale
    body.append(f'<line class="cutoff" x1="{x:.1f}" y1="{head - 14:.1f}" x2="{x:.1f}" y2="{height - 6:.1f}"/>')
    body.append(_text(x, head - 16, f"cutoff {cutoff:g}", cls="cutoff-label", anchor="middle"))
    return _svg(width, height, label, body, css="heatmap")


def _mark_class(mark: str) -> str:
    return {"?": "q", "*": "x"}.get(mark, mark if mark in ("0", "1", "2", "3", "4", "5") else "q")


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a horizontal bar chart of rates."""

    name: str
    value: float | None  # 0..1, None without data
    note: str  # shown after the bar, e.g. "3 of 4 clouds"
    highlight: bool = False  # required capability


def rate_bars(bars: Sequence[Bar], *, threshold: float, label: str) -> Markup:
    """One horizontal bar per capability (0 to 100 %), with a vertical line at ``threshold``."""
    name_w, bar_w, row_h, head = 250.0, 260.0, 16.0, 26.0
    left = name_w + 12.0
    width, height = left + bar_w + 120.0, head + row_h * len(bars) + 8.0
    body = [_text(left, 14, "0 %", cls="tick"), _text(left + bar_w, 14, "100 %", cls="tick", anchor="end")]
    for i, item in enumerate(bars):
        y = head + i * row_h
        cls = "row-label must-pass-label" if item.highlight else "row-label"
        body.append(
            f'<g class="brow"><title>{escape(item.name)}: {escape(_percent(item.value))} ({escape(item.note)})</title>'
        )
        body.append(_text(name_w + 6, y + row_h - 4, item.name, cls=cls, anchor="end"))
        box = f'x="{left:.1f}" y="{y + 3:.1f}" height="{row_h - 6:.1f}"'
        body.append(f'<rect class="track" {box} width="{bar_w:.1f}"/>')
        if item.value is not None:
            good = "rate-good" if item.value >= threshold else "rate-low"
            body.append(f'<rect class="{good}" {box} width="{max(bar_w * item.value, 0.5):.1f}"/>')
        body.append(_text(left + bar_w + 6, y + row_h - 4, f"{_percent(item.value)} {item.note}", cls="tot-label"))
        body.append("</g>")
    x = left + bar_w * threshold
    body.append(f'<line class="cutoff" x1="{x:.1f}" y1="18" x2="{x:.1f}" y2="{height - 4:.1f}"/>')
    body.append(_text(x, 14, f"threshold {threshold:.0%}", cls="cutoff-label", anchor="middle"))
    return _svg(width, height, label, body, css="rates")


def board_heatmap(
    records: Sequence[Mapping[str, Any]],
    statuses: Mapping[str, str],
    columns: Sequence[str],
    labels: Sequence[str],
    *,
    cutoff: float,
    guideline: str,
) -> Markup:
    """:func:`heatmap` of :func:`scoring.api.tabulate` records; ``statuses`` maps a capability to its
    status in ``guideline`` (a required one is must-pass)."""
    rows = [
        HeatRow(
            name=r["capability"],
            marks=tuple(str(r[c]) for c in columns),
            total=float(r["total"]),
            star=bool(r["star"]),
            must_pass=statuses.get(r["capability"]) == "required",
            vetoed=bool(r["vetoed"]),
            incomplete=bool(r["incomplete"]),
            note=f"{statuses[r['capability']]} in {guideline}"
            if r["capability"] in statuses
            else f"not in {guideline}",
        )
        for r in records
    ]
    return heatmap(rows, labels, cutoff=cutoff, label=f"worksheet marks and totals, scored with {guideline}")


def pass_rate_chart(records: Sequence[Mapping[str, Any]], statuses: Mapping[str, str], *, threshold: float) -> Markup:
    """:func:`rate_bars` of :func:`scoring.api.pass_rates` records, required capabilities highlighted."""
    bars = [
        Bar(
            name=r["capability"],
            value=r["pass_rate"],
            highlight=statuses.get(r["capability"]) == "required",
            note=f"{r['clouds_passing']} of {r['clouds']} clouds",
        )
        for r in records
    ]
    return rate_bars(bars, threshold=threshold, label="Widely Deployed: share of clouds whose latest run passes")


def _percent(value: float | None) -> str:
    return "no data" if value is None else f"{value:.0%}"


__all__ = [
    "STATES",
    "Bar",
    "Column",
    "HeatRow",
    "board_heatmap",
    "heatmap",
    "pass_rate_chart",
    "rate_bars",
    "run_history",
    "summary_bar",
]
