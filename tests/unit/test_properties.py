"""Property-based tests of batching and merging: nothing lost, nothing doubled, ever."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.builders import rid
from zcrm_related_async import Delink, Link, UpdateRecord
from zcrm_related_async._batching import Batcher, Chunk, group_key, item_key
from zcrm_related_async._merge import chunk_results
from zcrm_related_async._ops import Operation
from zcrm_related_async._report import NO_RESULT
from zcrm_related_async._wire import parse_response

PARENTS = [rid(1000 + p) for p in range(3)]
IDS = [rid(n) for n in range(8)]
LINK_FIELDS: list[dict[str, Any] | None] = [
    None,
    {"Member_Status": "Active"},
    {"Member_Status": "Planning"},
]
UPDATE_FIELDS: list[dict[str, Any]] = [
    {"Phone": "1"},
    {"Phone": "2"},
    {"Phone": "1", "City": "Pune"},
]
TRIGGERS: list[list[str] | None] = [None, [], ["workflow"]]

links = st.builds(
    Link,
    module=st.just("Campaigns"),
    record_id=st.sampled_from(PARENTS),
    related_list=st.sampled_from(["Contacts", "Leads"]),
    related_id=st.sampled_from(IDS),
    fields=st.sampled_from(LINK_FIELDS),
)
delinks = st.builds(
    Delink,
    module=st.just("Campaigns"),
    record_id=st.sampled_from(PARENTS),
    related_list=st.sampled_from(["Contacts", "Leads"]),
    related_id=st.sampled_from(IDS),
)
updates = st.builds(
    UpdateRecord,
    module=st.sampled_from(["Leads", "Contacts"]),
    record_id=st.sampled_from(IDS),
    fields=st.sampled_from(UPDATE_FIELDS),
    trigger=st.sampled_from(TRIGGERS),
    apply_layout_rules=st.booleans(),
)
operations = st.lists(st.one_of(links, delinks, updates), max_size=300)
chunk_sizes = st.integers(min_value=1, max_value=100)
max_buffereds = st.integers(min_value=0, max_value=400)


def run(ops: list[Operation], chunk_size: int, max_buffered: int) -> list[Chunk]:
    batcher = Batcher(chunk_size, max_buffered)
    chunks: list[Chunk] = []
    for index, op in enumerate(ops):
        chunks.extend(batcher.add(index, op))
        assert batcher.buffered <= max(max_buffered, chunk_size)
    chunks.extend(batcher.flush())
    assert batcher.buffered == 0
    return chunks


def payload(op: Operation) -> bytes | None:
    return None if type(op) is Delink else op._fields_json


@settings(max_examples=300, deadline=None)
@given(operations, chunk_sizes, max_buffereds)
def test_batching_places_every_input_exactly_once_in_chunks_of_one_group(
    ops: list[Operation], chunk_size: int, max_buffered: int
) -> None:
    chunks = run(ops, chunk_size, max_buffered)
    seen: list[int] = []
    for chunk in chunks:
        assert 1 <= len(chunk.ops) <= chunk_size
        assert len(chunk.indices) == len(chunk.ops)
        assert all(group_key(op) == chunk.key for op in chunk.ops)
        keys = [item_key(op) for op in chunk.ops]
        assert len(set(keys)) == len(keys), "an id sent twice in one call"
        assert chunk.positions == {k: p for p, k in enumerate(keys)}
        for position, op in enumerate(chunk.ops):
            assert ops[chunk.indices[position]] is op
            for dup in chunk.duplicates.get(position, ()):
                # a duplicate is answered by an operation identical to it in what is sent
                assert group_key(ops[dup]) == chunk.key
                assert item_key(ops[dup]) == item_key(op)
                assert payload(ops[dup]) == payload(op)
                assert dup > chunk.indices[position]
        seen.extend(chunk.indices)
        for dups in chunk.duplicates.values():
            assert dups
            seen.extend(dups)
    assert sorted(seen) == list(range(len(ops)))


@settings(max_examples=300, deadline=None)
@given(operations, chunk_sizes, max_buffereds)
def test_batching_sends_the_last_payload_asked_for_each_id_last(
    ops: list[Operation], chunk_size: int, max_buffered: int
) -> None:
    last_sent: dict[tuple[Any, str], bytes | None] = {}
    for chunk in run(ops, chunk_size, max_buffered):
        for op in chunk.ops:
            last_sent[(chunk.key, item_key(op))] = payload(op)
    last_asked = {(group_key(op), item_key(op)): payload(op) for op in ops}
    assert last_sent == last_asked


def answers_for(chunk: Chunk, draw: Any) -> bytes:
    """A Zoho ``data`` list for ``chunk``: any subset of its ids, in any order, plus strays.

    Stray ids are at most 10**6, real ones have 19 digits, so a stray never names a real id.
    """
    ids = [item_key(op) for op in chunk.ops]
    answered = draw(st.permutations(ids))
    answered = answered[: draw(st.integers(min_value=0, max_value=len(answered)))]
    items: list[object] = [
        {"code": f"C{i}", "details": {"id": i}, "message": "m", "status": "error"} for i in answered
    ]
    strays = draw(
        st.lists(
            st.one_of(
                st.builds(
                    lambda n: {"code": "SUCCESS", "details": {"id": str(n)}, "status": "success"},
                    st.integers(min_value=1, max_value=10**6),
                ),
                # items that are not objects; ``{}`` has its own test in test_merge.py
                st.sampled_from(["garbage", 7, None, [], [{}]]),
            ),
            max_size=3,
        )
    )
    for stray in strays:
        items.insert(draw(st.integers(min_value=0, max_value=len(items))), stray)
    return json.dumps({"data": items}).encode()


@settings(max_examples=300, deadline=None)
@given(operations, chunk_sizes, max_buffereds, st.data())
def test_merge_gives_exactly_one_result_per_input_whatever_zoho_answers(
    ops: list[Operation], chunk_size: int, max_buffered: int, data: st.DataObject
) -> None:
    results: dict[int, Any] = {}
    for chunk in run(ops, chunk_size, max_buffered):
        raw = answers_for(chunk, data.draw)
        answered = {
            item["details"]["id"]
            for item in json.loads(raw)["data"]
            if isinstance(item, dict) and str(item.get("code", "")).startswith("C")
        }
        for index, result in chunk_results(chunk, parse_response(raw, chunk), 200, 1):
            assert index not in results, f"input {index} answered twice"
            results[index] = result
            key = item_key(ops[index])
            assert result.op == ops[index]
            # the answer given for an id reaches exactly the inputs with that id
            assert result.code == (f"C{key}" if key in answered else NO_RESULT)
    assert sorted(results) == list(range(len(ops)))
