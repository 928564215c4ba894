"""The journal: what each input line came to, on disk, so a job killed at any moment (``kill -9``
included) resumes where it was when started again with the same command.

Format: JSON Lines, UTF-8, append-only. The first line is the header, naming the input by its
SHA-256 so a journal never resumes a job over another file::

    {"journal":"zcrm-related","format":1,"input":"/data/ops.jsonl","sha256":"9f2c…",
     "lines":1000000,"created":"2025-01-31T09:00:00+00:00"}      (on one line)

then one entry per input line that has a final outcome, in the order outcomes came: the
report's record plus the operation's kind::

    {"line":17,"op":"link","status":"success","code":"SUCCESS","message":"relation added",
     "details":{"id":"…"},"http_status":200,"attempts":1}      (on one line)

Only final outcomes get an entry: a success, or Zoho's own verdict on the record or the call
(see ``final.is_final``). Every other line is sent again by the next run: those the job never
sent (``NOT_ATTEMPTED``, ``API_CREDITS_EXHAUSTED``), those that met an outage or a bad network
(``CONNECTION_ERROR``, ``TIMEOUT``, 5xx, 429, ``UNREADABLE_RESPONSE``, ``LIMITER_UNAVAILABLE``,
the outage's give-up), those refused for the credentials rather than for the record
(``AUTH_FAILED``, ``INVALID_TOKEN`` ...: fix them, run again) and those whose call was in
flight when the job stopped (``CANCELLED``: Zoho may or may not have applied them; every
operation here is safe to repeat).

``--retry-failed`` makes the lines whose final outcome was an error not done again: the
journal is rewritten without their entries (atomically, as the report) before anything is
sent, so it keeps at most one entry per line.

Durability: the header is fsync'd (with its directory) before the first request. Entries are
handed to the operating system after each batch of outcomes, before the report's records, so
``kill -9`` loses none; they are fsync'd at most once a second and at the end, so a power cut
loses at most the last second, which is then sent again. A torn last line (a kill in the middle
of a write) is dropped on resume; damage anywhere else stops the job with a message.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from .reportfile import LineFile, to_json_bytes

MAGIC = "zcrm-related"
FORMAT = 1
#: fsync at most this often while a job runs
SYNC_EVERY = 1.0

Entry = dict[str, Any]
_PREFIX = b'{"journal":"zcrm-related"'


class JournalError(Exception):
    """The journal cannot be used: not a journal, of a newer format, or damaged."""


@attrs.define
class Previous:
    """What an existing journal says."""

    header: dict[str, Any]
    #: ``done[line]`` is 1 when the line has a final outcome, 2 when it is a failure the job
    #: sends again (``--retry-failed``)
    done: bytearray
    entries: int
    #: bytes of the header and every whole entry: a torn tail after it is dropped
    size: int

    def is_done(self, line: int) -> bool:
        return line < len(self.done) and self.done[line] == 1

    @property
    def retried(self) -> int:
        """Lines with a failure in the journal, to be sent again."""
        return self.done.count(2)


def header(input_path: Path, sha256: str, lines: int) -> dict[str, Any]:
    return {
        "journal": MAGIC,
        "format": FORMAT,
        "input": str(input_path.resolve()),
        "sha256": sha256,
        "lines": lines,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def read(
    path: Path, on_entry: Callable[[Entry], None] | None = None, retry_failed: bool = False
) -> Previous | None:
    """The journal at ``path``, or None if there is none yet (or only a torn header: nothing
    was sent before the header was on disk). Calls ``on_entry`` with each entry (but those
    of failures, with ``retry_failed``: those lines are not done)."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return None
    with file:
        first = file.readline()
        head = _parse(first) if first.endswith(b"\n") else None
        if head is None:
            # Only an empty file or the start of our own header counts as "no journal yet":
            # anything else is someone's file, which must not be overwritten.
            if first.endswith(b"\n") or not (
                _PREFIX.startswith(first) or first.startswith(_PREFIX)
            ):
                raise JournalError(f"{path} is not a zcrm-related journal")
            return None
        if head.get("journal") != MAGIC:
            raise JournalError(f"{path} is not a zcrm-related journal")
        if head.get("format") != FORMAT:
            raise JournalError(
                f"{path} is a journal of format {head.get('format')!r}, not {FORMAT}"
            )
        previous = Previous(head, bytearray(), 0, len(first))
        torn_at: int | None = None
        for number, raw in enumerate(file, 2):
            entry = _entry(raw)
            if entry is None:
                torn_at = torn_at or number
                continue
            if torn_at is not None:  # a whole entry after a damaged one: not a torn tail
                raise JournalError(f"{path}: line {torn_at} is damaged")
            _mark(previous.done, entry["line"])
            previous.entries += 1
            previous.size += len(raw)
            if retry_failed and entry["status"] != "success":
                previous.done[entry["line"]] = 2
            elif on_entry is not None:
                on_entry(entry)
        return previous


def entries(path: Path, size: int) -> Iterator[Entry]:
    """The entries in the first ``size`` bytes of the journal (every whole one), each once."""
    seen = bytearray()
    with path.open("rb") as file:
        file.readline()
        left = size - file.tell()
        for raw in file:
            left -= len(raw)
            if left < 0:
                break
            entry = _entry(raw)
            if entry is not None and _mark(seen, entry["line"]):
                yield entry


def drop_retried(path: Path, previous: Previous) -> Previous:
    """Rewrite the journal without the entries of the lines to send again, atomically (a
    crash leaves the old journal or the new); return what the new one says."""
    temporary = path.with_name(path.name + ".partial")
    kept = LineFile(temporary)
    try:
        with path.open("rb") as file:
            head = file.readline()
            kept.write_bytes(head)
            size = len(head)
            for raw in file:
                size += len(raw)
                if size > previous.size:
                    break  # a torn tail
                entry = _entry(raw)
                if entry is not None and previous.done[entry["line"]] == 1:
                    kept.write_bytes(raw)
    finally:
        kept.close()
    os.replace(temporary, path)
    _sync_directory(path)
    again = read(path)
    if again is None:  # it was written whole just now
        raise JournalError(f"{path}: rewriting it failed")
    return again


class JournalWriter:
    """Appends entries; :meth:`flush` hands them to the OS, and forces them to disk when the
    last time is a second ago."""

    def __init__(self, file: LineFile) -> None:
        self._file = file
        self._synced = time.monotonic()

    @classmethod
    def create(cls, path: Path, head: dict[str, Any]) -> JournalWriter:
        writer = cls(LineFile(path))
        writer.write(head)
        writer.sync()
        _sync_directory(path)  # so the file itself survives a crash
        return writer

    @classmethod
    def resume(cls, path: Path, size: int) -> JournalWriter:
        return cls(LineFile(path, keep=size))  # a torn last line is cut off

    def write(self, entry: Entry) -> None:
        self._file.write_bytes(to_json_bytes(entry))

    def write_lines(self, lines: list[bytes]) -> None:
        """Append entries already encoded, each one JSON line (``encoded_outcome``)."""
        if lines:
            self._file.write_bytes(b"".join(lines))

    def flush(self) -> None:
        self._file.flush()
        if time.monotonic() - self._synced >= SYNC_EVERY:
            self.sync()

    def sync(self) -> None:
        self._file.sync()
        self._synced = time.monotonic()

    def close(self) -> None:
        self._file.close()


def _parse(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _entry(raw: bytes) -> Entry | None:
    if not raw.endswith(b"\n"):
        return None
    entry = _parse(raw)
    if entry is None:
        return None
    line = entry.get("line")
    if isinstance(line, bool) or not isinstance(line, int) or line < 1:
        return None
    if not isinstance(entry.get("status"), str) or not isinstance(entry.get("code"), str):
        return None
    return entry


def _mark(done: bytearray, line: int) -> bool:
    """Mark ``line`` done; False if it already was."""
    if line >= len(done):
        done.extend(bytes(max(line + 1 - len(done), len(done))))  # grow by doubling
    if done[line]:
        return False
    done[line] = 1
    return True


def _sync_directory(path: Path) -> None:
    try:
        fd = os.open(path.resolve().parent, os.O_RDONLY)
    except OSError:  # not possible everywhere (Windows); the file's own fsync still holds
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
