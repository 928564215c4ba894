"""Reading a related list a page at a time: the GET we send and the page we read. Pure.

Zoho's ``GET /crm/{v}/{module}/{record_id}/{related_list}`` answers 200 with ``{"data": [...],
"info": {"per_page", "count", "page", "more_records", ...}}``, or 204 with no body when the
list is empty. A page holds at most 200 records. Where Zoho gives ``info.next_page_token``
the next page is asked for by that token (``page_token``), else by ``page`` + 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import attrs
import cattrs

from ._wire import Answer, Unreadable, WholeCall

#: Zoho's largest page of related records.
PAGE_SIZE = 200


def _segment(value: str) -> str:
    return quote(value, safe="")


def page_path(
    version: str,
    module: str,
    record_id: str,
    related_list: str,
    fields: Sequence[str],
    page: int,
    page_token: str | None = None,
) -> str:
    """The path and query of one page's GET (``page_token`` wins over ``page``)."""
    base = f"/crm/{version}/{_segment(module)}/{_segment(record_id)}/{_segment(related_list)}"
    query = f"fields={','.join(_segment(f) for f in fields)}&per_page={PAGE_SIZE}"
    if page_token is not None:
        return f"{base}?{query}&page_token={_segment(page_token)}"
    return f"{base}?{query}&page={page}"


@attrs.frozen
class Info:
    """The ``info`` object of a page: only what paging needs."""

    more_records: bool = False
    page: int = 1
    per_page: int = PAGE_SIZE
    count: int = 0
    next_page_token: str | None = None


@attrs.frozen
class Page:
    """One page of related records (each a dict with at least ``"id"``)."""

    records: list[dict[str, Any]]
    info: Info


_converter = cattrs.Converter(forbid_extra_keys=False)
EMPTY = Page([], Info())


def parse_page(status: int, body: bytes) -> Page | WholeCall | Unreadable:
    """A page, Zoho's error object, or a body of no shape Zoho uses for this read."""
    if status == 204 and not body.strip():
        return EMPTY
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return Unreadable(f"not JSON ({len(body)} bytes)")
    if not isinstance(doc, dict):
        return Unreadable("JSON of an unexpected shape")
    data = doc.get("data")
    if isinstance(data, list) and status < 300:
        if not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in data):
            return Unreadable("a related record without a string 'id'")
        try:
            info = _converter.structure(doc.get("info") or {}, Info)
        except (cattrs.BaseValidationError, TypeError, ValueError):
            return Unreadable("an 'info' object of an unexpected shape")
        return Page(data, info)
    if isinstance(doc.get("code"), str):
        try:
            return WholeCall(_converter.structure(doc, Answer))
        except (cattrs.BaseValidationError, TypeError, ValueError):
            pass
    return Unreadable("JSON of an unexpected shape (neither a page nor an error object)")
