"""A run's page opens on what the run chose (its meta, else its recorded selection) and says when
the run selected only some of the target's capabilities."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from interop_model import CaseResult, Outcome, RunReport
from interop_model.wire import to_extended_document
from webapp import create_app
from webapp.sessions import database
from webapp.store import accounts, catalog, runs

TOKEN_TEST = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"


@pytest.fixture(scope="module")
def app(interop_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("selection")
    folder = tmp / "guidelines"
    folder.mkdir()
    for name in ("2020.06.json", "2019.11.json"):
        (folder / name).symlink_to(interop_dir / name)
    application = create_app({"DATABASE_URL": f"sqlite:///{tmp}/tcup.sqlite", "TESTING": True})
    with database(application).sessions() as sess:
        catalog.import_guidelines(sess, folder)
    yield application
    database(application).engine.dispose()


def store_run(app: Flask, selection: Any, meta: dict[str, str] | None = None) -> str:
    """A signed run of the owner with an extended document holding ``selection`` (as ``tcup run`` sends it)."""
    report = RunReport(
        cpid="selected-cloud",
        duration_seconds=5,
        results=(CaseResult(test_id=TOKEN_TEST, outcome=Outcome.SUCCESS),),
    )
    document = to_extended_document(report)
    if selection is not None:
        document["selection"] = selection
    with database(app).sessions() as sess:
        owner = accounts.account_by_openid(sess, "owner") or accounts.create_user(sess, openid="owner")
        saved = runs.save_run(
            sess,
            report,
            runs.NewRun(
                owner_id=owner.id, meta={"shared": "true", **(meta or {})}, extended_body=json.dumps(document).encode()
            ),
        )
    return saved.id


def page(app: Flask, run_id: str, query: str = "") -> str:
    response = app.test_client().get(f"/results/{run_id}{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def chosen(text: str, name: str) -> str:
    """The option selected in the page's ``<select name=...>``."""
    found = re.search(
        rf'<select name="{name}">.*?<option[^>]*value="([^"]+)"[^>]*selected|'
        rf'<select name="{name}">.*?<option selected>([^<]+)<',
        text,
        re.S,
    )
    assert found, name
    return found.group(1) or found.group(2)


SELECTION = {
    "guideline": "2019.11",
    "target": "object",
    "capability_globs": ["identity-*", "objectstore-container-create"],
    "capabilities": ["identity-v3-tokens-create", "identity-v3-tokens-delete", "objectstore-container-create"],
    "statuses": ["required"],
}


def test_the_page_opens_on_the_recorded_selection_and_says_subset(app: Flask) -> None:
    text = page(app, store_run(app, SELECTION))  # no meta guideline or target
    assert chosen(text, "guideline") == "2019.11.json" and chosen(text, "target") == "object"
    with database(app).sessions() as sess:
        loaded = catalog.load_guideline(sess, "2019.11.json")
    assert loaded is not None
    required = sum(1 for s in loaded.guideline.target_statuses("object").values() if s.value == "required")
    assert f"subset: 3 of {required} capabilities selected" in text
    assert "identity-* objectstore-container-create" in text


def test_meta_wins_over_the_selection_and_another_guideline_shows_no_subset(app: Flask) -> None:
    run_id = store_run(app, SELECTION, meta={"guideline": "2020.06", "target": "object"})
    text = page(app, run_id)
    assert chosen(text, "guideline") == "2020.06.json"
    assert "subset:" not in text  # the selection named 2019.11: not what is shown
    assert "subset: 3 of" in page(app, run_id, "?guideline=2019.11.json&target=object")
    assert "subset:" not in page(app, run_id, "?guideline=2019.11.json&target=platform")


def test_globs_alone_count_and_a_whole_target_says_nothing(app: Flask) -> None:
    globs = {**SELECTION, "capabilities": [], "capability_globs": ["identity-*"]}
    assert "subset: 2 of" in page(app, store_run(app, globs))
    everything = {**SELECTION, "capabilities": [], "capability_globs": []}
    assert "subset:" not in page(app, store_run(app, everything))
    assert "subset:" not in page(app, store_run(app, {**SELECTION, "capability_globs": ["*"], "capabilities": []}))


@pytest.mark.parametrize("selection", [None, "all", {"guideline": 3}, {**SELECTION, "capabilities": "x"}])
def test_no_or_unreadable_selection_is_no_note(app: Flask, selection: Any) -> None:
    text = page(app, store_run(app, selection))
    assert "subset:" not in text and chosen(text, "target") == "platform"
