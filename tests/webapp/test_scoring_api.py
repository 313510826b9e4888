"""/v1/scoring: pass rates from each cloud's latest public run; worksheet scores, must-pass set, board."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import update

from interop_model import CaseResult, Guideline, RunReport, load_guideline_text
from scoring import api as scoring
from tests.webapp.conftest import Parties, import_into
from tests.webapp.envelope import assert_error
from tests.webapp.signing import sign, v1_body
from webapp.sessions import database
from webapp.store.tables import Run


@pytest.fixture
def loaded(app: Flask, guideline_dir: Path, interop_dir: Path) -> Flask:
    import_into(app, guideline_dir)
    worksheets = guideline_dir / "working_materials"
    worksheets.mkdir(exist_ok=True)
    for name in ("scoring.txt", "scoring_dns.txt"):
        if not (worksheets / name).exists():
            (worksheets / name).symlink_to(interop_dir / "working_materials" / name)
    report = import_into(app, guideline_dir)
    assert {"scoring.txt", "scoring_dns.txt"} <= set(report.imported)
    return app


@pytest.fixture
def guideline(guideline_dir: Path) -> Guideline:
    return load_guideline_text((guideline_dir / "2020.06.json").read_bytes(), source="2020.06.json")


def entries_of(guideline: Guideline, capability: str) -> list[tuple[str, str | None]]:
    return [(e.name, str(e.uuid) if e.uuid else None) for e in guideline.capabilities[capability].tests]


def upload(
    app: Flask, pairs: list[tuple[str, str | None]], cpid: str, minutes: int, headers: dict[str, str] | None = None
) -> str:
    body = v1_body(pairs, cpid=cpid)
    run_id = app.test_client().post("/v1/results", data=body, headers=headers or {}).get_json()["test_id"]
    with database(app).sessions() as sess:
        sess.execute(
            update(Run).where(Run.id == run_id).values(created_at=datetime(2020, 1, 1) + timedelta(minutes=minutes))
        )
        sess.commit()
    return str(run_id)


def test_pass_rates_count_each_clouds_latest_public_run(loaded: Flask, guideline: Guideline, parties: Parties) -> None:
    images = entries_of(guideline, "images-v2-list")
    tokens = entries_of(guideline, "identity-v3-tokens-create")
    upload(loaded, images + tokens, "cloud-a", 1)  # older: superseded
    upload(loaded, images, "cloud-a", 2)
    upload(loaded, images + tokens, "cloud-b", 3)
    assert parties.owner.key is not None  # a private run never counts, a shared one does
    upload(loaded, images + tokens, "cloud-c", 4, sign(v1_body(images + tokens, cpid="cloud-c"), parties.owner.key))
    shared = upload(loaded, images, "cloud-d", 5, sign(v1_body(images, cpid="cloud-d"), parties.owner.key))
    loaded.test_client().post(f"/v1/results/{shared}/meta/shared", data="true", headers=parties.owner.headers)

    body = loaded.test_client().get("/v1/scoring/pass-rates?guideline=2020.06&target=platform").get_json()
    assert body["clouds"] == 3 and body["target"] == "platform"
    rates = {r["capability"]: r for r in body["capabilities"]}
    assert rates["images-v2-list"]["clouds_passing"] == 3 and rates["images-v2-list"]["pass_rate"] == 1.0
    assert rates["identity-v3-tokens-create"]["clouds_passing"] == 1

    def report(pairs: list[tuple[str, str | None]], cpid: str) -> RunReport:
        from uuid import UUID

        return RunReport(
            cpid=cpid,
            duration_seconds=60,
            results=tuple(CaseResult(test_id=n, idempotent_id=UUID(u) if u else None) for n, u in dict(pairs).items()),
        )

    expected = scoring.pass_rates(
        [report(images, "cloud-a"), report(images + tokens, "cloud-b"), report(images, "cloud-d")],
        guideline,
        "platform",
    )
    assert body["capabilities"] == expected
    assert "cloud-" not in loaded.test_client().get("/v1/scoring/pass-rates").get_data(as_text=True)
    csv_text = loaded.test_client().get("/v1/scoring/pass-rates.csv?guideline=2020.06").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("capability,") and len(csv_text.splitlines()) == len(expected) + 1
    signed = loaded.test_client().get("/v1/scoring/pass-rates?signed_only=1").get_json()
    assert signed["clouds"] == 1


def test_board_scores_and_must_pass(loaded: Flask, interop_dir: Path) -> None:
    client = loaded.test_client()
    body = client.get("/v1/scoring/board?guideline=next").get_json()
    assert body["worksheet"] == "scoring.txt" and body["previous"] == ["2020.06", "2019.11"]
    assert len(body["scores"]) == 140
    assert "network-floating-ips-create" in body["must_pass"] and "compute-images-create" not in body["must_pass"]
    text = (interop_dir / "working_materials" / "scoring.txt").read_text()
    next_guideline = load_guideline_text((interop_dir / "next.json").read_bytes(), source="next.json")
    assert body["scores"] == scoring.tabulate(text, next_guideline, source="scoring.txt")
    assert body["disagreements"]
    csv_text = client.get("/v1/scoring/board.csv?guideline=next").get_data(as_text=True)
    stored = (interop_dir / "working_materials" / "tabulated_scores.csv").read_text()
    assert csv_text.splitlines() == stored.splitlines()
    response = client.get("/v1/scoring/board.xlsx?guideline=next")
    assert response.status_code == 200 and response.get_data()[:2] == b"PK"
    assert "Scores" in load_workbook(io.BytesIO(response.get_data())).sheetnames


def test_board_of_a_posted_worksheet_and_errors(loaded: Flask) -> None:
    client = loaded.test_client()
    sheet = "Title\n\ncompute-images-create:           [0,1,1] [0,1,1] [1,1,1] [0,1,1] [1] [72]\n"
    body = client.post("/v1/scoring/board?guideline=next", data=sheet).get_json()
    assert [s["capability"] for s in body["scores"]] == ["compute-images-create"] and body["must_pass"] == []
    assert_error(client.post("/v1/scoring/board?guideline=next", data="x: [1,1] [oops] [1] [2]\n"), 400)
    assert_error(client.get("/v1/scoring/board?guideline=next&worksheet=nope.txt"), 404)
    assert_error(client.post("/v1/scoring/board.xlsx?guideline=next", data="x\x01y\n"), 400)
    assert_error(client.get("/v1/scoring/board?guideline=1999.01"), 404)
    assert_error(client.get("/v1/scoring/pass-rates?target=moon"), 400)
    assert_error(client.get("/v1/scoring/pass-rates?threshold=2"), 400)
    dns = client.get("/v1/scoring/board?guideline=2020.06&target=dns").get_json()
    assert dns["worksheet"] == "scoring_dns.txt" and dns["guideline_file"] == "dns.2020.06.json"
    assert client.get("/v1/scoring/worksheets").get_json() == ["scoring.txt", "scoring_dns.txt"]


def test_evidence_columns_are_the_evidence_reports(loaded: Flask, guideline: Guideline, parties: Parties) -> None:
    from webapp.store import catalog
    from webapp.store import runs as store

    images = entries_of(guideline, "images-v2-list")
    tokens = entries_of(guideline, "identity-v3-tokens-create")
    renamed = [(f"{name}.renamed", uuid) for name, uuid in tokens if uuid]  # listed by idempotent id only
    unlisted = [(f"tempest.api.extra.test_{i}", None) for i in range(30)]
    upload(loaded, images + tokens, "cloud-a", 1)  # superseded by the next
    upload(loaded, images + unlisted, "cloud-a", 2)
    upload(loaded, renamed + unlisted[:5], "cloud-b", 3)
    upload(loaded, images + tokens + unlisted, "cloud-c", 4)
    assert parties.owner.key is not None  # private: never evidence
    upload(loaded, images, "cloud-d", 5, sign(v1_body(images, cpid="cloud-d"), parties.owner.key))
    with database(loaded).sessions() as sess:
        later = catalog.load_guideline(sess, "next.json")
        assert later is not None
        guidelines = [later.guideline, guideline]
        columns = store.evidence_columns(sess, guidelines)
        reports = store.evidence_reports(sess, guidelines)
    assert columns.cpids == [r.cpid for r in reports] == ["cloud-a", "cloud-b", "cloud-c"]
    from_columns = scoring.runs_from_cases(columns.cpids, columns.run_of, columns.case_of, columns.names, columns.uuids)
    assert len(columns.case_of) == sum(len(r.results) for r in reports) > 0
    assert not any(name.startswith("tempest.api.extra.") for name in columns.names)
    for listed in guidelines:
        rates = scoring.pass_rates(from_columns, listed, "platform")
        assert rates == scoring.pass_rates(reports, listed, "platform")
    passing = {r["capability"]: r["clouds_passing"] for r in scoring.pass_rates(from_columns, guideline, "platform")}
    assert passing["images-v2-list"] == 2 and passing["identity-v3-tokens-create"] == 2  # cloud-b by id
