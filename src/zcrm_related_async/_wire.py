"""Every Zoho wire rule: the JSON and URL shapes we send and the answers we read.

This is the converter module: Zoho's JSON names (``data``, ``details``, ``trigger``,
``apply_feature_execution``, ``expires_in_sec`` ...) appear nowhere else. Pure: no I/O.

Shapes come from the seed pages (Update Related Records, Delink Related Records, Update
Records, Related Records Using External ID) and Zoho's OpenAPI spec for v8.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import attrs
import cattrs

from ._batching import Chunk, item_key
from ._exceptions import RefreshThrottledError, TokenRefreshError
from ._ops import External, Link, Operation, UpdateRecord

_encode_str = json.JSONEncoder(ensure_ascii=False).encode
_JSON_PATH_INDEX = re.compile(r"\$\.data\[(\d+)\]")


@attrs.frozen
class Request:
    """One HTTP request, ready to send: ``path`` (with its query) is already percent-encoded."""

    method: str
    path: str
    body: bytes | None
    external: str | None


def _segment(value: str) -> str:
    # Every user value that reaches a URL is escaped: '/', '?', '#', '%', ',' included.
    return quote(value, safe="")


def _item(key: str, value: str, fields_json: bytes | None) -> bytes:
    head = b'{"' + key.encode() + b'":' + _encode_str(value).encode()
    return head + b"}" if fields_json is None else head + b"," + fields_json[1:]


def _external(op: Operation) -> External | None:
    return op._external


def build_request(version: str, chunk: Chunk) -> Request:
    """The call that carries ``chunk`` (all of whose operations share one group key)."""
    first = chunk.ops[0]
    ext = _external(first)
    header = ext.header if ext else None
    if type(first) is UpdateRecord:
        key = (ext.parent_field if ext else None) or "id"
        items = b",".join(_item(key, op.record_id, op._fields_json) for op in chunk.ops)  # type: ignore[union-attr]
        body = b'{"data":[' + items + b"]"
        if first.trigger is not None:
            body += b',"trigger":' + json.dumps(list(first.trigger)).encode()
        if first.apply_layout_rules:
            body += b',"apply_feature_execution":[{"name":"layout_rules"}]'
        return Request("PUT", f"/crm/{version}/{_segment(first.module)}", body + b"}", header)

    base = (
        f"/crm/{version}/{_segment(first.module)}/{_segment(first.record_id)}"
        f"/{_segment(first.related_list)}"  # type: ignore[union-attr]
    )
    if len(chunk.ops) == 1:  # Zoho's single-relation endpoints: ".../{related_list}/{id}"
        path = f"{base}/{_segment(first.related_id)}"  # type: ignore[union-attr]
        if type(first) is Link:
            return Request(
                "PUT", path, b'{"data":[' + (first._fields_json or b"{}") + b"]}", header
            )
        return Request("DELETE", path, None, header)
    if type(first) is Link:
        key = (ext.related_field if ext else None) or "id"
        items = b",".join(_item(key, op.related_id, op._fields_json) for op in chunk.ops)  # type: ignore[union-attr]
        return Request("PUT", base, b'{"data":[' + items + b"]}", header)
    ids = ",".join(_segment(op.related_id) for op in chunk.ops)  # type: ignore[union-attr]
    return Request("DELETE", f"{base}?ids={ids}", None, header)


@attrs.frozen
class Answer:
    """Zoho's answer for one record, or for a whole call."""

    status: str = ""
    code: str = ""
    message: str = ""
    details: dict[str, Any] = attrs.Factory(dict)

    @property
    def ok(self) -> bool:
        return self.status == "success" or (not self.status and self.code == "SUCCESS")


@attrs.frozen
class PerRecord:
    """A ``data`` list: one answer per operation of the chunk (``None`` where Zoho gave none)."""

    answers: list[Answer | None]


@attrs.frozen
class WholeCall:
    """A bare ``{"code", "details", "message", "status"}`` object: it answers every record."""

    answer: Answer


@attrs.frozen
class Unreadable:
    """A body that is not JSON, or JSON of no shape Zoho uses."""

    reason: str


Parsed = PerRecord | WholeCall | Unreadable

_converter = cattrs.Converter(forbid_extra_keys=False)


def _answer(raw: object) -> Answer | None:
    if not isinstance(raw, dict):
        return None
    try:
        return _converter.structure(raw, Answer)
    except (cattrs.BaseValidationError, TypeError, ValueError):
        return None


def parse_response(body: bytes, chunk: Chunk) -> Parsed:
    """Decide by the body's shape, never by the status code (Zoho uses 200, 201, 202, 207
    and 400 for per-record results, depending on version and outcome)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Unreadable(f"not JSON ({len(body)} bytes)")
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        return PerRecord(match_answers(doc["data"], chunk))
    if isinstance(doc, dict) and isinstance(doc.get("code"), str):
        answer = _answer(doc)
        if answer is not None:
            return WholeCall(answer)
    return Unreadable("JSON of an unexpected shape (neither a 'data' list nor an error object)")


def _key_field(op: Operation) -> str:
    ext = _external(op)
    if type(op) is UpdateRecord:
        return (ext.parent_field if ext else None) or "id"
    return (ext.related_field if ext else None) or "id"


def match_answers(items: list[Any], chunk: Chunk) -> list[Answer | None]:
    """Zoho answers in input order; trust the position unless an echoed id contradicts it,
    then match by ``details.id`` (or the echoed external field) and ``json_path``."""
    answers = [_answer(item) for item in items]
    count = len(chunk.ops)
    key = _key_field(chunk.ops[0])
    if len(answers) == count and all(
        a is not None and a.details.get(key, item_key(op)) == item_key(op)
        for a, op in zip(answers, chunk.ops, strict=True)
    ):
        return answers
    matched: list[Answer | None] = [None] * count
    for answer in answers:
        if answer is None:
            continue
        position = chunk.positions.get(str(answer.details.get(key, answer.details.get("id"))))
        if position is None:
            found = _JSON_PATH_INDEX.match(str(answer.details.get("json_path", "")))
            position = int(found.group(1)) if found and int(found.group(1)) < count else None
        if position is not None and matched[position] is None:
            matched[position] = answer
    return matched


@attrs.frozen
class TokenAnswer:
    """What the accounts server answered to a refresh. ``repr`` never shows the token."""

    access_token: str = attrs.field(repr=False)
    expires_in: float
    api_domain: str | None = None


class TransientRefreshError(TokenRefreshError):
    """The accounts server did not answer usefully this time (5xx, not JSON): try again."""


def parse_token_response(status: int, body: bytes) -> TokenAnswer:
    """Read ``POST /oauth/v2/token``. Raises :class:`TokenRefreshError` (or its subclasses)."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict):
        raise TransientRefreshError(f"accounts server answered HTTP {status} without JSON")
    error = doc.get("error")
    if error is not None:
        if str(error).strip().lower() == "access denied":
            raise RefreshThrottledError(
                "the accounts server throttles token refreshes ('Access Denied'); "
                "Zoho allows 10 refreshes per 10 minutes per refresh token"
            )
        if status >= 500:
            raise TransientRefreshError(f"accounts server answered HTTP {status}: {error!s:.100}")
        raise TokenRefreshError(f"the accounts server refused the refresh: {error!s:.100}")
    token = doc.get("access_token")
    if not isinstance(token, str) or not token:
        raise TransientRefreshError(f"accounts server answered HTTP {status} without a token")
    # Some answers carry expires_in_sec, and then expires_in is in milliseconds.
    seconds = doc.get("expires_in_sec")
    if not isinstance(seconds, (int, float)):
        seconds = doc.get("expires_in")
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        seconds = 3600.0
    domain = doc.get("api_domain")
    return TokenAnswer(token, float(seconds), domain if isinstance(domain, str) else None)
