"""The read of a related list's pages, without sockets: the GET we build, the page we read."""

from __future__ import annotations

import json

from zcrm_related_async._pages import EMPTY, PAGE_SIZE, Info, Page, page_path, parse_page
from zcrm_related_async._wire import Unreadable, WholeCall


def test_page_path_escapes_and_asks_200_a_page() -> None:
    path = page_path("v8", "Campaigns", "1/2", "Leads", ("id", "Member_Status"), 3)
    assert path == ("/crm/v8/Campaigns/1%2F2/Leads?fields=id,Member_Status&per_page=200&page=3")
    assert PAGE_SIZE == 200


def test_a_page_token_replaces_the_page_number() -> None:
    path = page_path("v8", "Deals", "7", "Contacts", ("id",), 12, "tok/en=")
    assert path.endswith("?fields=id&per_page=200&page_token=tok%2Fen%3D")


def test_204_is_an_empty_list() -> None:
    assert parse_page(204, b"") == EMPTY
    assert EMPTY.records == []
    assert not EMPTY.info.more_records


def test_a_page_and_its_info() -> None:
    body = {
        "data": [{"id": "1", "Member_Status": "Sent"}, {"id": "2"}],
        "info": {
            "per_page": 200,
            "count": 2,
            "page": 4,
            "more_records": True,
            "next_page_token": "abc",
            "sort_by": "id",
        },
    }
    page = parse_page(200, json.dumps(body).encode())
    assert isinstance(page, Page)
    assert page.records == body["data"]
    assert page.info == Info(True, 4, 200, 2, "abc")


def test_zoho_error_object_and_garbage() -> None:
    error = {"code": "INVALID_DATA", "details": {}, "message": "bad", "status": "error"}
    parsed = parse_page(400, json.dumps(error).encode())
    assert isinstance(parsed, WholeCall)
    assert parsed.answer.code == "INVALID_DATA"
    assert isinstance(parse_page(200, b"{not json"), Unreadable)
    assert isinstance(parse_page(200, b'{"data": [{"name": "no id"}]}'), Unreadable)
    assert isinstance(parse_page(200, b'{"data": [], "info": {"page": "x"}}'), Unreadable)
    assert isinstance(parse_page(200, b"[1, 2]"), Unreadable)
