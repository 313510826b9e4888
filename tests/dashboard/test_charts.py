"""The SVG charts and the page models, without a server: escaping, geometry, diff kinds."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from markupsafe import Markup

from tests.dashboard.world import load
from webapp.dashboard import charts
from webapp.dashboard.diff import diff_guidelines
from webapp.dashboard.models import TestRow, capability_state

EVIL = '<script>alert("x")</script>&"'
SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: Markup) -> ET.Element:
    """The chart parses as XML (so every text was escaped) and is an accessible image."""
    root = ET.fromstring(str(svg))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img" and root.get("aria-label")
    assert "<script" not in str(svg) and "style=" not in str(svg)
    return root


def test_summary_bar_splits_by_state() -> None:
    root = parse(charts.summary_bar([("passed", 3), ("failed", 1), ("missing", 0)], label=EVIL))
    rects = root.findall(f"{SVG}rect")
    assert [r.get("class") for r in rects] == ["s-passed", "s-failed"]
    assert [float(r.get("width") or 0) for r in rects] == [750.0, 250.0]
    assert parse(charts.summary_bar([], label="empty")).find(f"{SVG}rect") is not None


def test_run_history_links_each_run_and_marks_the_target() -> None:
    columns = [
        charts.Column(label=f"2020-0{i}-01", value=v, good=v == 10, href=f"/results/{i}?a=1&b={EVIL}")
        for i, v in enumerate((4, 10, 7), start=1)
    ]
    root = parse(charts.run_history(columns, maximum=10, label=EVIL))
    links = root.findall(f"{SVG}a")
    assert [a.get("href") for a in links][0] == f"/results/1?a=1&b={EVIL}"
    bars = [a.find(f"{SVG}rect") for a in links]
    heights = [float(b.get("height") or 0) for b in bars if b is not None]
    assert heights[1] > heights[2] > heights[0]
    assert [b.get("class") for b in bars if b is not None] == ["col-bad", "col-good", "col-bad"]
    assert root.find(f"{SVG}line[@class='target']") is not None


def test_heatmap_marks_cells_rows_and_the_cutoff() -> None:
    rows = [
        charts.HeatRow(
            name=EVIL,
            marks=("1", "0", "?", "*"),
            total=74,
            star=True,
            must_pass=True,
            vetoed=False,
            incomplete=False,
            note="required",
        ),
        charts.HeatRow(
            name="vetoed-one",
            marks=("1", "1", "1", "1"),
            total=0,
            star=False,
            must_pass=False,
            vetoed=True,
            incomplete=False,
        ),
        charts.HeatRow(
            name="unfinished",
            marks=("1", "?", "1", "1"),
            total=-30,
            star=False,
            must_pass=False,
            vetoed=False,
            incomplete=True,
        ),
    ]
    svg = charts.heatmap(rows, ["A", "B", "C", EVIL], cutoff=74, label="marks")
    root = parse(svg)
    groups = root.findall(f"{SVG}g")
    assert [g.get("class") for g in groups] == ["hrow must-pass", "hrow vetoed", "hrow incomplete"]
    cells = [r.get("class") for r in groups[0].findall(f"{SVG}rect") if (r.get("class") or "").startswith("m ")]
    assert cells == ["m m1", "m m0", "m mq", "m mx"]
    assert "vetoed" in "".join(groups[1].itertext()) and "30 incomplete" in "".join(groups[2].itertext())
    cutoff = root.find(f"{SVG}line[@class='cutoff']")
    assert cutoff is not None and "cutoff 74" in "".join(root.itertext())


def test_rate_bars_show_missing_data_and_the_threshold() -> None:
    bars = [
        charts.Bar(name="a", value=0.75, note="3 of 4 clouds", highlight=True),
        charts.Bar(name="b", value=None, note="0 of 4 clouds"),
    ]
    root = parse(charts.rate_bars(bars, threshold=0.5, label="rates"))
    text = "".join(root.itertext())
    assert "75% 3 of 4 clouds" in text and "no data" in text and "threshold 50%" in text
    assert len(root.findall(f".//{SVG}rect[@class='rate-good']")) == 1


def test_capability_state_order() -> None:
    def row(state: str) -> TestRow:
        return TestRow(name="t", idempotent_id=None, state=state, flag_reason=None, matched_as=None, reason=None)

    assert capability_state([row("passed"), row("flagged")], True) == "flagged"
    assert capability_state([row("missing"), row("failed")], True) == "failed"
    assert capability_state([row("passed"), row("missing")], True) == "missing"
    assert capability_state([], True) == "passed"
    assert capability_state([], False) == "undefined"


def test_diff_of_real_guidelines(interop_dir: Path) -> None:
    old, new = load(interop_dir, "2018.02.json"), load(interop_dir, "2020.06.json")
    rows = {r.capability: r for r in diff_guidelines(old, new, "platform")}
    assert rows["identity-v3-catalog"].change == "promoted"
    assert (rows["identity-v3-catalog"].old, rows["identity-v3-catalog"].new) == ("advisory", "required")
    assert rows["compute-servers-create-multiple"].change == "added"
    assert rows["volumes-v2-clone"].change == "removed"
    assert rows["volumes-v2-attach-detach"].change == "dropped"
    changed = [r for r in rows.values() if r.change == "tests changed"]
    assert changed and all(r.tests_added or r.tests_removed or r.flags_added for r in changed)
    draft = {r.capability: r.change for r in diff_guidelines(new, load(interop_dir, "next.json"), "platform")}
    assert draft["identity-v3-tokens-delete"] == "demoted"  # required in 2020.06, advisory in next.json
    assert not any(re.match(r"^compute-", name) and kind == "removed" for name, kind in draft.items())
