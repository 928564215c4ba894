"""A running job, as the user holds it: await it, cancel it, stop it, read its report; or
iterate its results as they come (:class:`ResultStream`).

Both sit on one primitive: a :class:`Scheduler` putting every outcome into an :class:`Outbox`.
A :class:`Job` from ``start()``/``run()`` collects them as they come (compactly: a reference
per operation); a :class:`ResultStream` from ``stream()`` takes them through the outbox's
bounded, awaited hand-off and keeps none.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from array import array
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator
from types import TracebackType
from typing import Any

from ._exceptions import ClientClosedError, CreditsExhaustedError
from ._merge import Answered, Part
from ._outbox import Outbox
from ._report import CompactResults, Report, Result
from ._scheduler import NOT_SENT_CANCELLED, Operations, Scheduler

MakeScheduler = Callable[[Outbox], Scheduler]


@functools.lru_cache(maxsize=8)
def _counting_from_zero(count: int) -> array[int]:
    return array("I", range(count))


def _counting(offset: int, count: int) -> array[int]:
    """``offset, offset + 1, ...``: ``count`` positions of a part, as the report keeps them."""
    return _counting_from_zero(count) if offset == 0 else array("I", range(offset, offset + count))


_CLOSED = "the client was closed while this job ran"


class Job:
    """One ``run()`` under way, from :meth:`AsyncClient.start`.

    ``await job`` gives the :class:`Report`. ``job.cancel()`` stops it at once: calls in
    flight are abandoned (their records report ``CANCELLED``: Zoho may have applied them) and
    nothing more is sent (``NOT_ATTEMPTED``). ``job.stop()`` stops it gracefully: no more input
    is read and nothing new is sent, but the calls in flight finish and report Zoho's answer.
    Once it is done, whichever way, :meth:`report` holds exactly one result for every operation
    it read, and for every operation when the input was a list or tuple.
    """

    def __init__(
        self, make_scheduler: MakeScheduler, ops: Operations, *, stream_limit: int | None = None
    ) -> None:
        self._collecting = stream_limit is None
        self.outbox = Outbox(stream_limit or 0, self._collect if self._collecting else None)
        self._scheduler = make_scheduler(self.outbox)
        self._ops = ops if isinstance(ops, (list, tuple)) else None
        # per input position: the part holding its result, and its position in that part
        self._parts: list[Part | None] = []
        self._positions = array("I")
        self._closing = False
        self._task = asyncio.get_running_loop().create_task(self._execute(ops))
        self._task.add_done_callback(lambda _: self._ended(ops))

    def _collect(self, part: Part, answered: Answered) -> None:
        part.compact()  # the report keeps it: without the operations
        parts, positions = self._parts, self._positions
        indices, offset, extra = answered.indices, answered.offset, answered.extra
        if not indices:
            return
        first, last = indices[0], indices[-1]  # increasing: input order
        top = max(last, max(extra)[0]) + 1 if extra else last + 1
        if top > len(parts):  # grown once per part, not checked per result
            grow = top - len(parts)
            parts.extend([None] * grow)
            positions.frombytes(bytes(positions.itemsize * grow))  # zeros
        count = len(indices)
        if last - first == count - 1:  # consecutive input positions: the usual chunk, in C
            parts[first : last + 1] = [part] * count
            positions[first : last + 1] = _counting(offset, count)
        else:
            for position, index in enumerate(indices, offset):
                parts[index] = part
                positions[index] = position
        if extra:
            for index, position in extra:
                parts[index] = part
                positions[index] = position

    def _ended(self, ops: Operations) -> None:
        if not self._scheduler.started:  # cancelled before it began: a list is still answered
            self._scheduler.close_unread(ops, NOT_SENT_CANCELLED)
        self.outbox.close()

    async def _execute(self, ops: Operations) -> Report | None:
        try:
            await self._scheduler.run(ops)
        except asyncio.CancelledError:
            if self._closing:  # ended by AsyncClient.close(), not by whoever awaits it
                raise ClientClosedError(_CLOSED, self._final_report()) from None
            raise
        except BaseException as error:
            report = self._final_report()
            if report is not None and getattr(error, "report", None) is None:
                # What was done before the error; its type stays the caller's to catch (unless
                # it is of a type that takes no attributes).
                with contextlib.suppress(AttributeError):
                    error.report = report  # type: ignore[attr-defined]
            raise
        finally:
            self.outbox.close()
        report = self._final_report()
        stop = self._scheduler.stop
        # A stream gives spent credits as results (it keeps no report); a closed session ends
        # it with the error, as a job.
        if stop is not None and (report is not None or stop.error is not CreditsExhaustedError):
            if report is None:
                raise stop.error(stop.message, report)  # type: ignore[arg-type]
            not_done = f"{report.failed} of {len(report)} operations were not done"
            raise stop.error(f"{stop.message}; {not_done}", report)
        return report

    def _final_report(self) -> Report | None:
        if not self._collecting:
            return None
        results = CompactResults(self._parts, self._positions, self._ops)  # type: ignore[arg-type]
        return Report(results, self._scheduler.calls, succeeded=self._scheduler.succeeded)

    def __await__(self) -> Generator[Any, None, Report]:
        return self._awaited().__await__()

    async def _awaited(self) -> Report:
        report = await self._outcome()
        assert report is not None, "a stream's job is not awaited for a report"
        return report

    async def _outcome(self) -> Report | None:
        try:
            return await self._task
        except asyncio.CancelledError:
            if self._closing and self._task.cancelled():  # closed before it even began
                raise ClientClosedError(_CLOSED, self._final_report()) from None
            raise

    def cancel(self) -> None:
        """Stop the job at once; :meth:`wait` for it before reading :meth:`report`."""
        self._task.cancel()

    def stop(self) -> None:
        """Stop gracefully: read no more input and send nothing new; calls already sent
        finish. Operations never sent report ``NOT_ATTEMPTED``; ``await job`` still gives the
        report (calls in flight may take up to their timeout and retries to finish)."""
        self._scheduler.stop_reading()

    def close(self) -> None:
        """Ended by the client's ``close()``: the job raises :class:`ClientClosedError`."""
        if not self._task.done():
            self._closing = True
            self._task.cancel()

    async def wait(self) -> None:
        """Wait until the job is done, finished or cancelled, without raising."""
        await asyncio.gather(self._task, return_exceptions=True)

    def done(self) -> bool:
        return self._task.done()

    def add_done_callback(self, callback: Callable[[Job], None]) -> None:
        self._task.add_done_callback(lambda _: callback(self))

    @property
    def calls(self) -> int:
        """HTTP requests made so far that may have reached Zoho (each may spend a credit)."""
        return self._scheduler.calls

    def report(self) -> Report:
        """Every operation's result (see the class docstring). Raises while the job runs."""
        if not self._task.done():
            raise RuntimeError("the job is still running: await it or cancel it first")
        report = self._final_report()
        if report is None:
            raise RuntimeError("a stream's job keeps no report: its results were yielded")
        return report


class ResultStream(AsyncIterator[tuple[int, Result]]):
    """``(input position, result)`` as calls complete, from :meth:`AsyncClient.stream`.

    Results are handed over through a bounded queue: while the consumer does not take them,
    the job stops reading input (a slow consumer slows the job). The job ends when the stream
    is exhausted, closed (``aclose()``, ``async with``), or dropped: a stream let go of without
    ``aclose()`` cancels its job when it is garbage collected. An error that ends the job (a
    bad item, the input's own exception, a closed client) is raised once every result before
    it was yielded: the stream has then given one result per operation read, and keeps none,
    so the error carries no ``report``.
    """

    def __init__(self, job: Job) -> None:
        self._job = job
        self._entries: list[tuple[int, Result]] = []
        self._next = 0

    def __aiter__(self) -> ResultStream:
        return self

    async def __anext__(self) -> tuple[int, Result]:
        entries, at = self._entries, self._next
        if at < len(entries):  # the usual case: the rest of a call's results, no await
            self._next = at + 1
            return entries[at]
        return await self._refill()

    async def _refill(self) -> tuple[int, Result]:
        outbox = self._job.outbox
        while self._next >= len(self._entries):
            if self._entries:
                outbox.taken(len(self._entries))
                self._entries = []
            got = await outbox.get()
            if got is None:  # the job is over: raise what ended it, if anything did
                await self._job._outcome()
                raise StopAsyncIteration
            part, answered = got
            self._entries = part.results(answered)  # a call's results, made at once
            self._next = 0
        self._next += 1
        return self._entries[self._next - 1]

    async def _calls(self) -> AsyncGenerator[tuple[Part, Answered], None]:
        """What the stream yields, a call at a time, before any :class:`Result` is made: the
        CLI writes a call's report lines at once (``ChunkPart.alike``). Not to be mixed with
        iterating the stream itself."""
        outbox = self._job.outbox
        while True:
            got = await outbox.get()
            if got is None:  # the job is over: raise what ended it, if anything did
                await self._job._outcome()
                return
            yield got
            outbox.taken(len(got[1]))

    def stop(self) -> None:
        """Stop gracefully (see :meth:`Job.stop`): the stream still yields the results of the
        calls in flight, and ``NOT_ATTEMPTED`` for what was read but not sent, then ends."""
        self._job.stop()

    async def aclose(self) -> None:
        """Stop the job (cancel it) and wait until it has stopped."""
        self._job.cancel()
        await self._job.wait()

    async def __aenter__(self) -> ResultStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def calls(self) -> int:
        """HTTP requests made so far that may have reached Zoho (each may spend a credit)."""
        return self._job.calls

    @property
    def waiting(self) -> int:
        """Results handed over and not yet yielded (bounded: see ``AsyncClient.stream``)."""
        return self._job.outbox.queued - self._next

    def __del__(self) -> None:
        job = getattr(self, "_job", None)
        if job is not None and not job.done():
            with contextlib.suppress(RuntimeError):  # its loop is closed: nothing runs any more
                job.cancel()
