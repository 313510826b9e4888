"""A run's page and ``GET /v1/results/<id>/compliance`` give both verdicts: tcup's (the shared
exemptions honoured, for the capabilities the run selected) and RefStack's, unchanged.

The stored run is the demo's: 2020.06, target platform, the object-storage capabilities selected,
Tempest 47.0.0, every test passed but the one Tempest 47 skips under static accounts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from interop_model import CaseResult, Guideline, Outcome, Provenance, RunReport, RunSelection, Status
from interop_model.wire import to_extended_document
from webapp import create_app
from webapp.sessions import database
from webapp.store import accounts, catalog, runs

MARKER = "tempest.api.object_storage.test_account_services.AccountTest.test_list_containers_with_marker"
SKIP_REASON = "Skipped because of bug#2147232."


@pytest.fixture(scope="module")
def app(interop_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("verdicts")
    folder = tmp / "guidelines"
    folder.mkdir()
    (folder / "2020.06.json").symlink_to(interop_dir / "2020.06.json")
    application = create_app({"DATABASE_URL": f"sqlite:///{tmp}/tcup.sqlite", "TESTING": True})
    with database(application).sessions() as sess:
        catalog.import_guidelines(sess, folder)
    yield application
    database(application).engine.dispose()


@pytest.fixture(scope="module")
def guideline(app: Flask) -> Guideline:
    with database(app).sessions() as sess:
        loaded = catalog.load_guideline(sess, "2020.06.json")
    assert loaded is not None
    return loaded.guideline


def object_caps(guideline: Guideline) -> list[str]:
    return [c for c in guideline.target_capabilities("platform", [Status.REQUIRED]) if c.startswith("objectstore-")]


def required_caps(guideline: Guideline) -> int:
    return sum(1 for s in guideline.target_statuses("platform").values() if s is Status.REQUIRED)


def demo_run(guideline: Guideline, *, tempest: str | None, marker: Outcome | None = Outcome.SKIP) -> RunReport:
    caps = object_caps(guideline)
    results = []
    for cap in caps:
        for entry in guideline.capabilities[cap].tests:
            if entry.name == MARKER:
                if marker is not None:
                    reason = SKIP_REASON if marker is Outcome.SKIP else "Traceback:\nAssertionError: 404 != 200"
                    results.append(
                        CaseResult(test_id=entry.name, idempotent_id=entry.uuid, outcome=marker, reason=reason)
                    )
            elif not entry.flagged:
                results.append(CaseResult(test_id=entry.name, idempotent_id=entry.uuid))
    return RunReport(
        cpid="demo-cloud",
        duration_seconds=60,
        results=tuple(results),
        provenance=Provenance(tempest_version=tempest, guideline="2020.06", target="platform"),
        selection=RunSelection(
            guideline="2020.06", target="platform", capability_globs=("objectstore-*",), capabilities=tuple(caps)
        ),
    )


def store_run(app: Flask, report: RunReport, *, extended: bool = True) -> tuple[str, str]:
    """A shared run of the owner (its id, and the owner's API token)."""
    body = json.dumps(to_extended_document(report)).encode() if extended else None
    with database(app).sessions() as sess:
        owner = accounts.account_by_openid(sess, "owner") or accounts.create_user(sess, openid="owner")
        token = accounts.issue_token(sess, owner.id)
        meta = {"shared": "true", "guideline": "2020.06.json", "target": "platform"}
        saved = runs.save_run(sess, report, runs.NewRun(owner_id=owner.id, meta=meta, extended_body=body))
    return saved.id, token


def page(app: Flask, run_id: str) -> str:
    response = app.test_client().get(f"/results/{run_id}")
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def api(app: Flask, run_id: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = app.test_client().get(f"/v1/results/{run_id}/compliance", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    return response.get_json()  # type: ignore[no-any-return]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_demo_run_is_yes_for_its_selection_and_refstack_says_no_and_why(app: Flask, guideline: Guideline) -> None:
    run_id, token = store_run(app, demo_run(guideline, tempest="47.0.0"))
    html = page(app, run_id)
    assert re.search(r'class="verdict yes" id="verdict"', html)
    assert "Selected capabilities: <strong>YES</strong>" in html
    assert "RefStack-compatible compliance: <strong>NO</strong>" in html
    unselected = required_caps(guideline) - len(object_caps(guideline))
    words = text_of(html)
    assert f"Whole target platform: NO ({unselected} required capabilities not selected by this run)" in words
    assert f"not met: 1 exempted test did not pass, {unselected} capabilities not selected" in words
    assert f"subset: {len(object_caps(guideline))} of " in words
    exemptions = html[html.index('id="exemptions"') :]
    assert MARKER in exemptions and "bug#2147232" in exemptions and "launchpad.net/tempest/+bug/2147232" in exemptions
    assert "tempest-non-admin, Tempest &gt;=47.0.0" in exemptions
    assert "1 exempted" in html  # the capability's row

    for answer in (api(app, run_id), api(app, run_id, token)):  # a viewer (passed tests only) and the owner
        assert answer["verdict"] == "NO" and answer["compliant"] is False  # RefStack's fields, unchanged
        assert answer["refstack_compliant"] is False and answer["tcup_compliant"] is True
        assert answer["verdicts"] == {"tcup": "YES", "refstack": "NO", "differ": True}
        assert answer["judged_capabilities"] == sorted(object_caps(guideline))
        assert answer["whole_target"]["capabilities_not_selected"] == unselected
        assert answer["whole_target"]["tcup_compliant"] is False
        assert answer["selection"]["selected"] == len(object_caps(guideline)) and answer["selection"]["of"] > unselected
        (exemption,) = answer["exemptions"]
        assert exemption["test"] == MARKER and exemption["kind"] == "tempest-non-admin"
        assert "bug#2147232" in exemption["reason"] and "launchpad" in exemption["source"]
        assert answer["exempted_tests"] == [
            {
                "capability": "objectstore-account-list",
                "name": MARKER,
                "outcome": "skip" if answer["evidence"] == "extended" else None,
                "exemption": MARKER,
            }
        ]
    assert api(app, run_id, token)["evidence"] == "extended"


def test_another_tempest_gets_no_exemption(app: Flask, guideline: Guideline) -> None:
    run_id, _ = store_run(app, demo_run(guideline, tempest="46.0.0"))
    html = page(app, run_id)
    assert "Selected capabilities: <strong>NO</strong>" in html and 'id="exemptions"' not in html
    answer = api(app, run_id)
    assert answer["tcup_compliant"] is False and answer["exemptions"] == [] and answer["verdict"] == "NO"


def test_an_exemption_never_hides_a_failure_even_from_a_viewer_of_passed_tests(
    app: Flask, guideline: Guideline
) -> None:
    run_id, token = store_run(app, demo_run(guideline, tempest="47.0.0", marker=Outcome.FAIL))
    html = page(app, run_id)
    assert "Selected capabilities: <strong>NO</strong>" in html and 'id="exemptions"' not in html
    assert "404 != 200" not in html  # no failure reason for a viewer
    for answer in (api(app, run_id), api(app, run_id, token)):
        assert answer["tcup_compliant"] is False and answer["exemptions"] == []


def test_a_v1_only_run_is_judged_as_before(app: Flask, guideline: Guideline) -> None:
    run_id, _ = store_run(app, demo_run(guideline, tempest="47.0.0"), extended=False)
    html = page(app, run_id)
    assert "RefStack-compatible compliance: <strong>NO</strong>" in html and 'class="verdict no"' in html
    assert "Selected capabilities" not in html and 'id="exemptions"' not in html and 'id="subset"' not in html
    answer = api(app, run_id)
    assert answer["verdict"] == "NO" and answer["tcup_compliant"] is False and answer["exemptions"] == []
    assert answer["judged_capabilities"] is None and answer["selection"] is None


def test_not_complete_lists_the_selected_capabilities_only(app: Flask, guideline: Guideline) -> None:
    run_id, _ = store_run(app, demo_run(guideline, tempest="47.0.0"))
    html = page(app, run_id)
    chips = html[html.index('id="not-complete"') :].split("</p>", 1)[0]
    assert "objectstore-account-list (missing, exempted)" in chips and "compute-" not in chips
    unselected = required_caps(guideline) - len(object_caps(guideline))
    assert f"{unselected} required capabilities not selected by this run" in html


def test_a_clouds_history_judges_runs_that_pass_the_same_tests_once_with_the_same_verdicts(
    app: Flask, guideline: Guideline
) -> None:
    from interop_model import evaluate
    from webapp.dashboard import models
    from webapp.store.accounts import ANONYMOUS
    from webapp.store.cache import Bounded

    passing = demo_run(guideline, tempest="47.0.0", marker=Outcome.SUCCESS)
    missing = demo_run(guideline, tempest="47.0.0", marker=None)
    ids = [store_run(app, r, extended=False)[0] for r in (passing, missing, passing, missing, passing)]
    with database(app).sessions() as sess:
        loaded = catalog.load_guideline(sess, "2020.06.json")
        assert loaded is not None
        records = [runs.get_run(sess, i) for i in ids]
        assert all(r is not None for r in records)
        cache = Bounded(100)
        points = models.cloud_history(sess, ANONYMOUS, records, loaded, "platform", cache=cache)  # type: ignore[arg-type]
        reports = runs.passed_reports(sess, records, [loaded.guideline])  # type: ignore[arg-type]
        for record, point in zip(records, points, strict=True):
            result = evaluate(loaded.guideline, "platform", reports[record.id][0])  # type: ignore[union-attr]
            required = [c for c in result.capabilities if c.status is Status.REQUIRED]
            assert (point.passed, point.required, point.compliant) == (
                sum(1 for c in required if c.complete),
                len(required),
                result.refstack_compliant,
            )
        assert points[0].passed == points[1].passed + 1  # the two kinds of run differ
        assert len(cache.items) == len(ids) + 2  # each run's verdict, and one per distinct set of passed tests


def test_a_clouds_page_gives_its_latest_runs_two_verdicts(app: Flask, guideline: Guideline) -> None:
    from dataclasses import replace

    store_run(app, replace(demo_run(guideline, tempest="47.0.0"), cpid="cloud-page-cloud"))
    response = app.test_client().get("/clouds/cloud-page-cloud?guideline=2020.06.json&target=platform")
    assert response.status_code == 200
    latest = text_of(response.get_data(as_text=True).split('id="latest-verdict"', 1)[1].split("</p>", 1)[0])
    selected = len(object_caps(guideline))
    assert latest.startswith(
        f">YES (tcup's verdict, on the {selected} capabilities the run selected, 1 exempted test; "
        "RefStack-compatible: NO )"
    ), latest

    store_run(app, replace(demo_run(guideline, tempest="47.0.0"), cpid="v1-cloud"), extended=False)
    page = app.test_client().get("/clouds/v1-cloud?guideline=2020.06.json&target=platform").get_data(as_text=True)
    assert 'id="latest-verdict">NO<' in page and 'id="latest-refstack"' not in page  # RefStack's alone, as before
