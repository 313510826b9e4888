"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

The collector is served on loopback and filled over HTTP by real uploads
(:mod:`tests.dashboard.world`). Every test clicks through pages, fails on any console
error or uncaught exception (a Content-Security-Policy violation is one), and saves a
full-page screenshot of each page into the artifacts folder.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.dashboard.conftest import Site
from tests.dashboard.world import ALPHA, FAILED_CAP, FLAGGED_CAP, MISSING_CAP, SECRET, XSS_NAMES

pytestmark = pytest.mark.browser


class Tab:
    """One browser tab that records console errors and takes screenshots."""

    def __init__(self, context: Any, site: Site, shots: Path) -> None:
        self.page = context.new_page()
        self.site, self.shots = site, shots
        self.errors: list[str] = []
        self.allowed: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        self.page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def _dialog(self, dialog: Any) -> None:
        self.errors.append(f"dialog: {dialog.message}")  # alert() ran: an injected script executed
        dialog.dismiss()

    def open(self, path: str, shot: str, *, status: int = 200) -> Any:
        """Go to ``path``, check the status, save ``<shot>.png``."""
        response = self.page.goto(self.site.url + path)
        assert response is not None and response.status == status, (path, response and response.status)
        if status >= 400:  # Chromium logs the failed document load itself
            self.allowed.append(f"status of {status}")
        self.snap(shot)
        return self.page

    def snap(self, shot: str) -> None:
        """A full-page screenshot of what is on screen now (once the page has loaded)."""
        self.page.wait_for_load_state("load")
        self.page.screenshot(path=str(self.shots / f"{shot}.png"), full_page=True)

    def clean(self, *, scripting: bool = True) -> None:
        """No console error but the ones a 4xx page causes; no injected script ever ran."""
        unexpected = [e for e in self.errors if not any(a in e for a in self.allowed)]
        assert unexpected == [], unexpected
        if scripting:
            assert self.page.evaluate("typeof window.__xss") == "undefined"


@pytest.fixture(scope="module")
def contexts(browser: Any, live_site: Site) -> Iterator[dict[str, Any]]:
    """A browser context per party; the owner and the Foundation sign in through the form."""
    made = {}
    for party in ("anonymous", "owner", "foundation"):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        if party != "anonymous":
            page = context.new_page()
            page.goto(live_site.url + "/signin")
            page.fill("input[name=token]", live_site.world.tokens[party])
            page.click("form[aria-label='sign in'] button[type=submit]")
            page.wait_for_url(re.compile(r".*/results$"))
            assert f"{party}-user" in page.inner_text("header .who")
            page.close()
        made[party] = context
    yield made
    for context in made.values():
        context.close()


@pytest.fixture
def tab(request: pytest.FixtureRequest, contexts: dict[str, Any], live_site: Site, artifacts: Path) -> Iterator[Any]:
    """``tab("owner")`` opens a tab as that party; every tab is checked for console errors at the end."""
    opened: list[Tab] = []

    def make(party: str = "anonymous") -> Tab:
        opened.append(Tab(contexts[party], live_site, artifacts))
        return opened[-1]

    yield make
    for t in opened:
        t.clean()
        t.page.close()


def test_click_through_every_page(tab: Any, live_site: Site) -> None:
    t = tab()
    page = t.open("/", "01-results")
    assert int(page.inner_text("#total-runs")) == len(live_site.world.public_runs)
    page.click("nav[aria-label=main] >> text=Guidelines")
    t.snap("02-guidelines")
    page.click("#guidelines >> text=2020.06.json")
    assert "OpenStack Powered Platform" in page.inner_text("#program")
    page.click("#cap-networks-l3-CRUD summary")
    assert "D400" in page.inner_text("#cap-networks-l3-CRUD")
    t.snap("03-guideline-2020.06")
    page.click("nav[aria-label=main] >> text=Guidelines")
    page.click("text=what changed")
    assert page.inner_text("#count-removed") == "14 removed"
    t.snap("04-guideline-diff")
    page.select_option("select[name=old]", "2018.02.json")
    page.select_option("select[name=new]", "2020.06.json")
    page.click("form[aria-label='guidelines to compare'] button")
    assert page.inner_text("#count-promoted") == "5 promoted"
    t.snap("05-guideline-diff-2018.02-2020.06")
    page.click("nav[aria-label=main] >> text=Scoring")
    # NOTE: a click waits for the next page to start, not to finish: count once it has loaded
    page.wait_for_load_state("load")
    assert page.locator("#heatmap svg g.hrow").count() == 140
    t.snap("06-scoring")
    page.click("nav[aria-label=main] >> text=Clouds")
    t.snap("07-clouds")
    page.fill("input[name=cpid]", ALPHA)
    page.click("form[aria-label='open a cloud'] button")
    page.wait_for_load_state("load")
    assert page.locator("#history svg rect.col-good, #history svg rect.col-bad").count() == 2
    t.snap("08-cloud-anonymous")
    page.click("#cloud-runs a >> nth=0")
    assert page.inner_text("#verdict").count("NO") >= 1
    t.snap("09-run-anonymous")


def test_run_page_colours_each_capability(tab: Any, live_site: Site) -> None:
    run = live_site.world.runs["alpha_2"]
    for party, failed in (("anonymous", "missing"), ("owner", "failed"), ("foundation", "failed")):
        t = tab(party)
        page = t.open(f"/results/{run}", f"10-run-alpha-2-{party}")
        row = page.locator(f"#cap-{FAILED_CAP}")
        assert row.get_attribute("data-state") == failed
        assert page.locator(f"#cap-{MISSING_CAP}").get_attribute("data-state") == "missing"
        assert page.locator(f"#cap-{FLAGGED_CAP}").get_attribute("data-state") == "flagged"
        colour = row.locator("td:nth-child(3) .state").evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == ("rgb(253, 228, 226)" if failed == "failed" else "rgb(233, 237, 242)")
        passed = page.locator("#capabilities tr[data-state=passed]").first
        assert passed.locator("td:nth-child(3) .state").evaluate("e => getComputedStyle(e).color") == "rgb(46, 125, 50)"
        assert page.inner_text("#required-summary").startswith("76 of 78 required capabilities complete")
        row.locator("summary").click()
        assert (SECRET in page.inner_text(f"#cap-{FAILED_CAP}")) is (party != "anonymous")
        t.snap(f"11-run-alpha-2-{party}-open")


def test_private_run_is_a_401_page_for_others(tab: Any, live_site: Site) -> None:
    run = live_site.world.runs["alpha_3"]
    page = tab().open(f"/results/{run}", "12-private-run-anonymous", status=401)
    assert "private to its owner" in page.inner_text("main")
    tab("owner").open(f"/results/{run}", "13-private-run-owner")


def test_scripts_in_uploaded_names_never_run(tab: Any, live_site: Site) -> None:
    t = tab("foundation")
    page = t.open(f"/results/{live_site.world.runs['xss']}", "14-xss-run")
    page.click("details.extras summary")
    shown = page.inner_text("#extra-tests")
    for name in XSS_NAMES:
        assert name in shown  # shown as text, literally
    assert page.locator("#extra-tests img, #extra-tests script, #extra-tests svg").count() == 0
    assert "<b>bold</b><script>" in page.inner_text("main")  # the meta target, as text
    t.snap("15-xss-run-open")
    listing = t.open("/results?signed=no", "16-results-anonymous-runs")
    assert listing.locator("main b").count() == 0


def test_every_page_fits_a_360_px_screen(browser: Any, live_site: Site, artifacts: Path) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1)
    try:
        t = Tab(context, live_site, artifacts)
        runs = live_site.world.runs
        for shot, path in (
            ("results", "/results"),
            ("run", f"/results/{runs['alpha_2']}"),
            ("guidelines", "/guidelines"),
            ("guideline", "/guidelines/2020.06.json"),
            ("diff", "/guidelines/diff"),
            ("scoring", "/scoring"),
            ("clouds", "/clouds"),
            ("cloud", f"/clouds/{ALPHA}"),
            ("signin", "/signin"),
            ("xss", f"/results/{runs['xss']}"),
        ):
            page = t.open(path, f"360-{shot}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
        t.clean()
    finally:
        context.close()


def test_filters_work_without_javascript(browser: Any, live_site: Site, artifacts: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        t = Tab(context, live_site, artifacts)
        page = t.open("/results", "17-results-no-js")
        page.select_option("#f-verified", "yes")
        page.click("form[aria-label=filters] button[type=submit]")
        page.wait_for_load_state("load")
        assert page.inner_text("#total-runs") == "1"
        assert page.locator("a.run-link").count() == 1
        t.snap("18-results-verified")
        page.click("a.run-link")
        assert page.inner_text("#verdict").count("YES") >= 1
        t.clean(scripting=False)
    finally:
        context.close()


def test_downloads_match_the_api_and_the_worksheet(
    tab: Any, live_site: Site, interop_dir: Path, tmp_path: Path
) -> None:
    t = tab("owner")
    page = t.open("/guidelines/2020.06.json?target=platform", "19-guideline-downloads")
    with page.expect_download() as info:
        page.click("#tests-required")
    saved = tmp_path / "tests.txt"
    info.value.save_as(saved)
    api = requests.get(f"{live_site.url}/v1/guidelines/2020.06/tests?target=platform&type=required", timeout=30)
    assert saved.read_bytes() == api.content and len(api.text.split("\n")) == 390
    page = t.open("/scoring", "20-scoring-owner")
    with page.expect_download() as info:
        page.click("#scores-csv")
    info.value.save_as(tmp_path / "scores.csv")
    expected = (interop_dir / "working_materials" / "tabulated_scores.csv").read_text()
    assert (tmp_path / "scores.csv").read_text() == expected
    with page.expect_download() as info:
        page.click("#board-xlsx")
    info.value.save_as(tmp_path / "board.xlsx")
    assert (tmp_path / "board.xlsx").read_bytes()[:2] == b"PK"
    page = t.open(f"/results/{live_site.world.runs['alpha_2']}", "21-run-owner-downloads")
    with page.expect_download() as info:
        page.click("text=Upload document (RefStack v1 JSON)")
    info.value.save_as(tmp_path / "upload.json")
    assert ALPHA in (tmp_path / "upload.json").read_text()


def test_scoring_page_shows_the_board(tab: Any) -> None:
    t = tab("foundation")
    page = t.open("/scoring", "22-scoring-foundation")
    assert page.inner_text("#board-counts").startswith("140 scored lines")
    heat = page.locator("#heatmap svg")
    assert heat.locator("g.hrow.must-pass").count() > 0 and heat.locator("g.hrow.vetoed").count() == 4
    assert "cutoff 74" in (heat.text_content() or "")
    row = page.locator("#by-status tr[data-kind=required-below-cutoff]", has_text="compute-images-create")
    assert row.count() == 1 and "72" in row.inner_text()
    assert page.locator("#rates-chart svg g.brow").count() > 0
