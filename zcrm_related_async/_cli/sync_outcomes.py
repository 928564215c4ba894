"""Where a sync's outcomes go: the report (one line per input line, one per record delinked),
the journal (the final ones) and the tally the summary and the progress count.

Report lines are ``run``'s records (:func:`reportfile.record`). A delink has no input line: its
record's ``line`` is ``null`` (an empty cell in CSV) and its ``details.delink`` names the
record (``module``, ``record_id``, ``related_list``, ``related_id``, and ``external`` when the
line gave one), next to Zoho's own details.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._ops import Delink, Link
from .._report import ERROR, SUCCESS, Result
from .._sets import UNCHANGED
from . import journal as journals
from . import sync_journal
from .final import is_final
from .progress import Tally
from .reportfile import ReportFile, record, rewrite
from .sync_input import Parent, Targets
from .sync_plan import Slot


class Outcomes:
    """Writes each outcome once: to the report, to the journal when final, to the tally."""

    def __init__(self) -> None:
        self.tally = Tally()
        #: input lines with an outcome, those the journal held included (the progress)
        self.lines_done = 0
        #: outcomes of this run that are not final (the next run tries them again)
        self.not_final = 0
        self.previous: sync_journal.SyncPrevious | None = None
        self._journal: journals.JournalWriter | None = None
        self._report: ReportFile | None = None
        self._next_number = 0

    def read_journal(self, path: Path) -> int:
        """What the journal holds (JournalError, OSError ... if it cannot be used); returns
        how many outcomes it holds."""

        def final(entry: sync_journal.Entry) -> None:
            self.tally.add(str(entry.get("op", "?")), entry["status"], entry["code"])
            self.lines_done += entry.get("op") != "delink"

        self.previous = sync_journal.read(path, final)
        return self.tally.done

    def done(self, line: int) -> bool:
        """Whether an input line has a final outcome in the journal (it keeps it)."""
        return self.previous is not None and self.previous.is_done(line)

    def known(self, parent: Parent) -> Mapping[str, Slot]:
        """The delinks the journal holds for a parent."""
        return self.previous.delinks.get(parent.key, {}) if self.previous is not None else {}

    def open(self, report: Path, journal: Path | None, input_path: Path, targets: Targets,
             sha256: str) -> None:  # fmt: skip
        """Create (or, resuming, reopen) the journal, and the report: rebuilt from the journal
        when resuming, as ``run`` does, so it holds every final outcome once."""
        previous = self.previous
        self._next_number = targets.last_line + 1
        if journal is not None:
            if previous is None:
                head = sync_journal.header(input_path, sha256, targets.lines, targets.last_line)
                self._journal = journals.JournalWriter.create(journal, head)
            else:
                self._next_number = previous.next_number
                size = previous.previous.size
                self._journal = journals.JournalWriter.resume(journal, size)
                rewrite(report, map(_as_record, sync_journal.final_entries(journal, size)))
        self._report = ReportFile(report, append=previous is not None)

    def number_delinks(self, parent: Parent, related_ids: list[str]) -> list[int]:
        """The numbers of the delinks about to be sent: a known one keeps its own; a new one
        gets the next, and a pending entry in the journal, handed to the OS before it goes."""
        known = self.known(parent)
        numbers = []
        for rid in related_ids:
            slot = known.get(rid)
            if slot is None:
                slot = Slot(self._next_number, False)
                self._next_number += 1
                if self._journal is not None:
                    self._journal.write(sync_journal.pending(slot.number, parent.key, rid))
            numbers.append(slot.number)
        self.flush()
        return numbers

    def line(self, line: int, result: Result, final: bool | None = None) -> None:
        """An input line's outcome; ``final`` forces (else ``final.is_final`` decides)."""
        rec = record(line, result)
        final = is_final(result) if final is None else final
        if self._journal is not None and final:
            entry = {"line": line, "op": "link"}
            entry.update(rec)
            self._journal.write(entry)
        self._write(rec, "link", result, final)
        self.lines_done += 1

    def delink(
        self,
        parent: Parent,
        number: int,
        related_id: str,
        result: Result,
        final: bool | None = None,
    ) -> None:
        """A delink's outcome, under its number."""
        rec = record(0, result)
        rec["line"] = None
        rec["details"]["delink"] = sync_journal.delink_place(parent.key, related_id)
        final = is_final(result) if final is None else final
        if self._journal is not None and final:
            entry: dict[str, Any] = {"line": number, "op": "delink"}
            entry.update((k, v) for k, v in rec.items() if k != "line")
            self._journal.write(entry)
        self._write(rec, "delink", result, final)

    def refuse(self, parent: Parent, code: str, message: str, http_status: int | None,
               details: dict[str, Any]) -> None:  # fmt: skip
        """A parent that changes nothing: each of its lines not done, and each delink of an
        earlier run whose outcome is not known, gets this error, not final."""
        module, record_id, related_list, external = parent.key
        for line, rid in parent.items():
            if not self.done(line):
                failed = Result(parent.link(rid), ERROR, code, message, details, http_status)
                self.line(line, failed, final=False)
        for rid, slot in self.known(parent).items():
            if not slot.final:
                op = Delink(module, record_id, related_list, rid, external)
                failed = Result(op, ERROR, code, message, details, http_status)
                self.delink(parent, slot.number, rid, failed, final=False)

    def _write(self, rec: dict[str, Any], kind: str, result: Result, final: bool) -> None:
        self.not_final += not final
        assert self._report is not None
        self._report.write(rec)
        self.tally.add(kind, result.status, result.code)

    def flush(self) -> None:
        if self._journal is not None:  # the journal first: the report is rebuilt from it
            self._journal.flush()
        if self._report is not None:
            self._report.flush()

    def close(self) -> None:
        for closing in (self._journal, self._report):
            if closing is not None:
                closing.close()


def unchanged(op: Link) -> Result:
    """A line that needed no call."""
    message = "already related with these values: nothing sent"
    return Result(op, SUCCESS, UNCHANGED, message, {"id": op.related_id})


def _as_record(entry: sync_journal.Entry) -> dict[str, Any]:
    """The report record of a journal entry: a delink's ``line`` is null."""
    if entry.pop("op", None) == "delink":
        entry["line"] = None
    return entry
