"""Lines of the input as rows, JSONL or CSV: each row is the line's keys and values, or the
:class:`InputError` that says why the line is none. Turning rows into operations is ``lines``'s.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeAlias

import orjson

from .._exceptions import InvalidOperationError
from .words import counted

#: CSV columns that are not fields of the record or relation
CSV_COLUMNS = (
    "op",
    "module",
    "record_id",
    "related_list",
    "related_id",
    "external",
    "trigger",
    "apply_layout_rules",
    "fields",
)
_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})

Skip = Callable[[int], bool]
#: a check of the input stops after this many bad lines
MAX_ERRORS = 20


class InputError(ValueError):
    """A line of the input is not an operation; says which line, which field and why."""

    def __init__(self, line: int, field: str | None, problem: str) -> None:
        self.line = line
        self.field = field
        self.problem = problem
        super().__init__(f"line {line}: {field}: {problem}" if field else f"line {line}: {problem}")


Row: TypeAlias = "dict[str, Any] | InputError"


def jsonl_rows(raw: Iterator[bytes], skip: Skip | None) -> Iterator[tuple[int, Row]]:
    for number, line in enumerate(raw, 1):
        if (skip is not None and skip(number)) or not line.strip():
            continue
        yield number, jsonl_row(number, line)


def jsonl_row(number: int, line: bytes) -> Row:
    """The row on one line of JSONL (not blank), or why there is none."""
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError:
        row = None  # the stdlib says why, or reads what orjson refuses (NaN, a BOM, UTF-16)
    if type(row) is not dict or not plain_row(row):
        try:
            row = json.loads(line)
        except UnicodeDecodeError:
            return InputError(number, None, "not UTF-8 text")
        except ValueError as exc:
            return InputError(number, None, f"not valid JSON: {exc}")
    if not isinstance(row, dict):
        return InputError(number, None, f"expected a JSON object, got {type(row).__name__}")
    return row


_EXACT = frozenset({str, int, bool, type(None)})


def plain_row(row: dict[str, Any]) -> bool:
    """Whether orjson read ``row`` exactly as the stdlib would: it reads an integer past 64
    bits as a float, so a row holding numbers not int (or nested deeper than a map of fields
    or a list of triggers) is read again by the stdlib. Lines of ids and text never are."""
    exact = _EXACT
    for value in row.values():
        kind = type(value)
        if kind in exact:
            continue
        if kind is dict:
            for item in value.values():
                if type(item) not in exact:
                    return False
        elif kind is list:
            for item in value:
                if type(item) is not str:
                    return False
        else:
            return False
    return True


def _decoded(raw: Iterator[bytes]) -> Iterator[str]:
    for number, line in enumerate(raw, 1):
        try:
            # utf-8-sig on the first line drops the byte-order mark spreadsheets write.
            yield line.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise InputError(number, None, "not UTF-8 text") from None


def csv_rows(raw: Iterator[bytes], skip: Skip | None) -> Iterator[tuple[int, Row]]:
    reader = csv.reader(_decoded(raw))
    header = next(reader, None)
    if header is None:
        return
    header = [name.strip() for name in header]
    _check_header(header)
    end = reader.line_num
    for record in reader:
        # A record may span lines (a quoted newline): it is named by the line it starts on.
        number, end = end + 1, reader.line_num
        if not any(cell.strip() for cell in record) or (skip is not None and skip(number)):
            continue
        if len(record) != len(header):
            problem = (
                f"expected {counted(len(header), 'column')} as in the header, got {len(record)}"
            )
            yield number, InputError(number, None, problem)
            continue
        try:
            yield number, _csv_row(header, record)
        except InvalidOperationError as error:
            yield number, InputError(number, error.field, error.problem)


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if not name:
            raise InputError(1, None, "the header has an empty column name")
        if name in seen:
            raise InputError(1, name, "this column appears twice in the header")
        seen.add(name)
    if "op" not in seen:
        raise InputError(1, "op", "the header has no 'op' column")


def _csv_row(header: list[str], record: list[str]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for name, cell in zip(header, record, strict=True):
        if cell == "":
            continue  # mixed files leave the columns of other kinds empty
        if name == "fields":
            extra = _json_cell(cell, name)
            if not isinstance(extra, dict):
                raise InvalidOperationError(name, "expected a JSON object of field values")
            fields.update(extra)
        elif name == "trigger":
            row[name] = _trigger_cell(cell)
        elif name == "apply_layout_rules":
            row[name] = _bool_cell(cell, name)
        elif name in CSV_COLUMNS:
            row[name] = cell.strip()
        elif name in fields:
            raise InvalidOperationError(name, "given both as a column and in 'fields'")
        else:
            fields[name] = cell
    if fields:
        if row.get("op") == "delink":
            raise InvalidOperationError(
                next(iter(fields)), "a delink takes no fields: leave this column empty"
            )
        row["fields"] = fields
    return row


def _json_cell(cell: str, name: str) -> Any:
    try:
        return json.loads(cell)
    except ValueError as exc:
        raise InvalidOperationError(name, f"not valid JSON: {exc}") from None


def _trigger_cell(cell: str) -> list[str]:
    """``[]`` or ``["workflow"]`` (JSON), or names separated by ``;`` or ``,``."""
    if cell.lstrip().startswith("["):
        value = _json_cell(cell, "trigger")
        if not isinstance(value, list):
            raise InvalidOperationError("trigger", "expected a JSON list")
        return value
    return [name.strip() for name in cell.replace(";", ",").split(",") if name.strip()]


def _bool_cell(cell: str, name: str) -> bool:
    value = cell.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidOperationError(name, f"expected true or false, got {cell!r}")
