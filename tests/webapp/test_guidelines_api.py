"""/v1/guidelines: the listing, raw files and RefStack's plain-text test lists, line for line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from interop_model import load_guideline_text, parse_statuses
from tests.webapp.conftest import import_into
from tests.webapp.envelope import assert_error


@pytest.fixture
def loaded(sqlite_app: Flask, guideline_dir: Path) -> Flask:
    import_into(sqlite_app, guideline_dir)
    return sqlite_app


def test_listing(loaded: Flask) -> None:
    body = loaded.test_client().get("/v1/guidelines").get_json()
    assert body["powered"] == [
        {"name": n, "file": n} for n in ("2015.03.json", "2016.01.json", "2019.11.json", "2020.06.json", "next.json")
    ]
    assert body["dns"] == [{"name": "2020.06.json", "file": "dns.2020.06.json"}]
    assert body["orchestration"] == [{"name": "2020.06.json", "file": "orchestration.2020.06.json"}]


@pytest.mark.parametrize("name", ["2020.06.json", "2020.06", "dns.2020.06.json", "dns.2020.06"])
def test_raw_file(loaded: Flask, guideline_dir: Path, name: str) -> None:
    response = loaded.test_client().get(f"/api/v1/guidelines/{name}")
    file_name = name if name.endswith(".json") else name + ".json"
    source = guideline_dir / ("add-ons/" + file_name if file_name.startswith("dns") else file_name)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_data() == source.read_bytes()


# (query, lines, distinct lines) of RefStack's own test lists for 2020.06.json
COUNTS = [
    ("target=platform&type=required", 390, 388),
    ("target=platform&type=required&alias=false&flag=false", 275, 273),
    ("target=compute&type=required", 331, 331),
    ("target=compute&type=required&alias=false&flag=false", 217, 217),
    ("target=object&type=required", 61, 59),
    ("target=object&type=required&alias=false&flag=false", 60, 58),
]


@pytest.mark.parametrize(("query", "lines", "distinct"), COUNTS)
def test_text_list_counts(loaded: Flask, query: str, lines: int, distinct: int) -> None:
    response = loaded.test_client().get(f"/v1/guidelines/2020.06/tests?{query}")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert not text.endswith("\n")
    assert len(text.split("\n")) == lines and len(set(text.split("\n"))) == distinct


QUERIES = [
    "",
    "type=required",
    "type=advisory,deprecated",
    "type=removed",
    "alias=no",
    "flag=0",
    "alias=YES",
    "target=compute&type=required,advisory",
    "target=object&flag=false",
    "type=bogus",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("version", ["2020.06", "2016.01", "2015.03", "next"])
def test_text_list_is_the_models_list(loaded: Flask, guideline_dir: Path, version: str, query: str) -> None:
    params = dict(p.split("=") for p in query.split("&") if p)
    guideline = load_guideline_text((guideline_dir / f"{version}.json").read_bytes(), source=version)
    target = params.get("target", "platform")
    expected = guideline.test_list(
        target,
        statuses=parse_statuses(params.get("type")),
        alias=params.get("alias", "true").lower() in ("true", "yes", "1"),
        flagged=params.get("flag", "true").lower() in ("true", "yes", "1"),
    )
    response = loaded.test_client().get(f"/v1/guidelines/{version}.json/tests?{query}")
    assert response.get_data(as_text=True) == "\n".join(expected)


def test_add_on_list(loaded: Flask, guideline_dir: Path) -> None:
    client = loaded.test_client()
    text = client.get("/v1/guidelines/dns.2020.06/tests?target=dns&type=required").get_data(as_text=True)
    assert len(text.split("\n")) == 10
    # a bare date with an add-on target finds the add-on file, as meta guideline + target pair them
    assert client.get("/v1/guidelines/2020.06/tests?target=dns&type=required").get_data(as_text=True) == text


def test_text_list_errors(loaded: Flask) -> None:
    client = loaded.test_client()
    missing = client.get("/v1/guidelines/2031.01/tests")
    assert (
        missing.status_code == 404
        and missing.get_data(as_text=True) == "Error getting JSON content for version: 2031.01"
    )
    bad = client.get("/v1/guidelines/2020.06/tests?target=moon")
    assert bad.status_code == 400 and bad.get_data(as_text=True) == "Invalid target: moon"
    assert_error(
        client.get("/v1/guidelines/2020.06/tests?target=moon", headers={"Accept": "application/json"}),
        400,
        "Invalid target: moon",
    )
    assert_error(client.get("/v1/guidelines/2031.01.json"), 404)


def test_import_reports_skips_and_warnings(sqlite_app: Flask, interop_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text(json.dumps({"hello": 1}))
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "2015.next.json").symlink_to(interop_dir / "2015.next.json")
    (tmp_path / "2017.09.json").symlink_to(interop_dir / "2017.09.json")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "2017.09.json").symlink_to(interop_dir / "2017.09.json")
    report = import_into(sqlite_app, tmp_path)
    assert report.imported == ["2017.09.json"]
    reasons = dict(report.skipped)
    assert reasons["broken.json"].startswith("not valid JSON at line 1")
    assert "not a guideline" in reasons["notes.json"]
    assert "not named" in reasons["2015.next.json"]
    assert "same file name" in reasons["sub/2017.09.json"]
    assert report.warnings  # 2017.09 carries real data-quality problems
    again = import_into(sqlite_app, tmp_path)
    assert again.imported == [] and again.unchanged == ["2017.09.json"]
