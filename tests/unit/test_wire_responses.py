"""``parse_response`` and ``match_answers``: every answer shape Zoho gives, decided by shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.unit.builders import (
    EXT_BOTH,
    PARENT,
    body,
    data_body,
    error_item,
    ids_of,
    links,
    ok_item,
    one_chunk,
    rid,
    sample,
)
from zcrm_related_async import Delink, Link, UpdateRecord
from zcrm_related_async._batching import Chunk
from zcrm_related_async._retry import Verdict, classify
from zcrm_related_async._wire import (
    Answer,
    PerRecord,
    Unreadable,
    WholeCall,
    match_answers,
    parse_response,
)


def link_chunk(count: int) -> Chunk:
    return one_chunk(links(count))


def per_record(parsed: object) -> list[Answer | None]:
    assert isinstance(parsed, PerRecord), parsed
    return parsed.answers


def answered_ids(answers: list[Answer | None], chunk: Chunk) -> list[str | None]:
    """The id each answer is for. ``details is None`` marks a bare echo of the record's own id,
    which ``match_answers`` only makes after checking the echo against that very record."""
    return [
        None if a is None else ident if a.details is None else str(a.details.get("id"))
        for a, ident in zip(answers, ids_of(chunk), strict=True)
    ]


# -- per-record results ------------------------------------------------------------------------


def test_all_success_data_list_gives_one_answer_per_operation_in_order() -> None:
    chunk = one_chunk(
        [
            Link("Leads", PARENT, "Campaigns", i)
            for i in ("3652397000000327001", "3652397000001854001")
        ]
    )
    answers = per_record(parse_response(sample("related_link_success.json"), chunk))
    assert answered_ids(answers, chunk) == ids_of(chunk)
    assert all(a is not None and a.ok and a.message == "relation added" for a in answers)


def test_delink_sample_is_read() -> None:
    chunk = one_chunk(
        [
            Delink("Campaigns", PARENT, "Contacts", i)
            for i in ("3652397000000925128", "3652397000000649013")
        ]
    )
    answers = per_record(parse_response(sample("delink_success.json"), chunk))
    assert [(a.code, a.message) for a in answers if a is not None] == [
        ("SUCCESS", "relation removed")
    ] * 2


def test_update_records_sample_keeps_the_full_details() -> None:
    chunk = one_chunk(
        [
            UpdateRecord("Leads", i, {"Phone": "1"})
            for i in ("554023000000527002", "554023000000527003")
        ]
    )
    answers = per_record(parse_response(sample("update_records_success.json"), chunk))
    assert answered_ids(answers, chunk) == ids_of(chunk)
    first = answers[0]
    assert first is not None
    assert first.message == "record updated"
    assert first.details is not None
    assert first.details["Modified_By"] == {"name": "Patricia Boyle", "id": "554023000000235011"}


def test_mixed_success_and_error_keeps_every_error() -> None:
    chunk = link_chunk(4)
    ids = ids_of(chunk)
    items = [
        ok_item(ids[0]),
        error_item("INVALID_DATA", "the related id given seems to be invalid", id=ids[1]),
        ok_item(ids[2]),
        error_item("DUPLICATE_DATA", "duplicate data", id=ids[3]),
    ]
    answers = per_record(parse_response(data_body(items), chunk))
    assert [(a.code, a.ok) for a in answers if a is not None] == [
        ("SUCCESS", True),
        ("INVALID_DATA", False),
        ("SUCCESS", True),
        ("DUPLICATE_DATA", False),
    ]
    assert answers[1] is not None
    assert answers[1].message == "the related id given seems to be invalid"


def test_all_error_data_list_is_per_record() -> None:
    chunk = link_chunk(3)
    items = [error_item("INVALID_DATA", id=i) for i in ids_of(chunk)]
    answers = per_record(parse_response(data_body(items), chunk))
    assert answered_ids(answers, chunk) == ids_of(chunk)
    assert all(a is not None and not a.ok and a.code == "INVALID_DATA" for a in answers)


def test_error_items_without_ids_in_input_order_are_matched_by_position() -> None:
    chunk = link_chunk(2)
    items = [
        error_item("MANDATORY_NOT_FOUND", "required field not found", api_name="Contact_Role"),
        error_item("INVALID_DATA", api_name="Member_Status"),
    ]
    answers = per_record(parse_response(data_body(items), chunk))
    assert [a.code for a in answers if a is not None] == ["MANDATORY_NOT_FOUND", "INVALID_DATA"]


def test_answers_out_of_order_are_matched_by_details_id() -> None:
    chunk = link_chunk(4)
    ids = ids_of(chunk)
    items = [
        ok_item(ids[2]),
        error_item("INVALID_DATA", id=ids[0]),
        ok_item(ids[3]),
        ok_item(ids[1]),
    ]
    answers = per_record(parse_response(data_body(items), chunk))
    assert answered_ids(answers, chunk) == ids
    assert [a.code for a in answers if a is not None] == [
        "INVALID_DATA",
        "SUCCESS",
        "SUCCESS",
        "SUCCESS",
    ]


def test_numeric_ids_in_details_still_match() -> None:
    chunk = link_chunk(2)
    ids = ids_of(chunk)
    raw = b'{"data":[{"code":"SUCCESS","details":{"id":%s},"status":"success"},' % ids[1].encode()
    raw += b'{"code":"INVALID_DATA","details":{"id":%s},"status":"error"}]}' % ids[0].encode()
    answers = per_record(parse_response(raw, chunk))
    assert [a.code for a in answers if a is not None] == ["INVALID_DATA", "SUCCESS"]


def test_missing_answers_are_none() -> None:
    chunk = link_chunk(4)
    ids = ids_of(chunk)
    answers = per_record(parse_response(data_body([ok_item(ids[3]), ok_item(ids[1])]), chunk))
    assert answered_ids(answers, chunk) == [None, ids[1], None, ids[3]]


def test_empty_data_list_answers_nothing() -> None:
    assert per_record(parse_response(b'{"data":[]}', link_chunk(3))) == [None, None, None]


def test_extra_answers_are_ignored() -> None:
    chunk = link_chunk(2)
    ids = ids_of(chunk)
    items = [
        ok_item("9999999999999999999"),
        ok_item(ids[0]),
        error_item("INVALID_DATA", id=ids[0]),  # a second answer for the same id: the first stands
        ok_item(ids[1]),
        {"unrelated": True},
    ]
    answers = per_record(parse_response(data_body(items), chunk))
    assert answered_ids(answers, chunk) == ids
    assert [a.code for a in answers if a is not None] == ["SUCCESS", "SUCCESS"]


def test_error_matched_by_json_path_when_out_of_order() -> None:
    chunk = one_chunk([UpdateRecord("Products", rid(n), {"list_price": n}) for n in range(5)])
    ids = ids_of(chunk)
    items = [
        error_item(
            "INVALID_DATA",
            api_name="list_price",
            json_path="$.data[3].list_price",
            expected_data_type="double",
        ),
        ok_item(ids[0], "record updated"),
        ok_item(ids[1], "record updated"),
        ok_item(ids[2], "record updated"),
        ok_item(ids[4], "record updated"),
    ]
    answers = per_record(parse_response(data_body(items), chunk))
    assert [a.code for a in answers if a is not None] == ["SUCCESS"] * 3 + [
        "INVALID_DATA",
        "SUCCESS",
    ]
    assert answers[3] is not None
    assert answers[3].details is not None
    assert answers[3].details["api_name"] == "list_price"


def test_json_path_beyond_the_chunk_is_ignored() -> None:
    chunk = link_chunk(2)
    items = [error_item("INVALID_DATA", json_path="$.data[9].list_price")]
    assert per_record(parse_response(data_body(items), chunk)) == [None, None]


def test_recorded_202_with_json_path_error() -> None:
    chunk = one_chunk(
        [
            UpdateRecord("Products", i, {"list_price": "x"})
            for i in ("554023000000527002", "554023000000527003")
        ]
    )
    answers = per_record(parse_response(sample("update_records_invalid_price_202.json"), chunk))
    assert [(a.code, a.ok) for a in answers if a is not None] == [
        ("SUCCESS", True),
        ("INVALID_DATA", False),
    ]


def test_external_id_echo_is_matched_by_the_external_field() -> None:
    ops = [
        Link("Contacts", "extcontact3", "Deals", f"extdeal{n}", None, EXT_BOTH) for n in (3, 4, 5)
    ]
    chunk = one_chunk(ops)
    items = [
        {
            "code": "SUCCESS",
            "details": {"External_Deal_ID": f"extdeal{n}", "id": rid(n)},
            "message": "relation added",
            "status": "success",
        }
        for n in (5, 3, 4)
    ]
    answers = per_record(parse_response(data_body(items), chunk))
    assert [(a.details or {}).get("External_Deal_ID") for a in answers if a is not None] == [
        "extdeal3",
        "extdeal4",
        "extdeal5",
    ]
    assert answered_ids(answers, chunk) == [rid(3), rid(4), rid(5)]


def test_external_id_sample_is_read() -> None:
    chunk = one_chunk([Link("Contacts", "extcontact3", "Deals", "extdeal3", None, EXT_BOTH)])
    answers = per_record(parse_response(sample("related_link_external_success.json"), chunk))
    assert len(answers) == 1
    assert answers[0] is not None
    assert answers[0].ok
    assert answers[0].details == {"External_Deal_ID": "extdeal3", "id": "111111000000094028"}


def test_external_update_answers_matched_by_the_parent_external_field() -> None:
    ext = "Leads.External_Lead_ID"
    chunk = one_chunk(
        [UpdateRecord("Leads", f"lead{n}", {"Phone": "1"}, external=ext) for n in (1, 2)]
    )
    items = [
        {
            "code": "SUCCESS",
            "details": {"External_Lead_ID": "lead2", "id": rid(2)},
            "status": "success",
        },
        {"code": "INVALID_DATA", "details": {"External_Lead_ID": "lead1"}, "status": "error"},
    ]
    answers = per_record(parse_response(data_body(items), chunk))
    assert [a.code for a in answers if a is not None] == ["INVALID_DATA", "SUCCESS"]


@pytest.mark.parametrize(
    "items",
    [
        pytest.param(["SUCCESS", 1, None, [], True], id="scalars-and-lists"),
        pytest.param([[ok_item(rid(0))]] * 5, id="nested-lists"),
    ],
)
def test_items_that_are_not_objects_answer_nothing(items: list[Any]) -> None:
    assert per_record(parse_response(data_body(items), link_chunk(5))) == [None] * 5


def test_item_that_is_not_an_object_does_not_hide_the_others() -> None:
    chunk = link_chunk(3)
    ids = ids_of(chunk)
    items = [ok_item(ids[0]), "garbage", ok_item(ids[2])]
    assert answered_ids(per_record(parse_response(data_body(items), chunk)), chunk) == [
        ids[0],
        None,
        ids[2],
    ]


def test_match_answers_direct() -> None:
    chunk = link_chunk(3)
    ids = ids_of(chunk)
    matched = match_answers([ok_item(ids[2]), ok_item(ids[0])], chunk)
    assert answered_ids(matched, chunk) == [ids[0], None, ids[2]]


# -- whole-call errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("invalid_module.json", "INVALID_MODULE"),
        ("invalid_token.json", "INVALID_TOKEN"),
        ("too_many_requests.json", "TOO_MANY_REQUESTS"),
        ("internal_error.json", "INTERNAL_ERROR"),
        ("invalid_record_in_path.json", "INVALID_DATA"),
    ],
)
def test_bare_error_object_answers_the_whole_call(name: str, code: str) -> None:
    raw = sample(name)
    parsed = parse_response(raw, link_chunk(3))
    assert isinstance(parsed, WholeCall)
    doc = json.loads(raw)
    assert parsed.answer == Answer(doc["status"], code, doc["message"], doc["details"])
    assert not parsed.answer.ok


@pytest.mark.parametrize(
    "code",
    [
        "INVALID_URL_PATTERN",
        "OAUTH_SCOPE_MISMATCH",
        "NO_PERMISSION",
        "AUTHORIZATION_FAILED",
        "INVALID_REQUEST_METHOD",
        "MANDATORY_NOT_FOUND",
        "UNABLE_TO_PARSE_DATA_TYPE",
        "LIMIT_EXCEEDED",
        "ALREADY_MODIFIED",
        "INVALID_OAUTHTOKEN",
        "AUTHENTICATION_FAILURE",
    ],
)
def test_every_documented_code_as_a_bare_error_is_a_whole_call_answer(code: str) -> None:
    parsed = parse_response(body(error_item(code, "m", resource_path_index=0)), link_chunk(2))
    assert parsed == WholeCall(Answer("error", code, "m", {"resource_path_index": 0}))


def test_bare_error_without_details_still_reads() -> None:
    parsed = parse_response(b'{"code":"INTERNAL_ERROR","status":"error"}', link_chunk(1))
    assert parsed == WholeCall(Answer("error", "INTERNAL_ERROR", "", {}))


@pytest.mark.parametrize(
    ("status", "code", "ok"),
    [
        ("success", "SUCCESS", True),
        ("", "SUCCESS", True),
        ("error", "SUCCESS", False),
        ("", "", False),
    ],
)
def test_answer_ok(status: str, code: str, ok: bool) -> None:
    assert Answer(status, code).ok is ok


# -- unreadable --------------------------------------------------------------------------------

UNREADABLE: list[Any] = [
    pytest.param(sample("gateway_502.html"), "not JSON", id="html"),
    pytest.param(b'{"data":[{"code":"SUCCESS","details":{"id":"1', "not JSON", id="truncated"),
    pytest.param(b"", "not JSON", id="empty"),
    pytest.param(b"\xff\xfe\x00garbage", "not JSON", id="not-utf8"),
    pytest.param(b"NaN-ish {", "not JSON", id="junk"),
    pytest.param(b"[1, 2]", "unexpected shape", id="list"),
    pytest.param(b"42", "unexpected shape", id="number"),
    pytest.param(b'"SUCCESS"', "unexpected shape", id="string"),
    pytest.param(b"null", "unexpected shape", id="null"),
    pytest.param(b'{"status":"error","message":"no code"}', "unexpected shape", id="dict-no-code"),
    pytest.param(b'{"data":{"id":"1"}}', "unexpected shape", id="data-not-a-list"),
    pytest.param(b'{"data":null}', "unexpected shape", id="data-null"),
    pytest.param(b'{"code":500,"status":"error"}', "unexpected shape", id="code-not-a-str"),
    pytest.param(b'{"code":"X","details":"oops"}', "unexpected shape", id="details-not-an-object"),
    pytest.param(b"{}", "unexpected shape", id="empty-object"),
]


@pytest.mark.parametrize(("raw", "reason"), UNREADABLE)
def test_unreadable_body_becomes_a_clear_error_never_a_crash(raw: bytes, reason: str) -> None:
    parsed = parse_response(raw, link_chunk(2))
    assert isinstance(parsed, Unreadable)
    assert reason in parsed.reason


def test_deeply_nested_json_is_unreadable_not_a_crash() -> None:
    # A body nested deeper than the interpreter's recursion limit (a broken proxy, a hostile
    # middlebox) must still become a per-chunk error: RecursionError must not escape.
    raw = b"[" * 100_000 + b"]" * 100_000
    parsed = parse_response(raw, link_chunk(2))
    assert isinstance(parsed, Unreadable)


# -- decide by shape, not by status ------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 207, 400])
def test_data_list_is_per_record_results_whatever_the_status_unconfirmed_400(status: int) -> None:
    chunk = link_chunk(2)
    ids = ids_of(chunk)
    raw = data_body([ok_item(ids[0]), error_item("INVALID_DATA", id=ids[1])])
    parsed = parse_response(raw, chunk)
    assert classify(status, parsed, {}) is Verdict.DONE
    assert [a.code for a in per_record(parsed) if a is not None] == ["SUCCESS", "INVALID_DATA"]
