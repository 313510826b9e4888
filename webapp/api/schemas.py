"""JSON Schemas of the request documents (served by the API and embedded in OpenAPI)."""

from __future__ import annotations

from typing import Any

from interop_model.wire import EXTENDED_SCHEMA, MAX_CPID_LENGTH, MAX_NAME_LENGTH

UPLOAD_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "RefStack v1 upload document",
    "description": "Passed tests only. Every item is checked; unknown keys inside items are ignored, "
    "and a name repeated in one upload is stored once.",
    "type": "object",
    "properties": {
        "cpid": {"type": "string", "minLength": 1, "maxLength": MAX_CPID_LENGTH},
        "duration_seconds": {"type": "integer", "minimum": 0},
        "results": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
                    "uuid": {"type": "string", "format": "uuid"},
                },
                "required": ["name"],
            },
        },
    },
    "required": ["cpid", "duration_seconds", "results"],
    "additionalProperties": False,
}

PUBKEY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "raw_key": {"type": "string", "description": "one OpenSSH line: ssh-rsa AAAA... [comment]"},
        "self_signature": {"type": "string", "description": "hex RSA PKCS#1 v1.5 SHA-256 signature of b'signature'"},
    },
    "required": ["raw_key", "self_signature"],
    "additionalProperties": False,
}

EXTENDED_RUN_SCHEMA: dict[str, Any] = {
    "title": "tcup extended run document",
    "type": "object",
    "properties": {
        "schema": {"type": "string", "enum": [EXTENDED_SCHEMA]},
        "cpid": {"type": "string", "minLength": 1, "maxLength": MAX_CPID_LENGTH},
        "duration_seconds": {"type": "integer", "minimum": 0},
        "provenance": {"type": "object"},
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH},
                    "uuid": {"type": "string", "format": "uuid"},
                    "outcome": {"type": "string", "enum": ["success", "fail", "skip", "xfail", "uxsuccess"]},
                    "duration": {"type": "number", "minimum": 0},
                    "reason": {"type": "string"},
                    "attrs": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["name", "outcome"],
            },
        },
    },
    "required": ["schema", "cpid", "duration_seconds", "results"],
    "additionalProperties": False,
}

__all__ = ["EXTENDED_RUN_SCHEMA", "PUBKEY_SCHEMA", "UPLOAD_SCHEMA"]
