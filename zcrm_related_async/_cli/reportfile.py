"""The job's report: one line per input line, JSONL (or CSV when the name ends in ``.csv``).

Each record says what became of one input line: ``line`` (its 1-based number in the input),
``status``, ``code``, ``message``, ``details``, ``http_status`` and ``attempts``. Records are
written in the order outcomes arrive, not in input order: ``line`` is the key. What is written
is handed to the operating system after each batch of outcomes, so a crash leaves every record
written so far whole.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson

from .._report import Result

FIELDS = ("line", "status", "code", "message", "details", "http_status", "attempts")

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def record(line: int, result: Result) -> dict[str, Any]:
    """The report record of one input line."""
    return {
        "line": line,
        "status": result.status,
        "code": result.code,
        "message": result.message,
        "details": dict(result.details),
        "http_status": result.http_status,
        "attempts": result.attempts,
    }


def to_json(data: Mapping[str, Any]) -> str:
    """One compact JSON line (with its newline): orjson (0.5 us a record where the stdlib
    encoder takes 4), the stdlib for what orjson refuses (keys not str, ints past 64 bits)."""
    return to_json_bytes(data).decode()


def to_json_bytes(data: Mapping[str, Any]) -> bytes:
    """:func:`to_json` as UTF-8, as it is written."""
    try:
        return orjson.dumps(data, default=str, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (_encoder.encode(data) + "\n").encode()


def encoded_outcome(line: int, kind: str, result: Result) -> tuple[bytes, bytes]:
    """The report line of ``record(line, result)`` and the journal line of its entry (the
    same with the operation's ``kind`` after ``line``), encoded together: what follows
    ``line`` (and ``op``) is encoded once for both."""
    details = result.details
    tail = to_json_bytes(
        {
            "status": result.status,
            "code": result.code,
            "message": result.message,
            "details": details if type(details) is dict else dict(details),
            "http_status": result.http_status,
            "attempts": result.attempts,
        }
    )[1:]  # without its "{"
    return b'{"line":%d,' % line + tail, b'{"line":%d,"op":"%s",' % (line, kind.encode()) + tail


def encoded_alike(
    lines: list[int], kind: str, result: Result, ids: list[str] | None
) -> tuple[list[bytes], list[bytes]]:
    """:func:`encoded_outcome` of each of ``lines``, whose results are ``result`` but for
    their ``details``: ``{key: ids[i]}`` for line ``i`` (the key ``result``'s details have),
    or the same as ``result``'s when ``ids`` is None. The rest is encoded once for all."""
    if ids is None:
        report, journal = encoded_outcome(0, kind, result)
        report, journal = report[len(b'{"line":0,') :], journal[len(b'{"line":0,') :]
        return (
            [b'{"line":%d,%s' % (line, report) for line in lines],
            [b'{"line":%d,%s' % (line, journal) for line in lines],
        )
    (key,) = result.details
    head = to_json_bytes({"status": result.status, "code": result.code, "message": result.message})
    head = head[1:-2] + b',"details":{' + orjson.dumps(key) + b":"  # without "{" and "}\n"
    tail = (
        b"}," + to_json_bytes({"http_status": result.http_status, "attempts": result.attempts})[1:]
    )
    dumps, op = orjson.dumps, b'"op":"%s",' % kind.encode()
    # orjson takes every id: an operation refuses one that is not UTF-8 (a lone surrogate).
    encoded = [head + dumps(ident) + tail for ident in ids]
    return (
        [b'{"line":%d,%s' % (line, rest) for line, rest in zip(lines, encoded, strict=True)],
        [b'{"line":%d,%s%s' % (line, op, rest) for line, rest in zip(lines, encoded, strict=True)],
    )


class LineFile:
    """A file written whole lines at a time: :meth:`flush` hands everything written since the
    last flush to the OS in one ``write``, so a process killed at any moment (``kill -9``)
    leaves no half line behind, as a buffered file flushing mid-line would.

    The file is cut to its first ``keep`` bytes, and written on from there.
    """

    #: bytes held before they are written anyway (at a line's end)
    LIMIT = 1 << 18

    def __init__(self, path: Path, keep: int = 0) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        os.ftruncate(self._fd, keep)
        os.lseek(self._fd, keep, os.SEEK_SET)
        self._pending: list[bytes] = []
        self._held = 0

    def write(self, text: str) -> None:
        self.write_bytes(text.encode())

    def write_bytes(self, data: bytes) -> None:
        """:meth:`write` of text already encoded (UTF-8)."""
        self._pending.append(data)
        self._held += len(data)
        if self._held >= self.LIMIT:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        data = memoryview(b"".join(self._pending))
        self._pending.clear()
        self._held = 0
        while data:
            data = data[os.write(self._fd, data) :]

    def sync(self) -> None:
        """Flush, and force what is written to disk."""
        self.flush()
        os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
            self._fd = -1


class ReportFile:
    """Appends records to a report file; :meth:`flush` hands them to the operating system."""

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        self.is_csv = path.suffix.lower() == ".csv"
        size = path.stat().st_size if append and path.exists() else 0
        self._file = LineFile(path, keep=size)
        self._csv = csv.writer(self._file) if self.is_csv else None
        if self._csv is not None and size == 0:
            self._csv.writerow(FIELDS)
        self.written = 0

    def write(self, rec: Mapping[str, Any]) -> None:
        if self._csv is None:
            self._file.write_bytes(to_json_bytes({name: rec.get(name) for name in FIELDS}))
        else:
            self._csv.writerow(_csv_cells(rec))
        self.written += 1

    def write_lines(self, lines: list[bytes]) -> None:
        """Write records already encoded, each one JSON line (``encoded_outcome``); for a
        JSONL report only (a CSV report's records go through :meth:`write`)."""
        if lines:
            assert self._csv is None
            self._file.write_bytes(b"".join(lines))
            self.written += len(lines)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        """Flush, force to disk and close."""
        self._file.close()


def _csv_cells(rec: Mapping[str, Any]) -> list[Any]:
    details = rec.get("details")
    status = rec.get("http_status")
    return [
        rec.get("line"),
        rec.get("status"),
        rec.get("code"),
        rec.get("message"),
        _encoder.encode(details) if details else "",
        "" if status is None else status,
        rec.get("attempts"),
    ]


def rewrite(path: Path, records: Iterable[Mapping[str, Any]]) -> int:
    """Replace the report with ``records``, atomically: a crash leaves the old one or the new.

    Returns how many records it holds.
    """
    temporary = path.with_name(path.name + ".partial")
    report = ReportFile(temporary)
    try:
        for rec in records:
            report.write(rec)
    finally:
        report.close()
    os.replace(temporary, path)
    return report.written
