"""Zoho CRM answer shapes: per-record result items and bare whole-request errors.

Every shape here mirrors Zoho's v8 OpenAPI spec (``common.json`` / ``related_records.json``)
and the public API pages: ``{"code", "details", "message", "status"}`` for both an item of
a ``{"data": [...]}`` answer and a bare error.
"""

from __future__ import annotations

import json
from typing import Any

JsonDict = dict[str, Any]

RELATION_ADDED = "relation added"
RELATION_REMOVED = "relation removed"
RECORD_UPDATED = "record updated"

#: The user every fake record was created and modified by.
FAKE_USER: JsonDict = {"name": "Fake User", "id": "1000000000000000001"}

MAX_ITEMS = 100


def dumps(payload: object) -> bytes:
    """Encode an answer compactly (the hot path encodes 100-item answers)."""
    return json.dumps(payload, separators=(",", ":")).encode()


def error(code: str, message: str, details: JsonDict | None = None) -> JsonDict:
    """A Zoho error object, used both bare and as a per-record item."""
    return {
        "code": code,
        "details": {} if details is None else details,
        "message": message,
        "status": "error",
    }


def success(message: str, details: JsonDict) -> JsonDict:
    """A per-record success item."""
    return {"code": "SUCCESS", "details": details, "message": message, "status": "success"}


# Success items of plain ids, formatted rather than encoded: the hot path answers 100 of
# them per call, and a validated id is ASCII digits, so it needs no escaping.
ADDED_TEMPLATE = (
    '{"code":"SUCCESS","details":{"id":"%s"},"message":"relation added","status":"success"}'
)
REMOVED_TEMPLATE = (
    '{"code":"SUCCESS","details":{"id":"%s"},"message":"relation removed","status":"success"}'
)


class Answers:
    """The per-record items of one answer, kept JSON-encoded, and how many succeeded."""

    __slots__ = ("ok", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.ok = 0

    def add(self, item: JsonDict) -> None:
        """Append an item given as a dict (error items, external-id successes)."""
        self.parts.append(json.dumps(item, separators=(",", ":")))
        if item["status"] == "success":
            self.ok += 1

    def payload(self) -> bytes:
        """The ``{"data": [...]}`` answer."""
        return ('{"data":[' + ",".join(self.parts) + "]}").encode()

    def status(self, major_version: int) -> int:
        """HTTP status Zoho gives a per-record answer.

        All succeeded -> 200; all failed -> 400; mixed -> 207 Multi-Status from v8 on,
        202 before.
        """
        if self.ok == len(self.parts):
            return 200
        if self.ok == 0:
            return 400
        return 207 if major_version >= 8 else 202


# --- per-record item errors -------------------------------------------------------------


def mandatory_not_found(field: str, index: int) -> JsonDict:
    """The item lacks the field that names its record (``id`` or an external field)."""
    return error(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        {"api_name": field, "json_path": f"$.data[{index}].{field}"},
    )


def invalid_id(record_id: str) -> JsonDict:
    """A record id (update records, or the parent in a related-records URL) is unknown."""
    return error("INVALID_DATA", "the id given seems to be invalid", {"id": record_id})


def invalid_related_id(related_id: str) -> JsonDict:
    """A related record id is unknown."""
    return error("INVALID_DATA", "the related id given seems to be invalid", {"id": related_id})


def invalid_external(field: str, value: str) -> JsonDict:
    """An external value names no record; the field is echoed so callers can map it back."""
    return error("INVALID_DATA", "The ID of the external field is invalid.", {field: value})


def invalid_item(index: int, path: str = "") -> JsonDict:
    """An item (or one of its special keys) is not of the expected JSON type."""
    return error(
        "INVALID_DATA",
        "invalid data",
        {"expected_data_type": "jsonobject", "json_path": f"$.data[{index}]{path}"},
    )


# --- bare whole-request errors ----------------------------------------------------------

NOT_FOUND = error(
    "INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"
)
BAD_METHOD = error("INVALID_REQUEST_METHOD", "The http request method type is not a valid one")
TOO_MANY_REQUESTS = error("TOO_MANY_REQUESTS", "concurrency limit exceeded")
CREDITS_EXHAUSTED = error(
    "TOO_MANY_REQUESTS", "You have exceeded the API credits limit for the day"
)
INVALID_TOKEN = error("INVALID_TOKEN", "invalid oauth token")
INTERNAL_ERROR = error("INTERNAL_ERROR", "Internal server error occurred.")
INVALID_MODULE = error(
    "INVALID_MODULE", "the module name given seems to be invalid", {"resource_path_index": 0}
)
INVALID_RELATION = error(
    "INVALID_DATA", "The relation name given seems to be invalid", {"resource_path_index": 2}
)
INVALID_EXTERNAL_HEADER = error("INVALID_DATA", "invalid data", {"header": "X-EXTERNAL"})
# OAS ``ParamDetails`` requires both keys; ZOHO_API.md shows ``param``.
IDS_MISSING = error(
    "REQUIRED_PARAM_MISSING",
    "One of the expected parameter is missing",
    {"param": "ids", "param_name": "ids"},
)


def limit_exceeded(limit: int) -> JsonDict:
    """More items in one call than Zoho allows."""
    return error(
        "LIMIT_EXCEEDED", f"the number of records exceeds the limit of {limit}", {"limit": limit}
    )


def invalid_body(key: str | None = "data") -> JsonDict:
    """The body is not a JSON object (``key`` None), or its ``key`` is not a proper list."""
    details = None if key is None else {"api_name": key, "json_path": "$." + key}
    return error("INVALID_DATA", "invalid data", details)


def invalid_base_external(field: str, value: str) -> JsonDict:
    """The URL's record segment is an external value that names no record."""
    return error(
        "INVALID_DATA",
        "You have specified an invalid external ID for the base module",
        {field: value},
    )
