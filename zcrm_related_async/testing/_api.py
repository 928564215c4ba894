"""Zoho's endpoint rules on top of :class:`~._state.CrmState`, free of any HTTP library.

:meth:`ZohoApi.handle` gets what the HTTP layer parsed (method, path segments after
``/crm``, query, ``X-EXTERNAL`` header, parsed body) and returns the HTTP status, the encoded
JSON answer (empty for a 204) and how many items (records or ids) the call carried.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from . import _results as r
from ._meta import Metadata
from ._results import JsonDict
from ._state import CrmState, ExternalRef, RelationKey

#: (HTTP status, encoded JSON answer (b"" for an empty 204), items the call carried)
Result = tuple[int, bytes, int]

#: Body that failed to parse as JSON (distinct from an absent body, which is None).
NOT_JSON: Any = object()

_VERSION = re.compile(r"v(\d+)(?:\.\d+)?")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Methods each known path shape accepts, by number of segments after /crm.
_METHODS: dict[int, frozenset[str]] = {
    2: frozenset({"PUT"}),
    3: frozenset({"GET"}),
    4: frozenset({"PUT", "DELETE", "GET"}),
    5: frozenset({"PUT", "DELETE", "GET"}),
}
_GET_PAGE = 200
#: The metadata reads served under /crm/{version}/settings/ (see ._meta).
_SETTINGS = frozenset({"related_lists", "fields"})


def parse_body(raw: bytes) -> Any:
    """The JSON of a body, None when empty, :data:`NOT_JSON` when unparsable."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return NOT_JSON


def parse_external(header: str | None) -> dict[str, str] | None:
    """``Contacts.External_Contact_ID,Deals.External_Deal_ID`` -> {module: field}.

    Returns None when the header is malformed.
    """
    if not header:
        return {}
    out: dict[str, str] = {}
    for entry in header.split(","):
        module, dot, field = entry.strip().partition(".")
        if not dot or not module or not field:
            return None
        out[module] = field
    return out


def _bad(payload: JsonDict, items: int = 0, status: int = 400) -> Result:
    return status, r.dumps(payload), items


class ZohoApi:
    """Routes one API call to the CRM state and shapes Zoho's answer."""

    __slots__ = ("_meta", "_modules", "state")

    def __init__(self, state: CrmState, modules: Iterable[str] | None) -> None:
        self.state = state
        self._modules = None if modules is None else frozenset(modules)
        self._meta = Metadata(None if modules is None else tuple(modules))

    def _module_ok(self, module: str) -> bool:
        if self._modules is not None:
            return module in self._modules
        return _NAME.fullmatch(module) is not None

    def handle(
        self,
        method: str,
        segments: Sequence[str],
        query: Mapping[str, str],
        external: str | None,
        body: Any,
    ) -> Result:
        """Answer one API call; ``segments`` are the path parts after ``/crm``."""
        count = len(segments)
        allowed = _METHODS.get(count)
        version = _VERSION.fullmatch(segments[0]) if segments else None
        if allowed is None or version is None or "" in segments:
            return _bad(r.NOT_FOUND, status=404)
        if count == 3 and segments[1] == "settings" and segments[2] in _SETTINGS:
            if method != "GET":
                return _bad(r.BAD_METHOD)
            status, answer = self._meta.answer(segments[2], query)
            return status, b"" if answer is None else r.dumps(answer), 0
        if method not in allowed:
            return _bad(r.BAD_METHOD)
        module = segments[1]
        if not self._module_ok(module):
            return _bad(r.INVALID_MODULE)
        ext = parse_external(external)
        if ext is None:
            return _bad(r.INVALID_EXTERNAL_HEADER)
        major = int(version.group(1))
        if count == 2:
            return self._update_records(major, module, ext.get(module), body)

        parent = self._parent(module, segments[2], ext)
        if isinstance(parent, dict):
            return _bad(parent)
        if count == 3:
            return self._get_record(module, parent)

        related_list = segments[3]
        if _NAME.fullmatch(related_list) is None:
            return _bad(r.INVALID_RELATION)
        key = (module, parent, related_list)
        rel_ext = _related_ext(ext, module, related_list)
        url_id = segments[4] if count == 5 else None
        if method == "PUT":
            return self._link(major, key, rel_ext, body, url_id)
        if method == "DELETE":
            return self._delink(major, key, rel_ext, query, url_id)
        return self._get_related(key, rel_ext, url_id)

    def _parent(self, module: str, segment: str, ext: Mapping[str, str]) -> str | JsonDict:
        """The URL's record id, resolving an external value when the header names it."""
        field = ext.get(module)
        if field is None:
            return segment if self.state.is_valid_id(segment) else r.invalid_id(segment)
        record_id = self.state.resolve_external(module, field, segment)
        return r.invalid_base_external(field, segment) if record_id is None else record_id

    def _link(
        self,
        major: int,
        key: RelationKey,
        ext: ExternalRef | None,
        body: Any,
        url_id: str | None,
    ) -> Result:
        data = _data_list(body)
        if isinstance(data, dict):
            return _bad(data)
        limit = r.MAX_ITEMS if url_id is None else 1
        if len(data) > limit:
            return _bad(r.limit_exceeded(limit), len(data))
        if url_id is not None and isinstance(data[0], dict):
            # One relation named by the URL: the URL's id (or external value) wins.
            data = [{**data[0], ("id" if ext is None else ext[1]): url_id}]
        out = r.Answers()
        self.state.link(key, data, ext, out)
        return out.status(major), out.payload(), len(data)

    def _delink(
        self,
        major: int,
        key: RelationKey,
        ext: ExternalRef | None,
        query: Mapping[str, str],
        url_id: str | None,
    ) -> Result:
        if url_id is None:
            ids = query.get("ids")
            if not ids:
                return _bad(r.IDS_MISSING)
            values = ids.split(",")
            if len(values) > r.MAX_ITEMS:
                return _bad(r.limit_exceeded(r.MAX_ITEMS), len(values))
        else:
            values = [url_id]
        out = r.Answers()
        self.state.delink(key, values, ext, out)
        return out.status(major), out.payload(), len(values)

    def _get_related(self, key: RelationKey, ext: ExternalRef | None, url_id: str | None) -> Result:
        relations = self.state.related(key)
        if url_id is None:
            data = [{"id": rid, **fields} for rid, fields in relations.items()]
        else:
            rid = url_id if ext is None else self.state.resolve_external(*ext, url_id)
            fields = None if rid is None else relations.get(rid)
            data = [] if rid is None or fields is None else [{"id": rid, **fields}]
        if not data:
            return 204, b"", 0
        info = {"per_page": _GET_PAGE, "count": len(data), "page": 1, "more_records": False}
        return 200, r.dumps({"data": data, "info": info}), 0

    def _get_record(self, module: str, record_id: str) -> Result:
        record = self.state.records.get((module, record_id))
        if record is None:
            return 204, b"", 0
        return 200, r.dumps({"data": [{"id": record_id, **record}]}), 0

    def _update_records(self, major: int, module: str, ext_field: str | None, body: Any) -> Result:
        data = _data_list(body)
        if isinstance(data, dict):
            return _bad(data)
        if len(data) > r.MAX_ITEMS:
            return _bad(r.limit_exceeded(r.MAX_ITEMS), len(data))
        for key in ("trigger", "apply_feature_execution"):
            if key in body and not isinstance(body[key], list):
                return _bad(r.invalid_body(key), len(data))
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        out = r.Answers()
        self.state.update_records(module, data, ext_field, now, out)
        return out.status(major), out.payload(), len(data)


def _data_list(body: Any) -> list[Any] | JsonDict:
    """The body's non-empty ``data`` list, or the bare error to answer instead."""
    if not isinstance(body, dict):
        # Not JSON, no body, or JSON that is not an object.
        return r.invalid_body(None)
    data = body.get("data")
    if not isinstance(data, list) or not data:
        return r.invalid_body()
    return data


def _related_ext(ext: Mapping[str, str], module: str, related_list: str) -> ExternalRef | None:
    """The related records' external field: the entry for the related list's module,
    else the first entry for a module other than the URL's."""
    field = ext.get(related_list)
    if field is not None and related_list != module:
        return related_list, field
    for other, field in ext.items():
        if other != module:
            return other, field
    return None
