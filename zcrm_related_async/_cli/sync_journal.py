"""The journal of ``zcrm-related sync --apply --journal``: ``run``'s journal (see :mod:`.journal`:
same header, same entries for input lines, same durability), plus entries for delinks.

The header also says ``"command":"sync"`` and the input's ``"last_line"``. A delink has no input
line, so it gets a number past the input's last line, kept in the entry's ``line`` (so the
journal stays readable by :func:`journal.read`), and its entries say which record it is in
``details.delink``::

    {"line":1001,"op":"delink","status":"pending","code":"DELINK_SENT",...,
     "details":{"delink":{"module":"Campaigns","record_id":"…","related_list":"Leads",
     "related_id":"…"}}}                                              (on one line)

A ``pending`` entry is written (and handed to the OS) *before* the delink is sent; its outcome,
once final, follows under the same number. So a job killed while a delink was in flight knows
of it when resumed: if the list no longer holds the record, that earlier run delinked it
(``DELINKED_EARLIER``); if it still does, it is delinked again under the same number. Either way
the record gets one report line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs

from . import journal as journals
from .sync_input import ParentKey
from .sync_plan import Slot

Entry = dict[str, Any]
#: the status of a delink sent (or about to be) whose outcome is not known yet
PENDING = "pending"
DELINK_SENT = "DELINK_SENT"


@attrs.define
class SyncPrevious:
    """What an existing sync journal says."""

    previous: journals.Previous
    #: every delink it knows, by parent and related id
    delinks: dict[ParentKey, dict[str, Slot]]
    #: the number the next new delink gets
    next_number: int

    def is_done(self, line: int) -> bool:
        """Whether an input line has a final outcome."""
        return self.previous.is_done(line)


def header(input_path: Path, sha256: str, lines: int, last_line: int) -> Entry:
    head = journals.header(input_path, sha256, lines)
    head.update(command="sync", last_line=last_line)
    return head


def read(path: Path, on_final: Callable[[Entry], None]) -> SyncPrevious | None:
    """The sync journal at ``path`` (None if there is none yet); calls ``on_final`` with each
    final entry (its first, for a line or a delink)."""
    previous = journals.read(path)  # checks the header and finds a torn tail
    if previous is None:
        return None
    if previous.header.get("command") != "sync":
        raise journals.JournalError(f"{path} is the journal of a 'run' job, not of a 'sync'")
    last = previous.header.get("last_line")
    if isinstance(last, bool) or not isinstance(last, int):
        raise journals.JournalError(f"{path}: its header has no last_line")
    delinks: dict[ParentKey, dict[str, Slot]] = {}
    top = last
    for entry in final_entries(path, previous.size, delinks):
        on_final(entry)
    for slots in delinks.values():
        for slot in slots.values():
            top = max(top, slot.number)
    return SyncPrevious(previous, delinks, top + 1)


def final_entries(
    path: Path, size: int, delinks: dict[ParentKey, dict[str, Slot]] | None = None
) -> Iterator[Entry]:
    """The final entries in the first ``size`` bytes, each line's and each delink's first;
    ``delinks`` (if given) is filled with every delink, pending or final."""
    seen_lines: set[int] = set()
    slots = {} if delinks is None else delinks
    with path.open("rb") as file:
        left = size - len(file.readline())
        for raw in file:
            left -= len(raw)
            if left < 0:
                break
            entry = json.loads(raw)
            number = entry["line"]
            if entry.get("op") == "delink":
                where = entry["details"]["delink"]
                key: ParentKey = (
                    where["module"],
                    where["record_id"],
                    where["related_list"],
                    where.get("external"),
                )
                known = slots.setdefault(key, {})
                before = known.get(where["related_id"])
                if before is not None and before.final:
                    continue
                final = entry["status"] != PENDING
                known[where["related_id"]] = Slot(number, final)
                if final:
                    yield entry
            elif number not in seen_lines:
                seen_lines.add(number)
                yield entry


def delink_place(key: ParentKey, related_id: str) -> dict[str, str]:
    """``details.delink``: which record of which list a delink line is about."""
    module, record_id, related_list, external = key
    place = {
        "module": module,
        "record_id": record_id,
        "related_list": related_list,
        "related_id": related_id,
    }
    if external is not None:
        place["external"] = external
    return place


def pending(number: int, key: ParentKey, related_id: str) -> Entry:
    """The entry written before a delink is sent."""
    return {
        "line": number,
        "op": "delink",
        "status": PENDING,
        "code": DELINK_SENT,
        "message": "delink sent; its outcome is not known yet",
        "details": {"delink": delink_place(key, related_id)},
        "http_status": None,
        "attempts": 0,
    }
