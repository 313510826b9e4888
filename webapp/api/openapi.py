"""The OpenAPI 3.0 description of the API, served at ``/v1/openapi.json``.

Written by hand from the routes, so schemathesis can fuzz every operation (the tests
allow no 5xx answer).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from webapp.api.schemas import EXTENDED_RUN_SCHEMA, PUBKEY_SCHEMA, UPLOAD_SCHEMA

bp = Blueprint("openapi", __name__)

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
_META_KEY = {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "any text of 1 to 255 characters: a repeat with the same key and body returns the first run",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_SIGNATURE = [
    {"name": "X-Signature", "in": "header", "required": False, "schema": {"type": "string"}},
    {"name": "X-Public-Key", "in": "header", "required": False, "schema": {"type": "string"}},
]


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or {"type": "string"}}


def _op(
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters or [],
        "responses": {**responses, "default": _ERROR},
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _strip_draft(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "$schema"}


def build_document() -> dict[str, Any]:
    """The OpenAPI document (paths relative to the server root)."""
    item = {"type": "object"}
    text = {"description": "text", "content": {"text/plain": {"schema": {"type": "string"}}}}
    raw_text = {"required": False, "content": {"text/plain": {"schema": {"type": "string"}}}}
    paths: dict[str, Any] = {
        "/v1/results": {
            "get": _op(
                "List public runs (or the caller's own with signed)",
                {"200": _json(item)},
                parameters=[
                    _query("page", {"type": "integer"}),
                    _query("start_date"),
                    _query("end_date"),
                    _query("cpid"),
                    _query("signed"),
                    _query("verification_status", {"type": "integer", "enum": [0, 1]}),
                ],
            ),
            "post": _op(
                "Upload a RefStack v1 document",
                {"201": _json(item, "created")},
                parameters=[*_SIGNATURE, _IDEMPOTENCY],
                body={"required": True, "content": {"application/json": {"schema": _strip_draft(UPLOAD_SCHEMA)}}},
            ),
        },
        "/v1/results/schema": {"get": _op("The upload JSON Schema", {"200": _json(item)})},
        "/v1/results/{run_id}": {
            "get": _op("One run with its passed test names", {"200": _json(item)}, parameters=[_RUN_ID]),
            "put": _op(
                "Set verification_status (Foundation)",
                {"201": _json(item)},
                parameters=[_RUN_ID],
                body={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "verification_status": {"type": "integer", "enum": [0, 1]},
                                    "product_version_id": {"type": "string", "nullable": True},
                                },
                            }
                        }
                    },
                },
            ),
            "delete": _op("Delete a run", {"204": {"description": "deleted"}}, parameters=[_RUN_ID]),
        },
        "/v1/results/{run_id}/meta": {"get": _op("A run's meta keys", {"200": _json(item)}, parameters=[_RUN_ID])},
        "/v1/results/{run_id}/meta/{key}": {
            "get": _op("One meta value", {"200": _json({"type": "string"})}, parameters=[_RUN_ID, _META_KEY]),
            "post": _op(
                "Set a meta value (raw text body)",
                {"201": {"description": "set"}},
                parameters=[_RUN_ID, _META_KEY],
                body=raw_text,
            ),
            "delete": _op("Delete a meta key", {"204": {"description": "deleted"}}, parameters=[_RUN_ID, _META_KEY]),
        },
        "/v1/results/{run_id}/compliance": {
            "get": _op(
                "Compliance of a run with a guideline and target",
                {"200": _json(item)},
                parameters=[_RUN_ID, _query("guideline"), _query("target")],
            ),
        },
        "/v1/guidelines": {"get": _op("Guideline files by family", {"200": _json(item)})},
        "/v1/guidelines/{file_name}": {
            "get": _op(
                "A guideline file",
                {"200": _json(item)},
                parameters=[{"name": "file_name", "in": "path", "required": True, "schema": {"type": "string"}}],
            ),
        },
        "/v1/guidelines/{version}/tests": {
            "get": _op(
                "RefStack's plain-text test list",
                {"200": text},
                parameters=[
                    {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}},
                    _query("target"),
                    _query("type"),
                    _query("alias"),
                    _query("flag"),
                ],
            ),
        },
        "/v1/profile": {"get": _op("The caller's account", {"200": _json(item)})},
        "/v1/profile/pubkeys": {
            "get": _op("The caller's public keys", {"200": _json({"type": "array", "items": item})}),
            "post": _op(
                "Register a public key",
                {"201": _json(item)},
                body={"required": True, "content": {"application/json": {"schema": PUBKEY_SCHEMA}}},
            ),
        },
        "/v1/profile/pubkeys/{key_id}": {
            "delete": _op(
                "Remove a public key",
                {"204": {"description": "deleted"}},
                parameters=[{"name": "key_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            ),
        },
        "/v1/openapi.json": {"get": _op("This document", {"200": _json(item)})},
        "/v2/runs": {
            "post": _op(
                "Upload a signed extended run document",
                {"201": _json(item)},
                parameters=[*_SIGNATURE, _IDEMPOTENCY, _query("test_id")],
                body={"required": True, "content": {"application/json": {"schema": EXTENDED_RUN_SCHEMA}}},
            ),
        },
        "/v2/runs/{run_id}": {
            "get": _op("A run's extended document (owner, Foundation)", {"200": _json(item)}, parameters=[_RUN_ID])
        },
    }
    from webapp.api.registry import openapi_paths as registry_paths
    from webapp.api.scoring import openapi_paths

    paths.update(openapi_paths(_op, _query, _json))
    paths.update(registry_paths(_op, _query, _json))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "tcup collector service",
            "version": "1",
            "description": "RefStack v1 compatible API plus tcup's extended runs and scoring evidence.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["code", "title", "detail", "errors"],
                    "properties": {
                        "code": {"type": "integer"},
                        "title": {"type": "string"},
                        "detail": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "string"}},
                    },
                }
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json", strict_slashes=False)
def show_openapi() -> Response:
    """``GET /v1/openapi.json``."""
    return jsonify(build_document())


__all__ = ["bp", "build_document"]
