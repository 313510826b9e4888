"""The one assertion every error answer must pass (the datasette habit)."""

from __future__ import annotations

from typing import Any


def assert_error(response: Any, status: int, title: str | None = None) -> dict[str, Any]:
    """The response is the JSON envelope {code, title, detail, errors} with ``status``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert set(body) == {"code", "title", "detail", "errors"}, body
    assert body["code"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], list) and body["errors"] and all(isinstance(e, str) for e in body["errors"])
    if title is not None:
        assert body["title"] == title, body
    return body  # type: ignore[no-any-return]
