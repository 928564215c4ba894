"""Every Zoho wire rule: the JSON and URL shapes we send and the answers we read.

This is the converter module: Zoho's JSON names (``data``, ``details``, ``trigger``,
``apply_feature_execution``, ``expires_in_sec`` ...) appear nowhere else. Pure: no I/O.

Shapes come from the seed pages (Update Related Records, Delink Related Records, Update
Records, Related Records Using External ID) and Zoho's OpenAPI spec for v8.
"""

from __future__ import annotations

import json
import re
from operator import attrgetter, itemgetter
from typing import Any
from urllib.parse import quote

import attrs
import cattrs
import orjson

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


def _quoted(value: str) -> bytes:
    # Ids are nearly always plain letters and digits: nothing to escape, no encoder needed.
    if value.isascii() and value.isalnum():
        return b'"' + value.encode() + b'"'
    return _encode_str(value).encode()


def _item(key: str, value: str, fields_json: bytes | None) -> bytes:
    head = b'{"' + key.encode() + b'":' + _quoted(value)
    return head + b"}" if fields_json is None else head + b"," + fields_json[1:]


def _external(op: Operation) -> External | None:
    return op._ext


_RELATED_ID = attrgetter("_related_id")
_FIELDS_JSON = attrgetter("_fields_json")


def _plain_links_body(ops: list[Operation]) -> bytes | None:
    """The usual body in one join: links named by Zoho ids (digits: nothing to escape) that
    all carry the same fields; ``None`` for any other chunk."""
    fields: list[bytes | None] = list(map(_FIELDS_JSON, ops))
    shared = fields[0]
    if fields.count(shared) != len(fields):
        return None
    ids = ",".join(map(_RELATED_ID, ops)).encode()  # checked ASCII digits: one byte each
    if shared is None:
        return b'{"data":[{"id":"' + ids.replace(b",", b'"},{"id":"') + b'"}]}'
    tail = b'",' + shared[1:]  # '"Member_Status":"Active"}'
    return b'{"data":[{"id":"' + ids.replace(b",", tail + b',{"id":"') + tail + b"]}"


def build_request(version: str, chunk: Chunk) -> Request:
    """The call that carries ``chunk`` (all of whose operations share one group key)."""
    first = chunk.ops[0]
    ext = _external(first)
    header = ext.header if ext else None
    if type(first) is UpdateRecord:
        key = (ext.parent_field if ext else None) or "id"
        items = b",".join(_item(key, op.record_id, op._fields_json) for op in chunk.ops)
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
        if ext is None:
            plain = _plain_links_body(chunk.ops)
            if plain is not None:
                return Request("PUT", base, plain, header)
        key = (ext.related_field if ext else None) or "id"
        items = b",".join(_item(key, op.related_id, op._fields_json) for op in chunk.ops)  # type: ignore[union-attr]
        return Request("PUT", base, b'{"data":[' + items + b"]}", header)
    ids = ",".join(_segment(op.related_id) for op in chunk.ops)  # type: ignore[union-attr]
    return Request("DELETE", f"{base}?ids={ids}", None, header)


@attrs.frozen
class Answer:
    """Zoho's answer for one record, or for a whole call.

    ``details`` is ``None`` when Zoho's details were just the record's own id echoed back
    (``{"id": "…"}``, by far the most common answer): the report rebuilds them on demand
    instead of keeping a million copies.
    """

    status: str = ""
    code: str = ""
    message: str = ""
    details: dict[str, Any] | None = attrs.Factory(dict)

    @property
    def ok(self) -> bool:
        return self.status == "success" or (not self.status and self.code == "SUCCESS")


@attrs.frozen
class PerRecord:
    """A ``data`` list: one answer per operation of the chunk (``None`` where Zoho gave none).
    ``same``: the one answer every record got, when they all got the same bare echo."""

    answers: list[Answer | None]
    same: Answer | None = None


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
# One Answer object per distinct (status, code, message) of a bare echo: a million successes
# share a handful of objects. Bounded, as messages could in principle vary without end.
_ECHOES: dict[tuple[str, str, str], Answer] = {}
_MISMATCH = Answer("error", "MISMATCH")  # marker: an echoed id contradicts the position


def _answer(raw: object) -> Answer | None:
    if type(raw) is not dict:
        return None
    status, code, message = raw.get("status", ""), raw.get("code", ""), raw.get("message", "")
    if not status and not code:
        return None  # no outcome stated: reported as NO_RESULT, never as an empty code
    details = raw.get("details", {})
    if type(status) is str and type(code) is str and type(message) is str and type(details) is dict:
        return Answer(status, code, message, details)  # the usual shape: no converter needed
    try:  # odd types (numbers for strings, ...): let the converter coerce or refuse them
        return _converter.structure(raw, Answer)
    except (cattrs.BaseValidationError, TypeError, ValueError):
        return None


def _echo(status: str, code: str, message: str) -> Answer:
    key = (status, code, message)
    shared = _ECHOES.get(key)
    if shared is None:
        if len(_ECHOES) >= 1024:
            _ECHOES.clear()
        shared = _ECHOES[key] = Answer(status, code, message, None)
    return shared


def _fit(raw: object, key: str, expected: str) -> Answer | None:
    """The answer in ``raw`` for the record ``expected``, compacted when it is a bare echo;
    ``_MISMATCH`` when it names another record."""
    if type(raw) is dict:  # the hot path: a bare echo such as {"id": expected}, no objects made
        details = raw.get("details")
        if type(details) is dict and len(details) == 1 and details.get(key) == expected:
            status, code = raw.get("status", ""), raw.get("code", "")
            message = raw.get("message", "")
            if (status or code) and type(status) is type(code) is type(message) is str:
                return _echo(status, code, message)
    answer = _answer(raw)
    if answer is None or answer.details is None:
        return answer
    echoed = answer.details.get(key)
    if echoed is None:
        return answer
    if echoed != expected:
        return _MISMATCH
    return _echo(answer.status, answer.code, answer.message) if len(answer.details) == 1 else answer


def loads(body: bytes) -> Any:
    """JSON from bytes: orjson (several times faster than the stdlib on Zoho's answers); the
    stdlib only for what orjson refuses (numbers past 64 bits, NaN), so both read the same.
    Raises ValueError (or RecursionError) for what is not JSON."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def parse_response(body: bytes, chunk: Chunk) -> Parsed:
    """Decide by the body's shape, never by the status code (Zoho uses 200, 201, 202, 207
    and 400 for per-record results, depending on version and outcome)."""
    try:
        doc = loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurd nesting
        return Unreadable(f"not JSON ({len(body)} bytes)")
    if type(doc) is dict and type(doc.get("data")) is list:
        items = doc["data"]
        same = _all_echo(items, chunk)
        if same is not None:
            return PerRecord([same] * len(items), same)
        return PerRecord(match_answers(items, chunk))
    if isinstance(doc, dict) and isinstance(doc.get("code"), str):
        answer = _answer(doc)
        if answer is not None:
            return WholeCall(answer)
    return Unreadable("JSON of an unexpected shape (neither a 'data' list nor an error object)")


def key_field(op: Operation) -> str:
    """The details field that names the record an answer is for."""
    ext = _external(op)
    if type(op) is UpdateRecord:
        return (ext.parent_field if ext else None) or "id"
    return (ext.related_field if ext else None) or "id"


def item_keys(chunk: Chunk) -> list[str]:
    """Each operation's item key, in order."""
    positions = chunk.positions  # item key -> position, in the order of the operations
    if len(positions) == len(chunk.ops):
        return list(positions)
    return [item_key(op) for op in chunk.ops]


_DETAILS = itemgetter("details")
_VERDICT = itemgetter("status", "code", "message")


def _all_echo(items: list[Any], chunk: Chunk) -> Answer | None:
    """The common answer, checked a whole list at a time (in C: this runs for every record):
    one bare echo per record, in order, all with the same status, code and message; then that
    one shared answer, else ``None`` (and the answers are matched one by one)."""
    if len(items) != len(chunk.ops) or not items:
        return None
    try:
        details = list(map(_DETAILS, items))
        if list(map(len, details)).count(1) != len(details):
            return None
        if list(map(itemgetter(key_field(chunk.ops[0])), details)) != item_keys(chunk):
            return None
        verdicts = list(map(_VERDICT, items))
    except (KeyError, TypeError, IndexError):  # not a dict, no such key, not sized ...
        return None
    status, code, message = verdicts[0]
    # Compared, not hashed: each record's strings are new objects, hashing them costs more.
    if verdicts.count(verdicts[0]) != len(verdicts):
        return None
    if not (status or code) or not (type(status) is type(code) is type(message) is str):
        return None
    return _echo(status, code, message)


def match_answers(items: list[Any], chunk: Chunk) -> list[Answer | None]:
    """Zoho answers in input order; trust the position unless an echoed id contradicts it,
    then match by ``details.id`` (or the echoed external field) and ``json_path``."""
    count = len(chunk.ops)
    key = key_field(chunk.ops[0])
    ids = item_keys(chunk)
    if len(items) == count:
        answers = [_fit(raw, key, expected) for raw, expected in zip(items, ids, strict=True)]
        if not any(answer is _MISMATCH for answer in answers):
            return answers
    matched: list[Answer | None] = [None] * count
    for raw in items:
        answer = _answer(raw)
        if answer is None or not answer.details:
            continue
        position = chunk.positions.get(str(answer.details.get(key, answer.details.get("id"))))
        if position is None:
            found = _JSON_PATH_INDEX.match(str(answer.details.get("json_path", "")))
            position = int(found.group(1)) if found and int(found.group(1)) < count else None
        if position is not None and matched[position] is None:
            fitted = _fit(raw, key, ids[position])
            matched[position] = answer if fitted is _MISMATCH else fitted
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
        doc = loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
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
