"""Reading the CLI's input: each JSONL line read once (orjson, the stdlib for what orjson would
read differently), in blocks, numbered and fingerprinted as the file's own lines."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from zcrm_related_async import Delink, Link, UpdateRecord
from zcrm_related_async._cli.lines import InputFile, make_operation, new_digest
from zcrm_related_async._cli.rows import InputError, jsonl_row
from zcrm_related_async._exceptions import InvalidOperationError

LINK = {
    "op": "link",
    "module": "Campaigns",
    "record_id": "1001",
    "related_list": "Leads",
    "related_id": "2001",
    "fields": {"Member_Status": "Active"},
}


def _read(path: Path, block: int | None = None, **kwargs: Any) -> list[tuple[int, Any]]:
    source = InputFile(path)
    if block is not None:
        source.BLOCK = block
    return list(source.operations(**kwargs))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"A": 123456789012345678901234567890}', 123456789012345678901234567890),
        ('{"A": -9223372036854775809}', -9223372036854775809),
        ('{"A": 0.1}', 0.1),
        ('{"A": NaN}', "nan"),
        ('{"A": {"B": 18446744073709551616}}', {"B": 18446744073709551616}),
        ('{"A": "\\ud800"}', "\ud800"),
        ('{"A": 7, "A": 8}', 8),
    ],
)
def test_a_line_reads_as_the_stdlib_reads_it(text: str, value: Any) -> None:
    line = f'{{"op": "update", "fields": {text}}}'.encode()
    row = jsonl_row(3, line)
    assert isinstance(row, dict)
    assert row == json.loads(line) or value == "nan"
    got = row["fields"]["A"]
    assert type(got) is type(json.loads(line)["fields"]["A"])
    assert str(got) == str(value) if value == "nan" else got == value


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"op": "link",', "not valid JSON: "),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'"text"', "expected a JSON object, got str"),
        (b'{"op": "link\xff"}', "not UTF-8 text"),
    ],
)
def test_a_line_that_is_no_object_says_why(line: bytes, problem: str) -> None:
    row = jsonl_row(9, line)
    assert isinstance(row, InputError)
    assert row.line == 9
    assert row.problem.startswith(problem)


def test_lines_are_numbered_and_fingerprinted_as_the_file_holds_them(tmp_path: Path) -> None:
    rows = [LINK, {**LINK, "related_id": "2002"}, {**LINK, "op": "delink"}]
    rows[2].pop("fields")
    text = (
        "\ufeff"  # a byte-order mark: the stdlib reads it, orjson does not
        + json.dumps(rows[0])
        + "\n\n   \r\n"  # blank lines carry nothing, but count
        + json.dumps(rows[1])
        + "\r\n"
        + json.dumps(rows[2])  # no newline at the end
    ).encode()
    path = tmp_path / "ops.jsonl"
    path.write_bytes(text)
    expected = [
        (1, make_operation(rows[0])),
        (4, make_operation(rows[1])),
        (5, make_operation(rows[2])),
    ]
    for block in (None, 1, 2, 7, 64):
        digest = new_digest()
        assert _read(path, block, digest=digest) == expected
        assert digest.hexdigest() == hashlib.sha256(text).hexdigest()
    assert _read(path, 3, skip=lambda line: line in (1, 5)) == expected[1:2]
    assert [type(op) for _, op in expected] == [Link, Link, Delink]


def test_bad_lines_are_named_and_reading_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "ops.jsonl"
    lines = [
        json.dumps(LINK),
        json.dumps({**LINK, "related_id": "x1"}),
        "{not json",
        json.dumps({**LINK, "colour": "red"}),
        json.dumps({"op": "update", "module": "Leads", "record_id": "7", "fields": {"A": 1.5}}),
    ]
    path.write_text("\n".join(lines) + "\n")
    errors: list[InputError] = []
    got = _read(path, 16, errors=errors)
    assert [line for line, _ in got] == [1, 5]
    assert got[1][1] == UpdateRecord("Leads", "7", {"A": 1.5})
    assert [(e.line, e.field) for e in errors] == [(2, "related_id"), (3, None), (4, "colour")]
    with pytest.raises(InputError, match="line 2: related_id"):
        _read(path)


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ({"op": "relate"}, "op", "expected 'link', 'delink' or 'update', got 'relate'"),
        ({"op": ["link"]}, "op", "expected 'link', 'delink' or 'update', got ['link']"),
        ({**LINK, "trigger": []}, "trigger", "not a key of 'link'"),
        ({"op": "delink", "module": "Campaigns"}, "record_id", "missing"),
        ({"op": "update", "module": "Leads", "record_id": "7"}, "fields", "missing"),
    ],
)
def test_a_row_with_keys_of_another_kind_is_refused_by_name(
    row: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidOperationError) as caught:
        make_operation(row)
    assert caught.value.field == field
    assert caught.value.problem.startswith(problem)


def test_lines_of_one_parent_share_its_names_and_their_equal_fields_yet_keep_what_they_hold() -> (
    None
):
    def link(related_id: str, fields: Any, record_id: Any = "111") -> dict[str, Any]:
        return {
            "op": "link",
            "module": "Campaigns",
            "record_id": record_id,
            "related_list": "Leads",
            "related_id": related_id,
            "fields": fields,
        }

    rows = [
        link("1", {"Member_Status": "Active"}),
        link("2", {"Member_Status": "Active"}),
        link("3", {"Member_Status": 1}),  # equal to no str: a field of its own
        link("4", {"Member_Status": True}),
        link("5", {"Member_Status": "Active"}, "112"),
        link("6", {"Member_Status": "Sent"}, "112"),
    ]
    ops: list[Link] = []
    for row in rows:
        op = make_operation(json.loads(json.dumps(row)))  # fresh objects, as each line's
        assert isinstance(op, Link)
        ops.append(op)
    assert [op.fields for op in ops] == [row["fields"] for row in rows]
    assert [type((op.fields or {})["Member_Status"]) for op in ops] == [
        str,
        str,
        int,
        bool,
        str,
        str,
    ]
    assert [op._fields_json for op in ops] == [
        json.dumps(row["fields"], separators=(",", ":")).encode() for row in rows
    ]
    assert ops[0].record_id is ops[1].record_id
    assert ops[0].fields is ops[1].fields
    assert [op.record_id for op in ops] == ["111"] * 4 + ["112"] * 2
    assert ops == [Link(**{k: v for k, v in row.items() if k != "op"}) for row in rows]
    with pytest.raises(InvalidOperationError, match="record_id"):
        make_operation(link("7", {"Member_Status": "Active"}, 111))
