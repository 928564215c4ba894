"""Property-based tests of the pure core, end to end: operations -> chunks -> the HTTP requests
built for them -> Zoho's answers -> results.

``test_properties.py`` checks the batcher's chunks and matching by id. These go further: they
read every built request back (path, query, body, header) and check that it carries exactly
its operations, never more than 100, with every user value escaped; and they answer each
chunk in each way Zoho (or the network) can: faithfully in order, out of order, with items
missing or extra, by ``json_path`` only, with a bare error object, unreadable, or not at all.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from zcrm_related_async import Delink, Link, UpdateRecord
from zcrm_related_async._batching import Batcher, Chunk, group_key, item_key
from zcrm_related_async._merge import Failed, chunk_results
from zcrm_related_async._ops import Operation, parse_external
from zcrm_related_async._report import NO_RESULT, UNREADABLE_RESPONSE
from zcrm_related_async._wire import build_request, parse_response

VERSION = "v8"
EXT_RELATED = "Contacts.External_Contact_ID"
EXT_PARENT = "Deals.External_Deal_ID"
#: Values that would change a URL's meaning if they reached it unescaped.
AWKWARD = ["a/b", "q?x=1&y=2", "#frag", "100%", "%2F", "sp ace", "..x", "a/../b", "+", ";", "é"]

external_values = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]),
        min_size=1,
        max_size=12,
    ).filter(lambda v: v.isprintable() and v not in (".", "..")),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "id"]), inner)
    ),
    max_leaves=5,
)
#: A plain ``random.Random`` from a drawn seed: cheap for the many picks of a big group.
seeded = st.integers(min_value=0, max_value=2**32).map(random.Random)
field_names = st.sampled_from(["Member_Status", "Contact_Role", "Rating", "Tags", "Note"])
field_maps = st.one_of(
    st.none(),
    st.sampled_from([{"Member_Status": "Active"}, {"Member_Status": "Sent"}]),
    st.dictionaries(field_names, json_values, max_size=3),
)


@st.composite
def groups(draw: st.DrawFn) -> list[Operation]:
    """Operations of one would-be call: same kind, parent, related list and X-EXTERNAL header.

    Hypothesis draws the shape (kind, header, size, the pools of ids and fields); a seeded
    ``random`` picks each operation's id and fields from the pools, so a 230-operation group
    costs a few draws, and repeats (with equal or other fields) happen.
    """
    kind = draw(st.sampled_from(["link", "delink", "update"]))
    count = draw(st.integers(min_value=1, max_value=230))
    rng = draw(seeded)
    pool = draw(st.integers(min_value=1, max_value=300))
    stems = draw(st.lists(external_values, min_size=1, max_size=4))
    field_pool = draw(st.lists(field_maps, min_size=1, max_size=3))
    external: str | None
    if kind == "update":
        external = draw(st.sampled_from([None, "Leads.External_Lead_ID"]))
    else:
        external = draw(
            st.sampled_from([None, EXT_RELATED, EXT_PARENT, f"{EXT_PARENT},{EXT_RELATED}"])
        )
    ext = parse_external(external, "Leads" if kind == "update" else "Deals") if external else None

    def ident(named_by_value: bool) -> str:
        n = rng.randrange(pool)
        if not named_by_value:
            return str(3652397000001000000 + n)
        value = f"{rng.choice(stems)}{n}"
        return value.replace(",", ";") if kind == "delink" else value  # ',' splits ?ids=

    if kind == "update":
        trigger = draw(st.sampled_from([None, [], ["workflow"], ["approval", "blueprint"]]))
        layout = draw(st.booleans())
        fields = [f or {"Rating": "1"} for f in field_pool]
        return [
            UpdateRecord(
                "Leads", ident(ext is not None), rng.choice(fields), external, trigger, layout
            )
            for _ in range(count)
        ]
    parent = ident(bool(ext and ext.parent_field))
    if kind == "delink":
        return [
            Delink("Deals", parent, "Contacts", ident(bool(ext and ext.related_field)), external)
            for _ in range(count)
        ]
    return [
        Link(
            "Deals",
            parent,
            "Contacts",
            ident(bool(ext and ext.related_field)),
            rng.choice(field_pool),
            external,
        )
        for _ in range(count)
    ]


@st.composite
def jobs(draw: st.DrawFn) -> list[Operation]:
    """A few groups, interleaved in any order (as a stream of many parents would be)."""
    ops = [op for group in draw(st.lists(groups(), min_size=1, max_size=4)) for op in group]
    draw(seeded).shuffle(ops)
    return ops


def batch(ops: list[Operation], chunk_size: int, max_buffered: int) -> list[Chunk]:
    batcher = Batcher(chunk_size, max_buffered)
    chunks = [chunk for index, op in enumerate(ops) for chunk in batcher.add(index, op)]
    return chunks + batcher.flush()


def fields_of(op: Operation) -> dict[str, Any]:
    """The fields an operation sends, as JSON decodes them."""
    encoded = None if type(op) is Delink else op._fields_json
    return {} if encoded is None else dict(json.loads(encoded))


def segments(path: str) -> list[str]:
    """The raw path's segments, checked to be what no URL normaliser would touch."""
    assert "#" not in path
    assert " " not in path
    parts = path.split("/")
    assert parts[0] == ""
    for part in parts[1:]:
        assert part not in ("", ".", ".."), path
        assert "?" not in part, path
    return [unquote(part) for part in parts[1:]]


def read_back(chunk: Chunk) -> list[tuple[str, dict[str, Any]]]:
    """Build the chunk's request and read it back as Zoho would: ``(id, fields)`` per item,
    after checking the method, the path, the query and the ``X-EXTERNAL`` header."""
    first = chunk.ops[0]
    request = build_request(VERSION, chunk)
    assert request.external == first.external
    path, _, query = request.path.partition("?")
    parts = segments(path)
    assert parts[:3] == ["crm", VERSION, first.module]
    if type(first) is UpdateRecord:
        assert (request.method, len(parts), query) == ("PUT", 3, "")
        assert request.body is not None
        body = json.loads(request.body)
        assert body.get("trigger", None) == (None if first.trigger is None else list(first.trigger))
        assert ("apply_feature_execution" in body) == first.apply_layout_rules
        ext = parse_external(first.external, first.module) if first.external else None
        key = (ext.parent_field if ext else None) or "id"
        return [(item.pop(key), item) for item in body["data"]]

    assert parts[3:5] == [first.record_id, first.related_list]  # type: ignore[union-attr]
    if len(chunk.ops) == 1:  # the single-relation endpoint: the id in the path
        assert len(parts) == 6
        assert query == ""
        if type(first) is Delink:
            assert (request.method, request.body) == ("DELETE", None)
            return [(parts[5], {})]
        assert request.method == "PUT"
        assert request.body is not None
        (item,) = json.loads(request.body)["data"]
        return [(parts[5], item)]
    assert len(parts) == 5
    if type(first) is Delink:
        assert (request.method, request.body) == ("DELETE", None)
        name, _, ids = query.partition("=")
        assert name == "ids"
        assert "&" not in ids
        assert "#" not in ids
        return [(unquote(value), {}) for value in ids.split(",")]
    assert request.method == "PUT"
    assert request.body is not None
    ext = parse_external(first.external, first.module) if first.external else None
    key = (ext.related_field if ext else None) or "id"
    return [(item.pop(key), item) for item in json.loads(request.body)["data"]]


@settings(max_examples=60, deadline=None)
@given(jobs(), st.integers(min_value=1, max_value=100), st.integers(min_value=0, max_value=400))
def test_every_operation_reaches_exactly_one_request_of_at_most_100_items_as_it_was_given(
    ops: list[Operation], chunk_size: int, max_buffered: int
) -> None:
    answered: Counter[int] = Counter()
    for chunk in batch(ops, chunk_size, max_buffered):
        items = read_back(chunk)
        assert 1 <= len(items) <= min(chunk_size, 100)
        assert len({ident for ident, _ in items}) == len(items), "one id twice in a call"
        assert [ident for ident, _ in items] == [item_key(op) for op in chunk.ops]
        for position, (ident, fields) in enumerate(items):
            for index in [chunk.indices[position], *chunk.duplicates.get(position, ())]:
                given_op = ops[index]
                # the request item that answers input ``index`` carries what it asked for
                assert group_key(given_op) == chunk.key
                assert item_key(given_op) == ident
                assert fields_of(given_op) == fields
                answered[index] += 1
    assert answered == Counter(range(len(ops)))


def _echo(op: Operation, code: str, ident: str | None = None) -> dict[str, Any]:
    """Zoho's per-record answer for ``op``, echoing its id (or external value)."""
    ident = item_key(op) if ident is None else ident
    ext = parse_external(op.external, op.module) if op.external else None
    if type(op) is UpdateRecord:
        key = (ext.parent_field if ext else None) or "id"
    else:
        key = (ext.related_field if ext else None) or "id"
    details = {key: ident} if key == "id" else {key: ident, "id": "1"}
    return {"code": code, "details": details, "message": "m", "status": "error"}


def answer(chunk: Chunk, style: str, rng: random.Random) -> tuple[bytes | Failed, list[str]]:
    """Zoho's (or the network's) answer to ``chunk`` in ``style``, and the code each of the
    chunk's operations must then report."""
    ops = chunk.ops
    own = [f"C{position}" for position in range(len(ops))]
    if style == "in order":
        return json.dumps({"data": [_echo(op, own[p]) for p, op in enumerate(ops)]}).encode(), own
    if style == "by json_path only":  # errors naming the item by position, not by id
        by_path = [
            {"code": c, "details": {"json_path": f"$.data[{p}].Rating"}, "status": "error"}
            for p, c in enumerate(own)
        ]
        return json.dumps({"data": by_path}).encode(), own
    if style == "some missing, the rest in any order, with strays":
        kept = [p for p in range(len(ops)) if rng.random() < 0.7]
        items: list[object] = [_echo(ops[p], own[p]) for p in kept]
        items += [_echo(ops[p], own[p]) for p in kept if rng.random() < 0.2]  # said twice
        strays: list[object] = [
            _echo(ops[0], "X", ident="\x01"),  # an answer for a record not in the call
            "garbage",
            None,
            {},
        ]
        items += strays[: rng.randint(0, 4)]
        rng.shuffle(items)
        expected = [own[p] if p in kept else NO_RESULT for p in range(len(ops))]
        return json.dumps({"data": items}).encode(), expected
    if style == "a bare error object":
        error = {"code": "INVALID_MODULE", "details": {}, "message": "m", "status": "error"}
        return json.dumps(error).encode(), ["INVALID_MODULE"] * len(ops)
    if style == "cut short":
        whole = json.dumps({"data": [_echo(op, own[p]) for p, op in enumerate(ops)]}).encode()
        return whole[: rng.randint(0, len(whole) - 1)], [UNREADABLE_RESPONSE] * len(ops)
    assert style == "no answer at all"
    return Failed("TIMEOUT", "no answer"), ["TIMEOUT"] * len(ops)


STYLES = [
    "in order",
    "by json_path only",
    "some missing, the rest in any order, with strays",
    "a bare error object",
    "cut short",
    "no answer at all",
]


@settings(max_examples=60, deadline=None)
@given(
    jobs(),
    st.integers(min_value=1, max_value=100),
    st.lists(st.sampled_from(STYLES), min_size=1),
    seeded,
)
def test_whatever_the_answers_each_input_gets_exactly_one_result_and_the_right_one(
    ops: list[Operation], chunk_size: int, styles: list[str], rng: random.Random
) -> None:
    results: dict[int, Any] = {}
    for number, chunk in enumerate(batch(ops, chunk_size, 100_000)):
        body, expected = answer(chunk, styles[number % len(styles)], rng)
        outcome = body if isinstance(body, Failed) else parse_response(body, chunk)
        by_position = {index: p for p, index in enumerate(chunk.indices)}
        for p, dups in chunk.duplicates.items():
            by_position.update(dict.fromkeys(dups, p))
        for index, result in chunk_results(chunk, outcome, 200, 1):
            assert index not in results, f"input {index} answered twice"
            results[index] = result
            assert result.op == ops[index]
            assert result.code == expected[by_position[index]]
            assert result.ok is False
    assert sorted(results) == list(range(len(ops)))
