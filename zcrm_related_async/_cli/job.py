"""One job of the ``run`` command: check the whole input, then stream it through the client,
writing each line's outcome to the journal and the report as it comes.

Nothing is sent before every line has been read and checked (a bad line exits with 2). The
input is read twice, never held: once to check it, fingerprint it and plan the calls, once to
send it. Memory stays flat whatever the file's size: the client holds at most its buffer of
operations, and the job keeps which line each result came from in 16 bytes per run of
consecutive lines sent (``sent.SentLines``; a byte per line more for a file of mixed kinds)
and one byte per line in a journal's list of lines done.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import attrs

from .._client import AsyncClient
from .._ops import Delink, Link, UpdateRecord
from .._report import SUCCESS, Result
from .._scheduler import READ_BATCH
from . import journal as journals
from .command import EXIT_OK, EXIT_USAGE, Command, UsageError
from .final import is_final
from .lines import InputFile, new_digest
from .plan import KINDS, Plan
from .progress import Progress, Tally, summary
from .reportfile import ReportFile, encoded_alike, encoded_outcome, record, rewrite
from .rows import MAX_ERRORS, InputError
from .sent import SentLines
from .words import counted

#: an operation's type -> the index of its kind in KINDS
_KIND_INDEX: dict[type, int] = {
    op: KINDS.index(kind)
    for op, kind in ((Link, "link"), (Delink, "delink"), (UpdateRecord, "update"))
}


# The plan feeds the batcher the batches the job's reader will: the same cut of chunks.
_PLAN_BATCH = READ_BATCH


class _Stopped(Exception):
    """The check of the input was interrupted."""


@attrs.frozen
class JobOptions:
    """What ``zcrm-related run`` was asked to do; ``client`` holds :class:`AsyncClient`'s
    arguments, credentials included."""

    input: Path
    #: None only for a dry run, which writes no report
    report: Path | None
    journal: Path | None
    client: Mapping[str, Any]
    dry_run: bool = False
    progress: str = "auto"
    progress_every: float = 5.0
    #: send again the lines whose outcome in the journal is a failure
    retry_failed: bool = False
    #: seconds calls in flight may take to finish after SIGTERM or the first SIGINT
    grace: float = 30.0


async def run_job(options: JobOptions, out: TextIO, err: TextIO) -> int:
    """Run one job; return the command's exit code."""
    return await _Job(options, out, err).run()


class _Job(Command):
    def __init__(self, options: JobOptions, out: TextIO, err: TextIO) -> None:
        super().__init__(out, err, options.grace)  # its interrupted also stops the check
        self.options = options
        self.input = InputFile(options.input)
        self.tally = Tally()
        #: lines whose outcome this run was not final (sent again by the next run)
        self.not_final = 0
        self.checked = 0
        self._report: ReportFile | None = None
        self._journal: journals.JournalWriter | None = None
        self._flush_pending = False
        #: encoded lines of the outcomes since the last flush, written by it in one call each
        self._journal_lines: list[bytes] = []
        self._report_lines: list[bytes] | None = None  # None for a CSV report
        #: (kind, status, code) -> lines since the last flush
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._sha256 = ""

    def _close(self) -> None:
        for closing in (self._journal, self._report):
            if closing is not None:
                closing.close()

    async def _run(self) -> int:
        options = self.options
        previous = self._read_journal()
        resumed = self.tally.done
        plan = await self._check(previous)
        if plan is None:
            return EXIT_USAGE if not self.interrupted else self.exit_interrupted
        name = options.input.name
        if options.dry_run:
            done = f"{resumed:,} already done according to {options.journal}" if resumed else ""
            print(plan.describe(name, done), file=self.out)
            print("dry run: nothing was sent", file=self.out)
            return EXIT_OK
        assert options.report is not None  # job_options() asks for one unless it is a dry run
        client, session = await self._client(options.client)
        previous = self._open_outputs(previous)
        if options.progress != "off":
            lines = counted(sum(plan.lines.values()), "line")
            calls = counted(sum(plan.calls.values()), "call")
            self.say(f"sending {lines} of {name} in about {calls} to {client.api_domain}")
        started = time.monotonic()
        try:
            finished = await self._send_all(client, previous)
        finally:
            await client.close()
            await session.close()
        seconds = time.monotonic() - started
        report = str(options.report.resolve())
        print(
            summary(self.tally, report, self.calls, seconds, resumed, not finished), file=self.out
        )
        not_final = self.not_final and (
            f"{self.not_final:,} lines have no final outcome (Zoho unreachable or failing, "
            "the credentials, ...): run the same command again to send them again"
        )
        return self._ending(self.tally, not_final or None, options.journal is not None, finished)

    async def _send_all(self, client: AsyncClient, previous: journals.Previous | None) -> bool:
        """Send every line not done yet, showing progress; False if interrupted."""
        progress = Progress(
            self.err,
            self.options.progress,
            self.options.progress_every,
            "sent",
            lambda: self.tally.done,
            total=self.checked,
            failed=lambda: self.tally.failed,
        )
        progress.start()
        sending = asyncio.get_running_loop().create_task(self._send(client, previous))
        self._working = sending
        if self.interrupted:  # a signal came while the outputs were being opened
            sending.cancel()
        try:
            await sending
        except asyncio.CancelledError:
            if not self.interrupted:
                raise
        except InputError as error:  # the file changed since it was checked
            name = self.options.input.name
            raise UsageError(f"{name}: {error} (the file changed while the job ran)") from None
        finally:
            await progress.stop()
            self._flush()
        return not (sending.cancelled() or self.interrupted)

    def _read_journal(self) -> journals.Previous | None:
        path = self.options.journal
        if path is None:
            return None

        def count(entry: journals.Entry) -> None:
            self.tally.add(str(entry.get("op", "?")), entry["status"], entry["code"])

        try:
            previous = journals.read(path, count, self.options.retry_failed)
        except (journals.JournalError, OSError) as error:
            raise UsageError(str(error)) from None
        command = previous.header.get("command", "run") if previous is not None else "run"
        if command != "run":  # its entries mean other things (a sync's delinks, say)
            raise UsageError(
                f"{path} is the journal of a `zcrm-related {command}` job, not of `run`: "
                "give `run` another --journal"
            )
        return previous

    async def _check(self, previous: journals.Previous | None) -> Plan | None:
        """Read every line; return the plan of what is left to send, or None (said why)."""
        progress = Progress(
            self.err, self.options.progress, self.options.progress_every, "checked",
            lambda: self.checked,
        )  # fmt: skip
        progress.start()
        errors: list[InputError] = []
        digest = new_digest()
        plan: Plan | None = None
        try:
            plan = await asyncio.to_thread(self._plan, previous, errors, digest)
        except _Stopped:
            pass
        except OSError as error:
            raise UsageError(f"cannot read {self.options.input}: {error}") from None
        finally:
            await progress.stop()
        if plan is None:
            self.say("zcrm-related: interrupted while checking the input; nothing was sent")
            return None
        name = self.options.input.name
        if errors:
            for bad in errors:
                self.say(f"{name}:{bad}")
            more = " (and maybe more)" if len(errors) >= MAX_ERRORS else ""
            count = counted(len(errors), "bad line")
            self.say(f"zcrm-related: {count}{more} in {name}; nothing was sent")
            return None
        if previous is not None and previous.header.get("sha256") != digest.hexdigest():
            raise UsageError(
                f"the journal {self.options.journal} belongs to another input "
                f"({previous.header.get('input')}, or this file changed since): "
                "give another --journal, or delete it to start over"
            )
        self._sha256 = digest.hexdigest()
        return plan

    def _plan(
        self, previous: journals.Previous | None, errors: list[InputError], digest: Any
    ) -> Plan:
        plan = Plan()
        is_done = previous.is_done if previous is not None else None
        batch: list[Any] = []
        for line, op in self.input.operations(digest=digest, errors=errors):
            if self.interrupted:  # set by the loop's thread: a plain read, unlike an Event's
                raise _Stopped
            self.checked += 1
            if is_done is None or not is_done(line):
                batch.append(op)
                if len(batch) >= _PLAN_BATCH:  # the batcher takes a batch in one call
                    plan.add_all(batch)
                    batch = []
        plan.add_all(batch)
        plan.finish()
        return plan

    def _open_outputs(self, previous: journals.Previous | None) -> journals.Previous | None:
        options = self.options
        assert options.report is not None
        if options.journal is not None:
            if previous is None:
                head = journals.header(options.input, self._sha256, self.checked)
                self._journal = journals.JournalWriter.create(options.journal, head)
            else:
                if previous.retried:  # --retry-failed: their new outcomes replace the old
                    previous = journals.drop_retried(options.journal, previous)
                self._journal = journals.JournalWriter.resume(options.journal, previous.size)
                # The report is rebuilt from the journal: it may lack what the journal has.
                entries = journals.entries(options.journal, previous.size)
                rewrite(options.report, _records(entries))
        self._report = ReportFile(options.report, append=previous is not None)
        self._report_lines = None if self._report.is_csv else []
        return previous

    async def _send(self, client: AsyncClient, previous: journals.Previous | None) -> None:
        sent = SentLines()

        def operations() -> Iterator[Any]:
            skip = previous.is_done if previous is not None else None
            add, kind = sent.add, _KIND_INDEX
            for line, op in self.input.operations(skip=skip):
                if self.interrupted:  # a graceful stop: the job finishes what it holds
                    return
                add(line, kind[type(op)])
                yield op

        outcomes = client.stream(operations())
        outcome, line, kind = self._outcome, sent.line, sent.kind
        try:
            # A call's results at a time: most calls have one outcome for all their lines,
            # whose report and journal lines are then written with no Result per line.
            async with contextlib.aclosing(outcomes._calls()) as calls:
                async for part, answered in calls:
                    alike = part.alike(answered) if self._report_lines is not None else None
                    if alike is not None:
                        result, ids = alike
                        lines = sent.lines(answered.indices)
                        self._outcomes(lines, KINDS[kind(answered.indices[0])], result, ids)
                        continue
                    for position, result in part.results(answered):
                        outcome(line(position), KINDS[kind(position)], result)
        finally:
            await outcomes.aclose()

    def _outcomes(self, lines: list[int], kind: str, result: Result, ids: list[str] | None) -> None:
        """:meth:`_outcome` of each line of a call whose results differ only by their id."""
        report_lines, journal_lines = encoded_alike(lines, kind, result, ids)
        if result.status == SUCCESS or is_final(result):
            if self._journal is not None:
                self._journal_lines += journal_lines
        else:
            self.not_final += len(lines)
        assert self._report_lines is not None  # alike outcomes are for a JSONL report
        self._report_lines += report_lines
        self._counts[kind, result.status, result.code] += len(lines)
        self._flush_soon()

    def _outcome(self, line: int, kind: str, result: Result) -> None:
        report_line, journal_line = encoded_outcome(line, kind, result)
        status = result.status
        if status == SUCCESS or is_final(result):
            if self._journal is not None:
                self._journal_lines.append(journal_line)
        else:
            self.not_final += 1
        if self._report_lines is not None:
            self._report_lines.append(report_line)
        else:  # a CSV report
            assert self._report is not None
            self._report.write(record(line, result))
        self._counts[kind, status, result.code] += 1  # into the tally at the flush
        self._flush_soon()

    def _flush_soon(self) -> None:
        if not self._flush_pending:
            # Outcomes of a call arrive together; flushing once the loop turns hands the
            # whole batch to the OS in one write.
            self._flush_pending = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        for (kind, status, code), lines in self._counts.items():
            self.tally.add(kind, status, code, lines)
        self._counts.clear()
        if self._journal is not None:  # the journal first: the report is rebuilt from it
            self._journal.write_lines(self._journal_lines)
            self._journal_lines.clear()
            self._journal.flush()
        if self._report is not None:
            if self._report_lines:
                self._report.write_lines(self._report_lines)
                self._report_lines.clear()
            self._report.flush()


def _records(entries: Iterator[journals.Entry]) -> Iterator[dict[str, Any]]:
    for entry in entries:
        entry.pop("op", None)
        yield entry
