"""The dashboard's pages through the Flask test client, on SQLite and PostgreSQL.

Each page is read as anonymous, another user, the owner and a Foundation admin; what the
API hides from a caller (failure reasons, cpids, private runs) must not reach their page.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.dashboard.conftest import Site
from tests.dashboard.world import (
    ALPHA,
    BETA,
    DNS_CPID,
    FAILED_CAP,
    MISSING_CAP,
    PRIVATE,
    PRIVILEGED_STATES,
    PUBLIC_STATES,
    SECRET,
    TEMPEST,
    XSS_CPID,
    XSS_META,
    XSS_NAMES,
)
from tests.webapp.signing import sign, v1_body
from webapp import create_app
from webapp.sessions import database

PARTIES = ("anonymous", "other", "owner", "foundation")
PRIVILEGED = ("owner", "foundation")


def get(site: Site, path: str, party: str = "anonymous", status: int = 200) -> str:
    """The page's text, after checking its status and the no-script policy."""
    response = site.app.test_client().get(path, headers=site.headers(party))
    text = response.get_data(as_text=True)
    assert response.status_code == status, (path, party, response.status_code, text[:800])
    if response.mimetype == "text/html":
        assert "script-src" not in response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    return text


def states(page: str) -> dict[str, str]:
    """Capability -> state, from the run page's table."""
    return dict(re.findall(r'<tr class="cap [^"]*" id="cap-([^"]+)" data-state="([a-z]+)"', page))


def listed_runs(page: str) -> set[str]:
    """Run ids linked from a results list."""
    return set(re.findall(r'class="run-link" href="/results/([0-9a-f-]{36})"', page))


def pages(site: Site) -> list[str]:
    runs = site.world.runs
    return [
        "/",
        "/results?signed=yes",
        f"/results?cpid={ALPHA}",
        "/guidelines",
        "/guidelines/2020.06.json",
        "/guidelines/diff",
        "/scoring",
        "/clouds",
        f"/clouds/{ALPHA}",
        f"/clouds/{BETA}",
        *(f"/results/{runs[name]}" for name in ("alpha_1", "alpha_2", "beta_2", "xss", "dns")),
    ]


def test_every_page_renders_for_everyone(site: Site) -> None:
    for party in PARTIES:
        for path in pages(site):
            assert "</html>" in get(site, path, party)


def test_templates_use_no_undefined_name(site: Site) -> None:
    import jinja2

    environment = site.app.jinja_env
    saved, environment.undefined = environment.undefined, jinja2.StrictUndefined
    environment.cache = None  # compile again, strictly
    private = f"/results/{site.world.runs['alpha_3']}"
    try:
        for party in PARTIES:
            for path, status in [
                *((p, 200) for p in pages(site)),
                ("/signin", 200),
                ("/scoring?worksheet=nope", 404),
                ("/results?start_date=x", 400),
                (private, 200 if party in PRIVILEGED else 401),
                ("/clouds/nowhere", 200),
                ("/guidelines/1999.01.json", 404),
            ]:
                # NOTE: an undefined name raises while rendering: the page would be a 500
                # (or the error page), so the status is what proves the template rendered.
                response = site.app.test_client().get(path, headers=site.headers(party))
                assert response.status_code == status, (path, party, response.get_data(as_text=True)[:800])
                assert "</html>" in response.get_data(as_text=True), (path, party)
    finally:
        environment.undefined = saved
        environment.cache = {}


def test_secrets_reach_only_owner_and_foundation(site: Site) -> None:
    private = site.world.runs["alpha_3"]
    for party in PARTIES:
        for path in pages(site):
            page = get(site, path, party)
            if party not in PRIVILEGED:
                assert SECRET not in page and PRIVATE not in page, (party, path)
                assert private not in page, (party, path)
                cpids = (ALPHA, XSS_CPID, DNS_CPID) if path != f"/clouds/{ALPHA}" else (XSS_CPID, DNS_CPID)
                assert not any(c in page for c in cpids if c not in path), (party, path)
                assert TEMPEST not in page, (party, path)


def test_run_page_marks_capabilities_by_state(site: Site) -> None:
    run = site.world.runs["alpha_2"]
    for party in PARTIES:
        page = get(site, f"/results/{run}", party)
        shown = states(page)
        assert len([s for s in shown.values()]) >= 78
        expected = PRIVILEGED_STATES if party in PRIVILEGED else PUBLIC_STATES
        assert {k: shown[k] for k in expected} == expected, party
        assert sum(1 for name in site.world.required if shown[name] in ("passed", "flagged")) == 76
        assert re.search(r'id="required-summary"><strong>76</strong> of\s+<strong>78</strong>', page), party
        assert "RefStack-compatible compliance: <strong>NO</strong>" in page
        # required capabilities come first
        order = re.findall(r'data-status="([a-z]+)"', page)
        assert order == sorted(order, key=["required", "advisory", "deprecated", "removed"].index)
        assert (SECRET in page) is (party in PRIVILEGED)
        assert (f"<dd>{TEMPEST}</dd>" in page) is (party in PRIVILEGED)
    compliant = get(site, f"/results/{site.world.runs['alpha_1']}")
    assert "RefStack-compatible compliance: <strong>YES</strong>" in compliant
    assert set(states(compliant)[n] for n in site.world.required) == {"passed"}


def test_run_page_numbers_are_the_apis(site: Site) -> None:
    """The summary comes from the same evaluate() and to_dict() as GET /v1/results/<id>/compliance."""
    run = site.world.runs["alpha_2"]
    for party in PARTIES:
        api = (
            site.app.test_client()
            .get(f"/v1/results/{run}/compliance?guideline=2020.06&target=platform", headers=site.headers(party))
            .get_json()
        )
        required = api["required"]
        page = get(site, f"/results/{run}?guideline=2020.06.json&target=platform", party)
        expected = (
            f"required tests passed {required['passed']} of {required['count']} ({required['percent']} %),\n"
            f"  {required['percent_non_flagged']} % of the non-flagged ones; {required['distinct_passed']} of "
            f"{required['distinct_tests']} distinct tests."
        )
        assert expected in page, party
        assert f"RefStack-compatible compliance: <strong>{api['verdict']}</strong>" in page
        complete = sum(c["complete"] for c in api["capabilities"] if c["status"] == "required")
        assert f'id="required-summary"><strong>{complete}</strong>' in page


def test_run_page_follows_the_chosen_guideline_and_target(site: Site) -> None:
    run = site.world.runs["alpha_2"]
    compute = states(get(site, f"/results/{run}?guideline=2020.06.json&target=compute"))
    assert FAILED_CAP in compute and MISSING_CAP in compute and "objectstore-container-create" not in compute
    dns = get(site, f"/results/{site.world.runs['dns']}")  # meta: 2020.06.json + dns -> the add-on file
    assert "dns.2020.06.json" in dns and "RefStack-compatible compliance: <strong>YES</strong>" in dns
    assert "2018.02.json has no target &#39;dns&#39;; showing platform" in get(
        site, f"/results/{run}?guideline=2018.02.json&target=dns"
    )


def test_the_foundation_sees_what_is_ready_to_verify(site: Site) -> None:
    runs = site.world.runs
    assert "Ready to verify" in get(site, f"/results/{runs['alpha_2']}", "foundation")
    assert 'id="verification">Verified.' in get(site, f"/results/{runs['alpha_1']}", "foundation")
    assert "meta shared, guideline, target not set" in get(site, f"/results/{runs['beta_1']}", "foundation")
    assert "Ready to verify" not in get(site, f"/results/{runs['alpha_2']}", "owner")
    waiting = get(site, "/results?signed=yes&verified=no", "foundation")
    assert listed_runs(waiting) == {runs["alpha_2"]} and 'id="awaiting"' in waiting


def test_private_run_needs_its_owner_or_the_foundation(site: Site) -> None:
    run = site.world.runs["alpha_3"]
    for party, status in (("anonymous", 401), ("other", 401), ("owner", 200), ("foundation", 200)):
        page = get(site, f"/results/{run}", party, status)
        assert (PRIVATE in page) is (status == 200)
    get(site, "/results/not-a-run", status=404)


def test_everything_users_send_is_escaped(site: Site) -> None:
    for party in PARTIES:
        page = get(site, f"/results/{site.world.runs['xss']}", party)
        for name in XSS_NAMES:
            assert name not in page
            assert str(__import__("markupsafe").escape(name)) in page
        assert "<script" not in page and "onerror=" not in page.replace("onerror=&#34;", "")
        assert XSS_META not in page
    listing = get(site, "/")
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;" in listing and "<script" not in listing


def test_downloads(site: Site) -> None:
    client = site.app.test_client()
    run = site.world.runs["alpha_2"]
    for party in PARTIES:
        response = client.get(f"/results/{run}/upload.json", headers=site.headers(party))
        assert response.status_code == (200 if party in PRIVILEGED else 403 if party != "anonymous" else 403)
    document = client.get(f"/results/{run}/upload.json", headers=site.headers("owner")).get_json()
    assert document["cpid"] == ALPHA and set(document) == {"cpid", "duration_seconds", "results"}
    api = client.get(f"/v1/results/{run}").get_json()
    assert sorted(r["name"] for r in document["results"]) == api["results"]
    passed = client.get(f"/results/{run}/passed.txt").get_data(as_text=True)
    assert passed.split("\n") == api["results"]
    extended = client.get(f"/results/{run}/extended.json", headers=site.headers("foundation"))
    assert extended.status_code == 200 and SECRET in extended.get_data(as_text=True)
    assert client.get(f"/results/{run}/extended.json", headers=site.headers("other")).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "target=platform&type=required",
        "target=object",
        "",
        "target=dns",
        "target=compute&type=required&alias=false&flag=false",
        "target=nowhere",
    ],
)
def test_test_list_download_is_the_text_endpoint(site: Site, query: str) -> None:
    client = site.app.test_client()
    mine = client.get(f"/guidelines/2020.06.json/tests.txt?{query}")
    api = client.get(f"/v1/guidelines/2020.06/tests?{query}", headers={"Accept": "text/plain"})
    assert mine.status_code == api.status_code
    if api.status_code == 200:
        assert mine.get_data() == api.get_data()
        assert mine.headers["Content-Disposition"].startswith("attachment")
    if query == "target=platform&type=required":
        assert len(mine.get_data(as_text=True).split("\n")) == 390


def test_results_filters_and_paging(site: Site) -> None:
    runs = site.world.runs

    def ids(query: str, party: str = "anonymous") -> set[str]:
        return listed_runs(get(site, f"/results?{query}", party))

    public = set(site.world.public_runs)
    assert ids("") == public
    assert ids("verified=yes") == {runs["alpha_1"]}
    assert ids("verified=no") == public - {runs["alpha_1"]}
    assert ids("signed=yes") == {runs["alpha_1"], runs["alpha_2"]}
    assert ids("signed=no") == {runs[n] for n in ("beta_1", "beta_2", "xss", "dns")}
    assert ids(f"cpid={BETA}") == {runs["beta_1"], runs["beta_2"]}
    assert ids("guideline=2020.06.json") == {runs[n] for n in ("alpha_1", "alpha_2", "xss", "dns")}
    assert ids("guideline=2020.06") == ids("guideline=2020.06.json")
    assert ids("target=dns") == {runs["dns"]}
    assert ids("start_date=2000-01-01&end_date=2999-12-31") == public
    assert ids("start_date=2999-01-01") == set()
    assert ids("mine=1", "owner") == {runs[n] for n in ("alpha_1", "alpha_2", "alpha_3")}
    assert ids("mine=1", "other") == set()
    assert "sign in to see your own runs" in get(site, "/results?mine=1", status=400)
    assert "must be a date" in get(site, "/results?start_date=yesterday", status=400)
    assert "after the end date" in get(site, "/results?start_date=2020-02-01&end_date=2020-01-01", status=400)
    site.app.config["RESULTS_PER_PAGE"] = 2
    try:
        seen = set()
        for page in (1, 2, 3):
            text = get(site, f"/results?page={page}")
            assert f"page {page} of 3" in text
            seen |= listed_runs(text)
        assert seen == public
        assert "page 3 of 3" in get(site, "/results?page=99")
        assert 'rel="next" href="/results?page=2&amp;signed=no"' in get(site, "/results?signed=no")
    finally:
        site.app.config["RESULTS_PER_PAGE"] = 20


def test_large_lists_count_up_to_a_limit(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from webapp.dashboard import models

    monkeypatch.setattr(models, "COUNT_LIMIT", 3)
    site.app.config["RESULTS_PER_PAGE"] = 4
    try:
        first = get(site, "/results")
        assert '<strong id="total-runs">3+</strong>' in first and "page 1." in first
        assert 'rel="next" href="/results?page=2"' in first
        second = get(site, "/results?page=2")
        assert len(listed_runs(second)) == len(site.world.public_runs) - 4 and 'rel="next"' not in second
        assert listed_runs(get(site, "/results?page=9")) == set()
    finally:
        site.app.config["RESULTS_PER_PAGE"] = 20


def test_guideline_pages(site: Site) -> None:
    listing = get(site, "/guidelines?family=powered&status=approved")
    assert "2020.06.json" in listing and "dns.2020.06.json" not in listing and "next.json" not in listing
    page = get(site, "/guidelines/2020.06.json?target=platform&status=required")
    assert "Required <small>78 capabilities</small>" in page and "Advisory <small>" not in page
    assert "D400 This test requires admin credentials." in page  # a flag's reason, verbatim
    assert "OpenStack Powered Platform" in page
    get(site, "/guidelines/1999.01.json", status=404)
    get(site, "/guidelines/2020.06.json?target=dns", status=404)


def test_guideline_diff(site: Site) -> None:
    default = get(site, "/guidelines/diff")  # the newest (next.json) against the one before
    assert 'id="count-removed">14 removed' in default and 'id="count-demoted">3 demoted' in default
    older = get(site, "/guidelines/diff?old=2018.02.json&new=2020.06.json&target=platform")
    for kind, count in (("added", 3), ("promoted", 5), ("removed", 14), ("dropped", 2), ("tests changed", 3)):
        kind = kind.replace(" ", "-") if kind == "tests changed" else kind
        assert f'id="count-{kind}">{count} {kind.replace("-", " ")}' in older
    assert re.search(r'data-change="promoted"><th scope="row" class="name">identity-v3-catalog', older)
    assert "No capability changed" in get(site, "/guidelines/diff?old=2019.11.json&new=2020.06.json")


def test_scoring_page_and_downloads(site: Site, interop_dir: Path) -> None:
    page = get(site, "/scoring")
    assert "<strong>140</strong> scored lines" in page
    assert "<strong>4</strong> clouds with public runs" in page
    row = re.search(r'<tr id="score-network-floating-ips-create"[^>]*>.*?</tr>', page, re.S)
    assert row and '<td class="num total">74*</td>' in row.group(0)
    below = re.search(
        r'<tr data-kind="required-below-cutoff"><th scope="row" class="name">compute-images-create</th>'
        r".*?<td class=\"num\">72</td>",
        page,
        re.S,
    )
    assert below, "compute-images-create (72, required) is a score-against-status disagreement"
    vetoed = re.search(r'<tr id="score-network-extensions-provider-[^"]*" class="[^"]*vetoed', page)
    assert vetoed
    client = site.app.test_client()
    csv = client.get("/scoring/scores.csv")
    assert csv.status_code == 200
    assert csv.get_data(as_text=True) == (interop_dir / "working_materials" / "tabulated_scores.csv").read_text()
    board = client.get("/scoring/board.xlsx")
    assert board.status_code == 200 and str(board.mimetype).endswith("spreadsheetml.sheet")
    assert "xl/workbook.xml" in zipfile.ZipFile(io.BytesIO(board.get_data())).namelist()


def test_scoring_page_follows_sharing_at_once_in_every_worker(site: Site, owner_key: rsa.RSAPrivateKey) -> None:
    """A run shared, unshared or deleted through one worker changes the scoring page of another
    worker at its next view (its board cache is keyed by the database's count of changes)."""
    other_worker = create_app(
        {
            "DATABASE_URL": site.app.config["DATABASE_URL"],
            "TESTING": True,
            "AUTO_MIGRATE": False,
            "SCORING_WORKSHEET": site.app.config["SCORING_WORKSHEET"],
        }
    )
    client, owner = site.app.test_client(), site.headers("owner")
    body = v1_body(["tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"], cpid="shared-briefly")
    run_id = client.post("/v1/results", data=body, headers=sign(body, owner_key)).get_json()["test_id"]

    def clouds() -> int:
        page = other_worker.test_client().get("/scoring").get_data(as_text=True)
        found = re.search(r"<strong>(\d+)</strong> clouds with public runs", page)
        assert found, page[:800]
        return int(found.group(1))

    try:
        assert clouds() == 4  # private: not evidence
        assert client.post(f"/v1/results/{run_id}/meta/shared", data="true", headers=owner).status_code == 201
        assert clouds() == 5
        assert client.delete(f"/v1/results/{run_id}/meta/shared", headers=owner).status_code == 204
        assert clouds() == 4, "an unshared run still counted"
        assert client.post(f"/v1/results/{run_id}/meta/shared", data="true", headers=owner).status_code == 201
        assert clouds() == 5
        assert client.delete(f"/v1/results/{run_id}", headers=owner).status_code == 204
        assert clouds() == 4, "a deleted run still counted"
    finally:
        client.delete(f"/v1/results/{run_id}", headers=owner)  # the other tests' world stays as it was
        database(other_worker).engine.dispose()


def test_scoring_reads_imported_worksheets_too(site: Site, interop_dir: Path) -> None:
    client = site.app.test_client()
    expected = (interop_dir / "working_materials" / "tabulated_scores.csv").read_text()
    assert client.get("/scoring/scores.csv?worksheet=scoring.txt").get_data(as_text=True) == expected
    saved = site.app.config.pop("SCORING_WORKSHEET")
    try:  # without the setting, the imported scoring.txt
        assert "<strong>140</strong> scored lines" in get(site, "/scoring")
        dns = get(site, "/scoring?worksheet=scoring_dns.txt&guideline=dns.2020.06.json")
        assert "(cutoff 60)" in dns and "scored with dns.2020.06.json" in dns
        assert "Worksheet nope.txt is not on this server" in get(site, "/scoring?worksheet=nope.txt", status=404)
        get(site, "/scoring/scores.csv?worksheet=nope.txt", status=404)
        assert "Guideline 1999.01.json is not on this server" in get(site, "/scoring?guideline=1999.01", status=404)
    finally:
        site.app.config["SCORING_WORKSHEET"] = saved


def test_cloud_pages_show_only_what_the_caller_may_see(site: Site) -> None:
    runs = site.world.runs
    for party, count in (("anonymous", 2), ("other", 2), ("owner", 3), ("foundation", 3)):
        page = get(site, f"/clouds/{ALPHA}", party)
        assert page.count('class="col-') == count, party
        assert (runs["alpha_3"] in page) is (party in PRIVILEGED)
        assert re.search(rf"\b{count} runs? visible to you", page)
    latest = get(site, f"/clouds/{ALPHA}", "anonymous")
    assert 'id="latest-verdict">NO<' in latest and FAILED_CAP in latest
    assert ALPHA not in get(site, "/clouds") and ALPHA in get(site, "/clouds", "owner")
    everything = get(site, "/clouds", "foundation")
    assert all(c in everything for c in (ALPHA, BETA, XSS_CPID, DNS_CPID))
    assert BETA not in get(site, "/clouds", "owner")
    assert "No run of this cloud is visible to you." in get(site, "/clouds/no-such-cloud")


def test_sign_in_with_a_token_and_out(site: Site) -> None:
    client = site.app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    assert "invalid" not in page
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    form = {"csrf_token": found.group(1)}
    bad = client.post("/signin", data={"token": "tcup_nope", **form})
    assert bad.status_code == 401 and "not valid" in bad.get_data(as_text=True)
    good = client.post("/signin", data={"token": site.world.tokens["owner"], **form})
    assert good.status_code == 302
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get(f"/results/{site.world.runs['alpha_3']}")
    assert page.status_code == 200 and PRIVATE in page.get_data(as_text=True)
    client.post("/signout", data=form)
    assert client.get(f"/results/{site.world.runs['alpha_3']}").status_code == 401
    # the cookie is for pages only: the API still wants a header
    client.post("/signin", data={"token": site.world.tokens["owner"], **form})
    assert client.get(f"/v1/results/{site.world.runs['alpha_3']}").status_code == 401


def test_placeholder_contract_still_holds(site: Site) -> None:
    """What the API's own tests expect of ``/``: public runs, linked, with escaped meta."""
    page = get(site, "/", "foundation")
    assert site.world.runs["alpha_1"] in page and site.world.runs["alpha_3"] not in page
