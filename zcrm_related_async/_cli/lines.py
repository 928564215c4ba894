"""Reading a job's input: one operation a line, JSONL or CSV, checked line by line.

JSONL::

    {"op":"link","module":"Campaigns","record_id":"…","related_list":"Leads","related_id":"…","fields":{"Member_Status":"Active"}}
    {"op":"delink","module":"Campaigns","record_id":"…","related_list":"Leads","related_id":"…"}
    {"op":"update","module":"Leads","record_id":"…","fields":{"Lead_Status":"Contacted"},"trigger":["workflow"]}

each with an optional ``"external"`` (the ``X-EXTERNAL`` value). CSV has the same columns;
every other column is a field (cells are sent as text; an empty cell is no field), and a
``fields`` column may hold a JSON object for typed values. Blank lines carry nothing and get no
report line. A line is named by its 1-based line number in the file (for CSV, the line where
the record starts; the header is line 1).

The file is read as bytes so one pass both checks it and fingerprints it (SHA-256): a journal
remembers the fingerprint and refuses to resume a job over another file.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from .._exceptions import InvalidOperationError
from .._ops import Delink, Link, Operation, UpdateRecord
from .rows import MAX_ERRORS, InputError, Row, Skip, csv_rows, jsonl_row, plain_row

#: op -> (required keys, optional keys)
_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "link": (("module", "record_id", "related_list", "related_id"), ("fields", "external")),
    "delink": (("module", "record_id", "related_list", "related_id"), ("external",)),
    "update": (
        ("module", "record_id", "fields"),
        ("external", "trigger", "apply_layout_rules"),
    ),
}
#: op -> (the keys a line of it must have, the keys it may have)
_SETS = {
    kind: (frozenset(required), frozenset(("op", *required, *optional)))
    for kind, (required, optional) in _KEYS.items()
}


def kind_of(op: Operation) -> str:
    """The input's name for an operation's kind: ``link``, ``delink`` or ``update``."""
    if type(op) is Link:
        return "link"
    return "delink" if type(op) is Delink else "update"


def make_operation(row: Mapping[str, Any], shared: Shared | None = None) -> Operation:
    """The operation a JSONL object (or a CSV row, once read) asks for.

    Raises :class:`InvalidOperationError` naming the key at fault. Equal names of different
    lines are one object (see :class:`Shared`); ``shared`` is kept for its callers.
    """
    kind = row.get("op")
    sets = _SETS.get(kind) if isinstance(kind, str) else None
    if sets is None or not (sets[1].issuperset(row) and sets[0].issubset(row)):
        _refuse(row, kind)  # raises, naming the key at fault
    module, external, fields = row["module"], row.get("external"), row.get("fields")
    last = _LAST[0]
    # Lines of one parent mostly follow each other with the same fields: the last line's
    # objects are taken for equal ones (a comparison costs less than interning), so that
    # the operation finds its parent and fields checked and encoded already (see ``Link``).
    # Only str values are kept as the last ones: equal to one, a value is a str too.
    if fields is not None and fields == last[3]:
        fields = last[3]
    if type(external) is str:
        external = _intern(external)
    if kind == "update":
        if type(module) is str:
            module = _intern(module)
        op: Operation = UpdateRecord(
            module,
            row["record_id"],
            row["fields"] if fields is None else fields,  # a null: refused by name
            external,
            row.get("trigger"),
            row.get("apply_layout_rules", False),
        )
    else:
        record_id, related_list = row["record_id"], row["related_list"]
        if record_id == last[1] and module == last[0] and related_list == last[2]:
            module, record_id, related_list = last[0], last[1], last[2]
        elif type(module) is str and type(record_id) is str and type(related_list) is str:
            module, record_id, related_list = (
                _intern(module), _intern(record_id), _intern(related_list)
            )  # fmt: skip
            _LAST[0] = (module, record_id, related_list, last[3])
        if kind == "link":
            op = Link(module, record_id, related_list, row["related_id"], fields, external)
        else:
            op = Delink(module, record_id, related_list, row["related_id"], external)
    if fields is not last[3] and type(fields) is dict and len(fields) == 1:
        for value in fields.values():  # the operation has accepted it
            if type(value) is str:
                _LAST[0] = (*_LAST[0][:3], fields)
    return op


#: (module, record_id, related_list, fields) of the last line that had them, as str (fields:
#: a one-field dict of a str value), replaced whole (threads checking files at once can only
#: miss it, never see it torn)
_LAST: list[tuple[Any, Any, Any, Any]] = [(None, None, None, None)]
_intern = sys.intern


def _refuse(row: Mapping[str, Any], kind: Any) -> None:
    if not isinstance(kind, str) or kind not in _KEYS:  # a list as "op" is no crash
        raise InvalidOperationError("op", f"expected 'link', 'delink' or 'update', got {kind!r}")
    required, optional = _KEYS[kind]
    for key in row:
        if key != "op" and key not in required and key not in optional:
            allowed = ", ".join(("op", *required, *optional))
            raise InvalidOperationError(key, f"not a key of {kind!r} (expected {allowed})")
    for key in required:
        if key not in row:
            raise InvalidOperationError(key, "missing")
    raise AssertionError(f"no key at fault in {row!r}")  # pragma: no cover


class Shared:
    """Equal values of different lines as one object.

    The client holds up to ``max_buffered`` operations while their calls fill up: when a file's
    parent records are interleaved that is 100,000 operations, each with its own copy of
    ``"Campaigns"``, of its parent's id and of ``{"Member_Status": "Active"}`` as read from
    its line. Sharing them cuts a third of that memory. Operations never change their fields,
    so sharing one map is safe. (:func:`make_operation` interns names itself, and leaves field
    maps to the operations, which keep one copy per content.)
    """

    #: distinct field maps remembered; past it the memory starts again
    LIMIT = 4096

    def __init__(self) -> None:
        self._maps: dict[tuple[Any, ...], Any] = {}

    @staticmethod
    def name(value: Any) -> Any:
        return sys.intern(value) if type(value) is str else value

    def fields(self, value: Any) -> Any:
        if type(value) is not dict or len(value) > 8:
            return value
        # The type is part of the key: {"A": 1} and {"A": True} are equal in Python only; a
        # float is never shared: {"A": 0.0} and {"A": -0.0} are equal, and say other things.
        items = []
        for k, v in value.items():
            kind = type(v)
            if kind is float:
                return value
            items.append((k, kind, v))
        key = tuple(items)
        try:
            found = self._maps.get(key)
        except TypeError:  # a list or a map among the values
            return value
        if found is None:
            if len(self._maps) >= self.LIMIT:
                self._maps.clear()
            found = self._maps[key] = value
        return found


class InputFile:
    """A JSONL or CSV file of operations (CSV when its name ends in ``.csv``)."""

    #: bytes read at a time (a JSONL file is read in blocks, not line by line)
    BLOCK = 1 << 14

    def __init__(self, path: Path) -> None:
        self.path = path
        self.is_csv = path.suffix.lower() == ".csv"

    def operations(
        self,
        skip: Skip | None = None,
        digest: Any = None,
        errors: list[InputError] | None = None,
    ) -> Iterator[tuple[int, Operation]]:
        """``(line number, operation)`` for each line not blank and not ``skip(line)``.

        A bad line raises :class:`InputError`, or, when ``errors`` is a list, is added to it
        and reading goes on (up to :data:`MAX_ERRORS`). ``digest`` (a hashlib object) is fed
        every byte read.
        """
        with self.path.open("rb") as file:
            if self.is_csv:
                yield from _operations(csv_rows(_hashed(file, digest), skip), errors)
            else:
                yield from self._jsonl(file, digest, skip, errors)

    def _jsonl(
        self, file: BinaryIO, digest: Any, skip: Skip | None, errors: list[InputError] | None
    ) -> Iterator[tuple[int, Operation]]:
        # What jsonl_rows and _operations do, in one loop (a layer of generators costs as
        # much a line as orjson), on lines split out of whole blocks: a line is read once, fed
        # to the digest with its block, and tried with orjson before any other check (a blank
        # line is the rare failure).
        loads, failed, number = orjson.loads, orjson.JSONDecodeError, 0
        for lines in _blocks(file, digest, self.BLOCK):
            for line in lines:
                number += 1
                if skip is not None and skip(number):
                    continue
                try:
                    row = loads(line)
                except failed:
                    if not line.strip():
                        continue
                    row = None
                if type(row) is not dict or not plain_row(row):
                    row = jsonl_row(number, line)
                    if type(row) is not dict:
                        assert isinstance(row, InputError)
                        if _stop_at(row, errors):
                            return
                        continue
                try:
                    op = make_operation(row)
                except InvalidOperationError as exc:
                    if _stop_at(InputError(number, exc.field, exc.problem), errors):
                        return
                    continue
                yield number, op


def _operations(
    rows: Iterator[tuple[int, Row]], errors: list[InputError] | None
) -> Iterator[tuple[int, Operation]]:
    try:
        for number, row in rows:
            if type(row) is dict:
                try:
                    yield number, make_operation(row)
                    continue
                except InvalidOperationError as exc:
                    error = InputError(number, exc.field, exc.problem)
            else:
                assert isinstance(row, InputError)
                error = row
            if _stop_at(error, errors):
                return
    except InputError as error:  # the file cannot be read on (not UTF-8 in a CSV)
        if errors is None:
            raise
        errors.append(error)


def _stop_at(error: InputError, errors: list[InputError] | None) -> bool:
    """Raise ``error``, or add it to ``errors``; whether they are now too many to go on."""
    if errors is None:
        raise error
    errors.append(error)
    return len(errors) >= MAX_ERRORS


def new_digest() -> Any:
    return hashlib.sha256()


def _blocks(file: BinaryIO, digest: Any, size: int) -> Iterator[list[bytes]]:
    """The file's lines (without their newline), a block's worth at a time."""
    tail = b""
    while True:
        block = file.read(size)
        if not block:
            break
        if digest is not None:
            digest.update(block)
        lines = block.split(b"\n")
        lines[0] = tail + lines[0]
        tail = lines.pop()
        yield lines
    if tail:  # the last line, without a newline
        yield [tail]


def _hashed(file: BinaryIO, digest: Any) -> Iterator[bytes]:
    if digest is None:
        yield from file
        return
    for raw in file:
        digest.update(raw)
        yield raw
