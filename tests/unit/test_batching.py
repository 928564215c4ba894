"""Grouping and chunking: what one call carries, and that no operation is lost or doubled."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.builders import PARENT, batch, build, covered, ids_of, links, rid
from zcrm_related_async import Delink, Link, UpdateRecord
from zcrm_related_async._batching import Batcher, group_key, item_key
from zcrm_related_async._ops import Operation


@pytest.mark.parametrize(
    ("count", "sizes"),
    [
        (0, []),
        (1, [1]),
        (99, [99]),
        (100, [100]),
        (101, [100, 1]),
        (199, [100, 99]),
        (200, [100, 100]),
        (201, [100, 100, 1]),
    ],
)
def test_chunk_boundaries_for_one_parent(count: int, sizes: list[int]) -> None:
    chunks = batch(links(count))
    assert [len(c) for c in chunks] == sizes
    assert covered(chunks) == list(range(count))
    # input order is kept inside and across chunks
    assert [i for c in chunks for i in c.indices] == list(range(count))
    assert [r for c in chunks for r in ids_of(c)] == [rid(n) for n in range(count)]


@pytest.mark.parametrize(
    ("count", "chunk_size", "sizes"),
    [
        (50, 7, [7, 7, 7, 7, 7, 7, 7, 1]),
        (10, 1, [1] * 10),
        (20, 10, [10, 10]),
        (21, 10, [10, 10, 1]),
        (99, 50, [50, 49]),
    ],
)
def test_chunk_size_below_100(count: int, chunk_size: int, sizes: list[int]) -> None:
    chunks = batch(links(count), chunk_size=chunk_size)
    assert [len(c) for c in chunks] == sizes
    assert covered(chunks) == list(range(count))


def test_full_chunk_comes_out_of_add_at_once_not_at_flush() -> None:
    batcher = Batcher(100, 100_000)
    ops = links(100)
    for index, op in enumerate(ops[:99]):
        assert batcher.add(index, op) == []
    assert batcher.buffered == 99
    ready = batcher.add(99, ops[99])
    assert [len(c) for c in ready] == [100]
    assert batcher.buffered == 0
    assert batcher.flush() == []


def test_interleaved_parents_fill_every_call() -> None:
    parents = [str(4000000000000000000 + p) for p in range(200)]
    ops = [Link("Campaigns", parents[n % 200], "Contacts", rid(n // 200)) for n in range(20_000)]
    chunks = batch(ops, chunk_size=100, max_buffered=100_000)
    assert len(chunks) == 200
    assert all(len(c) == 100 for c in chunks)
    assert {c.key for c in chunks} == {
        group_key(Link("Campaigns", p, "Contacts", "1")) for p in parents
    }
    for chunk in chunks:
        assert {op.record_id for op in chunk.ops} == {chunk.ops[0].record_id}
    assert covered(chunks) == list(range(20_000))


def test_duplicates_with_the_same_payload_are_sent_once_and_recorded_zoho_unconfirmed() -> None:
    a = Link("Campaigns", PARENT, "Contacts", rid(1), fields={"Member_Status": "Active"})
    b = Link("Campaigns", PARENT, "Contacts", rid(2))
    ops: list[Operation] = [a, b, a, b, a]
    chunks = batch(ops)
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.ops == [a, b]
    assert chunk.indices == [0, 1]
    assert chunk.duplicates == {0: [2, 4], 1: [3]}
    assert covered(chunks) == [0, 1, 2, 3, 4]


def test_duplicates_count_once_against_the_buffer() -> None:
    batcher = Batcher(100, 100_000)
    op = build(Delink)
    for index in range(5):
        assert batcher.add(index, op) == []
    assert batcher.buffered == 1


def test_duplicate_delinks_are_always_the_same_payload() -> None:
    chunks = batch([build(Delink), build(Delink, related_id=rid(9)), build(Delink)])
    assert [len(c) for c in chunks] == [2]
    assert chunks[0].duplicates == {0: [2]}


def test_duplicate_updates_with_the_same_fields_are_sent_once() -> None:
    op = build(UpdateRecord, fields={"Phone": "1"})
    chunks = batch([op, build(UpdateRecord, fields={"Phone": "1"})])
    assert [len(c) for c in chunks] == [1]
    assert chunks[0].duplicates == {0: [1]}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            build(Link, fields={"Member_Status": "Active"}),
            build(Link, fields={"Member_Status": "Planning"}),
            id="link-other-fields",
        ),
        pytest.param(build(Link), build(Link, fields={"Member_Status": "Active"}), id="link-new"),
        pytest.param(
            build(UpdateRecord, fields={"Phone": "1"}),
            build(UpdateRecord, fields={"Phone": "2"}),
            id="update-other-fields",
        ),
    ],
)
def test_duplicate_id_with_other_fields_starts_a_new_chunk_and_the_last_wins(
    first: Operation, second: Operation
) -> None:
    other = build(
        type(first), **({"related_id": rid(5)} if type(first) is Link else {"record_id": rid(5)})
    )
    batcher = Batcher(100, 100_000)
    assert batcher.add(0, first) == []
    assert batcher.add(1, other) == []
    ready = batcher.add(2, second)
    assert len(ready) == 1
    assert ready[0].ops == [first, other]
    assert ready[0].indices == [0, 1]
    rest = batcher.flush()
    assert len(rest) == 1
    assert rest[0].ops == [second]
    assert rest[0].indices == [2]
    assert rest[0].duplicates == {}
    # the later call carries the later payload
    assert rest[0].ops[0]._fields_json == second._fields_json


def test_max_buffered_forces_the_oldest_group_out_unfilled() -> None:
    batcher = Batcher(chunk_size=10, max_buffered=10)
    parent_a, parent_b = PARENT, "3652397000000327002"
    for n in range(5):
        assert batcher.add(n, Link("Campaigns", parent_a, "Contacts", rid(n))) == []
    for n in range(5, 10):
        assert batcher.add(n, Link("Campaigns", parent_b, "Contacts", rid(n))) == []
    assert batcher.buffered == 10
    ready = batcher.add(10, Link("Campaigns", parent_b, "Contacts", rid(10)))
    assert len(ready) == 1
    assert ready[0].key == group_key(Link("Campaigns", parent_a, "Contacts", rid(0)))
    assert ready[0].indices == [0, 1, 2, 3, 4]
    assert batcher.buffered == 6
    rest = batcher.flush()
    assert [c.indices for c in rest] == [[5, 6, 7, 8, 9, 10]]


def test_max_buffered_below_chunk_size_still_fills_chunks() -> None:
    chunks = batch(links(30), chunk_size=10, max_buffered=1)
    assert [len(c) for c in chunks] == [10, 10, 10]


def test_buffered_never_exceeds_max_buffered() -> None:
    batcher = Batcher(chunk_size=100, max_buffered=250)
    for n in range(5000):
        batcher.add(n, Link("Campaigns", str(4000000000000000000 + n % 37), "Contacts", rid(n)))
        assert batcher.buffered <= 250


def test_flush_gives_unfilled_chunks_oldest_first_and_empties_the_batcher() -> None:
    parents = ["3", "1", "2"]
    batcher = Batcher(100, 100_000)
    for index, parent in enumerate(parents):
        batcher.add(index, Link("Campaigns", parent, "Contacts", rid(index)))
    flushed = batcher.flush()
    assert [c.ops[0].record_id for c in flushed] == parents
    assert batcher.buffered == 0
    assert batcher.flush() == []


def test_links_delinks_and_updates_never_share_a_chunk() -> None:
    ops: list[Operation] = [
        Link("Contacts", PARENT, "Deals", rid(1)),
        Delink("Contacts", PARENT, "Deals", rid(1)),
        UpdateRecord("Contacts", PARENT, {"Phone": "1"}),
        Link("Contacts", PARENT, "Deals", rid(2)),
        Delink("Contacts", PARENT, "Deals", rid(2)),
        UpdateRecord("Contacts", rid(1), {"Phone": "1"}),
    ]
    chunks = batch(ops)
    assert len(chunks) == 3
    for chunk in chunks:
        assert len({type(op) for op in chunk.ops}) == 1
    assert sorted(c.indices for c in chunks) == [[0, 3], [1, 4], [2, 5]]


SEPARATE: list[Any] = [
    pytest.param(
        build(UpdateRecord), build(UpdateRecord, trigger=[]), id="trigger-omitted-vs-none"
    ),
    pytest.param(
        build(UpdateRecord, trigger=["workflow"]),
        build(UpdateRecord, trigger=[]),
        id="trigger-workflow-vs-none",
    ),
    pytest.param(
        build(UpdateRecord, trigger=["workflow"]),
        build(UpdateRecord, trigger=["approval"]),
        id="trigger-workflow-vs-approval",
    ),
    pytest.param(
        build(UpdateRecord), build(UpdateRecord, apply_layout_rules=True), id="layout-rules"
    ),
    pytest.param(
        build(UpdateRecord),
        build(UpdateRecord, record_id="extlead", external="Leads.External_Lead_ID"),
        id="update-external",
    ),
    pytest.param(build(UpdateRecord), build(UpdateRecord, module="Contacts"), id="update-module"),
    pytest.param(build(Link), build(Link, record_id="1"), id="link-parent"),
    pytest.param(build(Link), build(Link, module="Products"), id="link-module"),
    pytest.param(build(Link), build(Link, related_list="Leads"), id="link-related-list"),
    pytest.param(
        build(Link, module="Contacts"),
        build(Link, module="Contacts", related_id="e", external="Deals.External_Deal_ID"),
        id="link-external",
    ),
    pytest.param(build(Delink), build(Delink, related_list="Leads"), id="delink-related-list"),
]


@pytest.mark.parametrize(("a", "b"), SEPARATE)
def test_operations_with_different_call_settings_never_share_a_chunk(
    a: Operation, b: Operation
) -> None:
    assert group_key(a) != group_key(b)
    chunks = batch([a, b, a, b])
    assert len(chunks) == 2
    assert [c.ops for c in chunks] == [[a], [b]]


def test_updates_with_the_same_settings_share_a_chunk() -> None:
    ops = [
        UpdateRecord(
            "Leads", rid(n), {"Phone": str(n)}, trigger=["workflow"], apply_layout_rules=True
        )
        for n in range(3)
    ]
    chunks = batch(ops)
    assert [c.indices for c in chunks] == [[0, 1, 2]]


def test_same_related_id_under_two_parents_is_not_a_duplicate() -> None:
    chunks = batch([build(Link), build(Link, record_id="1")])
    assert [(c.indices, c.duplicates) for c in chunks] == [([0], {}), ([1], {})]


@pytest.mark.parametrize(
    ("op", "key"),
    [
        (build(Link, related_id="11"), "11"),
        (build(Delink, related_id="12"), "12"),
        (build(UpdateRecord, record_id="13"), "13"),
    ],
)
def test_item_key_is_the_id_zoho_answers_for(op: Operation, key: str) -> None:
    assert item_key(op) == key


def test_a_chunk_cut_by_a_conflicting_duplicate_is_sent_after_the_earlier_one() -> None:
    batcher = Batcher(100, 100_000)
    first = Link("Campaigns", "1", "Leads", "10", {"Member_Status": "Planning"})
    second = Link("Campaigns", "1", "Leads", "10", {"Member_Status": "Active"})
    assert batcher.add(0, first) == []
    [earlier] = batcher.add(1, second)
    [later] = batcher.flush()
    assert earlier.ops == [first]
    assert later.ops == [second]
    assert later.after is earlier
    assert earlier.after is None
