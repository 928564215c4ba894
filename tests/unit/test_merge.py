"""``chunk_results``: one result per input operation, duplicates included."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.builders import (
    EXT_BOTH,
    PARENT,
    RELATED,
    batch,
    data_body,
    error_item,
    ids_of,
    links,
    ok_item,
)
from zcrm_related_async import Delink, Link, UpdateRecord
from zcrm_related_async._batching import Chunk
from zcrm_related_async._merge import ChunkPart, Failed, ListPart, answered, chunk_results
from zcrm_related_async._ops import Operation
from zcrm_related_async._report import ERROR, NO_RESULT, SUCCESS, UNREADABLE_RESPONSE, Result
from zcrm_related_async._wire import Answer, PerRecord, Unreadable, WholeCall, parse_response


def chunk_with_duplicates() -> tuple[list[Operation], Chunk]:
    """Inputs 0..5: three distinct links, input 3 repeats 0, inputs 4 and 5 repeat 1."""
    a, b, c = links(3)
    ops: list[Operation] = [a, b, c, a, b, b]
    chunks = batch(ops)
    assert len(chunks) == 1
    assert chunks[0].duplicates == {0: [3], 1: [4, 5]}
    return ops, chunks[0]


def results_by_index(pairs: list[tuple[int, Result]]) -> dict[int, Result]:
    indices = [i for i, _ in pairs]
    assert len(indices) == len(set(indices)), f"an index answered twice: {indices}"
    return dict(pairs)


def test_per_record_answers_reach_every_input_including_duplicates() -> None:
    ops, chunk = chunk_with_duplicates()
    ids = ids_of(chunk)
    parsed = parse_response(
        data_body(
            [ok_item(ids[0]), error_item("INVALID_DATA", "bad id", id=ids[1]), ok_item(ids[2])]
        ),
        chunk,
    )
    results = results_by_index(list(chunk_results(chunk, parsed, 207, 2)))
    assert sorted(results) == [0, 1, 2, 3, 4, 5]
    assert [results[i].status for i in range(6)] == [SUCCESS, ERROR, SUCCESS, SUCCESS, ERROR, ERROR]
    assert [results[i].code for i in range(6)] == [
        "SUCCESS",
        "INVALID_DATA",
        "SUCCESS",
        "SUCCESS",
        "INVALID_DATA",
        "INVALID_DATA",
    ]
    for index, op in enumerate(ops):
        assert results[index].op == op
    assert results[1].message == "bad id"
    assert results[1].details == {"id": ids[1]}
    assert results[4] == results[1]


def test_whole_call_answers_every_record() -> None:
    _, chunk = chunk_with_duplicates()
    answer = Answer("error", "INVALID_MODULE", "the module name given seems to be invalid", {})
    results = results_by_index(list(chunk_results(chunk, WholeCall(answer), 400, 1)))
    assert sorted(results) == [0, 1, 2, 3, 4, 5]
    for result in results.values():
        assert (result.status, result.code, result.message) == (
            ERROR,
            "INVALID_MODULE",
            answer.message,
        )
        assert (result.http_status, result.attempts) == (400, 1)


def test_whole_call_success_answers_every_record_as_success() -> None:
    _, chunk = chunk_with_duplicates()
    answer = Answer("success", "SUCCESS", "relation added", {})
    results = list(chunk_results(chunk, WholeCall(answer), 200, 1))
    assert len(results) == 6
    assert all(r.ok for _, r in results)


@pytest.mark.parametrize(
    ("outcome", "code", "in_message"),
    [
        (Failed("TIMEOUT", "no answer within 30s"), "TIMEOUT", "no answer within 30s"),
        (Failed("CONNECTION_ERROR", "connection reset"), "CONNECTION_ERROR", "reset"),
        (Failed("API_CREDITS_EXHAUSTED", "credits spent"), "API_CREDITS_EXHAUSTED", "spent"),
        (Unreadable("not JSON (162 bytes)"), UNREADABLE_RESPONSE, "not JSON (162 bytes)"),
    ],
)
def test_failed_and_unreadable_give_error_results_with_their_codes(
    outcome: Any, code: str, in_message: str
) -> None:
    _, chunk = chunk_with_duplicates()
    results = results_by_index(list(chunk_results(chunk, outcome, 502, 6)))
    assert sorted(results) == [0, 1, 2, 3, 4, 5]
    for result in results.values():
        assert result.status == ERROR
        assert not result.ok
        assert result.code == code
        assert in_message in result.message
        assert (result.http_status, result.attempts) == (502, 6)


def test_none_answers_give_no_result_errors() -> None:
    _, chunk = chunk_with_duplicates()
    ids = ids_of(chunk)
    parsed = parse_response(data_body([ok_item(ids[2])]), chunk)
    assert isinstance(parsed, PerRecord)
    results = results_by_index(list(chunk_results(chunk, parsed, 200, 1)))
    assert {i: r.code for i, r in results.items()} == {
        0: NO_RESULT,
        1: NO_RESULT,
        2: "SUCCESS",
        3: NO_RESULT,
        4: NO_RESULT,
        5: NO_RESULT,
    }
    assert all(results[i].status == ERROR for i in (0, 1, 3, 4, 5))


@pytest.mark.parametrize(("http_status", "attempts"), [(None, 0), (None, 3), (200, 1), (207, 4)])
def test_http_status_and_attempts_are_carried(http_status: int | None, attempts: int) -> None:
    _, chunk = chunk_with_duplicates()
    outcome = Failed("TIMEOUT", "t") if http_status is None else PerRecord([None, None, None])
    for _, result in chunk_results(chunk, outcome, http_status, attempts):
        assert (result.http_status, result.attempts) == (http_status, attempts)


def test_a_one_operation_chunk_gives_one_result() -> None:
    chunk = batch(links(1))[0]
    results = list(chunk_results(chunk, Failed("TIMEOUT", "t"), None, 1))
    assert [i for i, _ in results] == [0]


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"details": {}}, id="details-only"),
        pytest.param({"message": "ok"}, id="message-only"),
    ],
)
def test_data_item_without_code_or_status_gives_a_clear_error_not_an_empty_code(
    item: dict[str, object],
) -> None:
    chunk = batch(links(1))[0]
    ((index, result),) = chunk_results(chunk, parse_response(data_body([item]), chunk), 200, 1)
    assert index == 0
    assert result.status == ERROR
    assert result.code != ""


def test_answered_lists_every_input_with_its_position_in_the_chunk() -> None:
    _, chunk = chunk_with_duplicates()
    pairs = answered(chunk)
    assert sorted(pairs) == [(0, 0), (1, 1), (2, 2), (3, 0), (4, 1), (5, 1)]
    assert len(pairs) == 6
    assert sorted(pairs.positions()) == [0, 0, 1, 1, 1, 2]


def test_chunk_part_ok_and_code_agree_with_the_result() -> None:
    _, chunk = chunk_with_duplicates()
    ids = ids_of(chunk)
    raw = data_body([ok_item(ids[0]), error_item("INVALID_DATA", id=ids[1])])
    part = ChunkPart(chunk, parse_response(raw, chunk), 207, 2)
    for position in range(3):
        result = part.result(position)
        assert part.ok(position) is result.ok
        assert part.code(position) == result.code
    assert [part.code(p) for p in range(3)] == ["SUCCESS", "INVALID_DATA", NO_RESULT]


def test_bare_echo_details_are_given_back_in_the_result() -> None:
    _, chunk = chunk_with_duplicates()
    ids = ids_of(chunk)
    raw = data_body([ok_item(i) for i in ids])
    results = results_by_index(list(chunk_results(chunk, parse_response(raw, chunk), 200, 1)))
    assert results[0].details == {"id": ids[0]}
    assert results[3].details == {"id": ids[0]}
    assert results[5].details == {"id": ids[1]}


def test_bare_external_echo_details_are_given_back_in_the_result() -> None:
    ext = "Contacts.External_Contact_ID,Deals.External_Deal_ID"
    chunk = batch([Link("Contacts", "c1", "Deals", f"d{n}", None, ext) for n in (1, 2)])[0]
    items = [
        {"code": "SUCCESS", "details": {"External_Deal_ID": f"d{n}"}, "status": "success"}
        for n in (1, 2)
    ]
    results = dict(chunk_results(chunk, parse_response(data_body(items), chunk), 200, 1))
    assert [results[i].details for i in (0, 1)] == [
        {"External_Deal_ID": "d1"},
        {"External_Deal_ID": "d2"},
    ]


RESULT_OPS: list[Any] = [
    pytest.param(Link("Campaigns", PARENT, "Contacts", RELATED), id="link"),
    pytest.param(
        Link(
            "Campaigns",
            PARENT,
            "Contacts",
            RELATED,
            {"Member_Status": "Active", "N": [1, {"a": None}]},
        ),
        id="link-fields",
    ),
    pytest.param(Link("Campaigns", PARENT, "Contacts", RELATED, {}), id="link-empty-fields"),
    pytest.param(
        Link("Contacts", "c/1", "Deals", "d 1", {"Contact_Role": "1"}, EXT_BOTH), id="ext"
    ),
    pytest.param(Delink("Campaigns", PARENT, "Contacts", RELATED), id="delink"),
    pytest.param(Delink("Contacts", "c1", "Deals", "d1", EXT_BOTH), id="delink-external"),
    pytest.param(UpdateRecord("Leads", RELATED, {"Phone": "1"}), id="update"),
    pytest.param(
        UpdateRecord(
            "Leads", "l1", {"Tags": ["a"], "$append_values": {"Tags": True}}, "Leads.Ext", [], True
        ),
        id="update-everything",
    ),
    pytest.param(
        UpdateRecord("Leads", RELATED, {"Phone": "1"}, trigger=["workflow"]), id="trigger"
    ),
]


@pytest.mark.parametrize("op", RESULT_OPS)
def test_result_op_equals_the_operation_given(op: Operation) -> None:
    # Reports rebuild each operation from what the call carried; it must come back equal, so
    # that failed_ops() can be compared with (or looked up among) the caller's own operations.
    ((index, result),) = chunk_results(batch([op])[0], Failed("TIMEOUT", "t"), None, 1)
    assert index == 0
    assert type(result.op) is type(op)
    assert result.op == op


def test_list_part_gives_its_failure_to_each_operation() -> None:
    ops = links(2)
    part = ListPart(Failed("NOT_ATTEMPTED", "not sent: the job was cancelled"), list(ops))
    for position, op in enumerate(ops):
        assert not part.ok(position)
        assert part.code(position) == "NOT_ATTEMPTED"
        assert part.result(position) == Result(
            op, ERROR, "NOT_ATTEMPTED", "not sent: the job was cancelled", {}
        )
