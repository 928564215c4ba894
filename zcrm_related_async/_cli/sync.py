"""``zcrm-related sync``: make every related list a file names hold exactly the file's lines.

The whole input is read and checked first (a bad line exits 2, nothing read or sent), grouped
by parent (:mod:`.sync_input`). Then each parent's list is read and diffed against its lines
(:mod:`.sync_plan`, over ``set_related``'s own diff) and, with ``--apply``, its links, updates
and delinks go out through the client's ``run()``. Parents are worked on concurrently, at most
twice the client's concurrency at once (so the reads and changes keep the client's slots busy
while only that many current lists are held); the client's limiter bounds the calls.

Why not ``set_related`` per parent: a resumable job must leave out the lines the journal holds
a final outcome for, journal each delink before it is sent, and count links apart from
updates for the plan. Those need the read and the send apart; the diff and the safety check
are ``set_related``'s, unchanged.

A parent whose read fails, or whose plan would delink more than ``--max-remove`` allows,
changes nothing: its lines get that error as their outcome (not final: the next run reads it
again), the other parents go on, and the exit code is 1.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

import attrs

from .._client import AsyncClient
from .._diff import CurrentList
from .._exceptions import (
    AuthError,
    RelatedReadError,
    TooManyRemovalsError,
    ZohoError,
)
from .._ops import Delink, Operation
from .._report import AUTH_FAILED, SUCCESS, Report, Result
from . import journal as journals
from .command import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Command, UsageError
from .lines import InputFile, new_digest
from .progress import Progress, summary
from .rows import MAX_ERRORS, InputError
from .sync_input import Parent, Stopped, Targets, read_targets
from .sync_outcomes import Outcomes, unchanged
from .sync_plan import DELINKED_EARLIER, Table, plan_parent
from .words import counted

#: the code of a parent's lines when its plan would delink more than --max-remove allows
TOO_MANY_REMOVALS = "TOO_MANY_REMOVALS"


@attrs.frozen
class SyncOptions:
    """What ``zcrm-related sync`` was asked to do (``client``: :class:`AsyncClient`'s
    arguments, credentials included)."""

    input: Path
    report: Path | None
    journal: Path | None
    client: Mapping[str, Any]
    apply: bool = False
    max_remove: float = 0.5
    progress: str = "auto"
    progress_every: float = 5.0
    grace: float = 30.0


async def run_sync(options: SyncOptions, out: TextIO, err: TextIO) -> int:
    """Plan (or, with ``apply``, carry out) one sync; return the command's exit code."""
    return await _Sync(options, out, err).run()


class _Sync(Command):
    def __init__(self, options: SyncOptions, out: TextIO, err: TextIO) -> None:
        super().__init__(out, err, options.grace)
        self.options = options
        self.outcomes = Outcomes()
        self.table = Table()
        self._stop = threading.Event()  # tells the thread reading the input to stop

    def interrupt(self) -> None:
        """Start no new parent; those under way finish (see ``process.GracefulStop``)."""
        super().interrupt()
        self._stop.set()

    def _close(self) -> None:
        self.outcomes.close()

    async def _run(self) -> int:
        options = self.options
        resumed = self._read_journal()
        found = await self._check()
        if found is None:
            return self.exit_interrupted if self.interrupted else EXIT_USAGE
        targets, sha256 = found
        client, session = await self._client(options.client)
        if options.apply:
            assert options.report is not None  # sync_options() asks for one with --apply
            self.outcomes.open(options.report, options.journal, options.input, targets, sha256)
        name = options.input.name
        if options.progress != "off":
            doing = "syncing" if options.apply else "planning"
            lines = counted(targets.lines, "line")
            self.say(f"{doing} {counted(len(targets.parents), 'parent')} of {name} ({lines})")
        started = time.monotonic()
        try:
            finished = await self._all(client, targets)
        finally:
            await client.close()
            await session.close()
        print(self.table.describe(name, len(targets.parents), targets.lines), file=self.out)
        outcomes = self.outcomes
        if not options.apply:
            print("plan only: nothing was changed (--apply carries it out)", file=self.out)
        else:
            assert options.report is not None
            seconds = time.monotonic() - started
            report = str(options.report.resolve())
            tally, calls = outcomes.tally, self.calls
            print(summary(tally, report, calls, seconds, resumed, not finished), file=self.out)
        not_final = outcomes.not_final and (
            f"{outcomes.not_final:,} outcomes are not final (a read that failed, a "
            "parent refused, Zoho unreachable ...): run the same command again to go on"
        )
        code = self._ending(
            outcomes.tally, not_final or None, options.journal is not None, finished
        )
        failed = self.table.unread or self.table.refused
        return EXIT_FAILED if code == EXIT_OK and failed else code

    def _read_journal(self) -> int:
        """Read the journal if there is one; returns how many outcomes it holds."""
        path = self.options.journal
        if path is None:
            return 0
        try:
            return self.outcomes.read_journal(path)
        except (journals.JournalError, OSError, ValueError, KeyError, TypeError) as error:
            raise UsageError(f"cannot resume from the journal {path}: {error}") from None

    async def _check(self) -> tuple[Targets, str] | None:
        """Read and check every line; the targets and the file's SHA-256, or None (said why)."""
        errors: list[InputError] = []
        digest = new_digest()
        source = InputFile(self.options.input)
        targets = Targets()
        options = self.options
        progress = Progress(
            self.err, options.progress, options.progress_every, "checked", lambda: targets.lines
        )
        progress.start()
        try:
            await asyncio.to_thread(read_targets, source, errors, digest, self._stop, targets)
        except Stopped:
            self.say("zcrm-related: interrupted while checking the input; nothing was sent")
            return None
        except OSError as error:
            raise UsageError(f"cannot read {self.options.input}: {error}") from None
        finally:
            await progress.stop()
        name = self.options.input.name
        if errors:
            for bad in errors:
                self.say(f"{name}:{bad}")
            more = " (and maybe more)" if len(errors) >= MAX_ERRORS else ""
            count = counted(len(errors), "bad line")
            self.say(f"zcrm-related: {count}{more} in {name}; nothing was read or sent")
            return None
        sha256 = digest.hexdigest()
        previous = self.outcomes.previous
        if previous is not None and previous.previous.header.get("sha256") != sha256:
            raise UsageError(
                f"the journal {self.options.journal} belongs to another input "
                f"({previous.previous.header.get('input')}, or this file changed since): "
                "give another --journal, or delete it to start over"
            )
        return targets, sha256

    async def _all(self, client: AsyncClient, targets: Targets) -> bool:
        """Every parent, a few at once; False if interrupted."""
        parents = iter(targets.parents.values())

        async def worker() -> None:
            for parent in parents:  # one iterator for all: each parent goes to one worker
                if self.interrupted:
                    return
                await self._parent(client, parent)

        async def work() -> None:
            many = min(len(targets.parents), 2 * client.max_concurrency)
            tasks = [asyncio.ensure_future(worker()) for _ in range(many)]
            try:
                await asyncio.gather(*tasks)
            finally:  # aborted, or one failed (a bug): stop the others too
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

        progress = Progress(
            self.err,
            self.options.progress,
            self.options.progress_every,
            "synced" if self.options.apply else "planned",
            lambda: self.outcomes.lines_done,
            total=targets.lines,
            failed=lambda: self.outcomes.tally.failed,
        )
        progress.start()
        self._working = working = asyncio.get_running_loop().create_task(work())
        if self.interrupted:  # a signal came while the outputs were being opened
            working.cancel()
        try:
            await working
        except asyncio.CancelledError:
            if not self.interrupted:
                raise
        finally:
            await progress.stop()
            self.outcomes.flush()
        return not (working.cancelled() or self.interrupted)

    async def _parent(self, client: AsyncClient, parent: Parent) -> None:
        """Read one parent's list, plan it and (with --apply) send its changes."""
        module, record_id, related_list, external = parent.key
        outcomes = self.outcomes
        current = CurrentList(parent.target)
        fields = parent.target.field_names()
        try:
            async for found in client.get_related(
                module, record_id, related_list, fields=fields, external=external
            ):
                current.add(found)
            known = outcomes.known(parent)
            planned = plan_parent(parent, current, outcomes.done, known, self.options.max_remove)
        except (RelatedReadError, AuthError) as error:
            self.table.unread[parent.kind] += 1
            code = error.code if isinstance(error, RelatedReadError) else AUTH_FAILED
            status = error.http_status if isinstance(error, RelatedReadError) else None
            self._refuse(parent, code, str(error), status, {})
            return
        except TooManyRemovalsError as error:
            self.table.refused[parent.kind] += 1
            counts = {"current": error.current, "remove": error.remove, "allowed": error.allowed}
            self._refuse(parent, TOO_MANY_REMOVALS, str(error), None, counts)
            return
        self.table.add(planned)
        if not self.options.apply:
            outcomes.lines_done += len(parent.lines)
            return
        numbers = outcomes.number_delinks(parent, planned.delink)
        for rid in planned.gone:
            op = Delink(module, record_id, related_list, rid, external)
            why = "delinked by an earlier run that stopped before its answer was written"
            earlier = Result(op, SUCCESS, DELINKED_EARLIER, why, {"id": rid})
            outcomes.delink(parent, outcomes.known(parent)[rid].number, rid, earlier)
        report = await _send(client, planned.ops) if planned.ops else Report([], 0)
        results = report.results
        sent = {rid: results[i] for i, rid in enumerate(planned.send)}
        for line, rid in parent.items():
            if not outcomes.done(line):
                outcomes.line(line, sent[rid] if rid in sent else unchanged(parent.link(rid)))
        for i, (number, rid) in enumerate(zip(numbers, planned.delink, strict=True)):
            outcomes.delink(parent, number, rid, results[len(planned.send) + i])
        outcomes.flush()

    def _refuse(self, parent: Parent, code: str, message: str, status: int | None,
                details: dict[str, Any]) -> None:  # fmt: skip
        self.say(f"zcrm-related: {parent.kind} {parent.key[1]}: nothing changed: {message}")
        if self.options.apply:
            self.outcomes.refuse(parent, code, message, status, details)
            self.outcomes.flush()
        else:
            self.outcomes.lines_done += len(parent.lines)


async def _send(client: AsyncClient, ops: list[Operation]) -> Report:
    """A parent's changes through the client; a job stopped by spent credits still says what
    became of each operation (``NOT_ATTEMPTED`` for those never sent)."""
    try:
        return await client.run(ops)
    except ZohoError as error:
        report: Report | None = getattr(error, "report", None)
        if report is None:
            raise
        return report
