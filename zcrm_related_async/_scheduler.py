"""Running a job: read the operations as a stream, batch them, keep calls in flight, hand
out one result per operation. The input is never held whole: reading pauses while enough
chunks wait for a slot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping

from ._batching import Batcher, Chunk
from ._calls import CallOutcome
from ._exceptions import InvalidOperationError
from ._merge import ChunkPart, Failed, ListPart, Part, entries
from ._ops import OPERATION_TYPES, Operation
from ._report import API_CREDITS_EXHAUSTED, CANCELLED, NOT_ATTEMPTED, NOT_SENT_CREDITS

Operations = Iterable[Operation] | AsyncIterable[Operation]
SendChunk = Callable[[Chunk, "Scheduler"], Awaitable[CallOutcome]]
#: receives a part of results and the (input position, position in the part) it answers
ResultSink = Callable[[Part, Iterable[tuple[int, int]]], None]

NOT_SENT_CANCELLED = Failed(NOT_ATTEMPTED, "not sent: the job was cancelled")
_IN_FLIGHT_CANCELLED = Failed(
    CANCELLED, "the job was cancelled while this call was in flight; Zoho may have applied it"
)


def check_operations(ops: object) -> None:
    """A job is an iterable or async iterable of operations (not one operation, not a str)."""
    if isinstance(ops, (str, bytes, Mapping, *OPERATION_TYPES)) or not isinstance(
        ops, (Iterable, AsyncIterable)
    ):
        raise InvalidOperationError(
            "ops", f"expected an iterable of operations, got {type(ops).__name__}"
        )


def check_operation(op: object, index: int) -> Operation:
    # Exactly these three: the batcher groups by their type, and the report rebuilds them.
    if type(op) not in OPERATION_TYPES:
        raise InvalidOperationError(
            "op", f"expected Link, Delink or UpdateRecord, got {type(op).__name__}", index
        )
    return op  # type: ignore[return-value]


class Scheduler:
    """One job: reads ``ops``, sends chunks through ``send``, gives each result to ``sink``.

    Every operation read gets exactly one result through the sink, cancellation included:
    calls in flight then get ``CANCELLED``, chunks not yet sent ``NOT_ATTEMPTED``.
    """

    def __init__(
        self,
        batcher: Batcher,
        send: SendChunk,
        max_pending: int,
        sink: ResultSink,
        credit_budget: int | None = None,
    ):
        self._batcher = batcher
        self._send = send
        self._sink = sink
        self._room = asyncio.Semaphore(max_pending)
        self._tasks: dict[asyncio.Task[None], Chunk] = {}
        self._task_of: dict[int, asyncio.Task[None]] = {}  # id(chunk) -> its task, while running
        self._waiting: Chunk | None = None  # a full chunk waiting for room
        self._budget = credit_budget
        #: why nothing more is sent, once the job stopped early
        self._stop: Failed | None = None
        self._late: ListPart | None = None  # operations read after the job stopped
        self.read = 0
        #: requests sent (each spends one API credit)
        self.calls = 0
        self.credits_exhausted = False

    def admit(self) -> Failed | None:
        """The gate before every request (see ``_calls.Gate``)."""
        if self._stop is None and self._budget is not None and self.calls >= self._budget:
            self._stop = Failed(
                NOT_ATTEMPTED, f"not sent: the job's credit budget of {self._budget} is spent"
            )
        if self._stop is not None:
            return self._stop
        self.calls += 1
        return None

    async def run(self, ops: Operations) -> None:
        """Carry out ``ops``. A bad item in a stream raises InvalidOperationError once the calls
        in flight are done; spent credits set ``credits_exhausted`` and send nothing more."""
        if isinstance(ops, (list, tuple)):  # a collection is checked whole before any call
            for index, op in enumerate(ops):
                check_operation(op, index)
        try:
            if isinstance(ops, AsyncIterable):
                async for op in ops:
                    for chunk in self._take(op):
                        await self._spawn(chunk)
            else:  # no async generator around a plain iterable: it costs per operation
                for op in ops:
                    ready = self._take(op)
                    if ready:
                        for chunk in ready:
                            await self._spawn(chunk)
            for chunk in self._batcher.flush():
                await self._spawn(chunk)
            await self._finish()
        except InvalidOperationError as error:
            # A bad item deep in a stream: let the calls already sent finish (their outcome
            # would otherwise be unknown), send nothing more, then raise.
            await self._finish()
            self._abandon(self._batcher.flush(), NOT_SENT_CANCELLED)
            raise error.at(self.read - 1) if error.index is None else error from None
        except BaseException:
            await self.cancel()
            raise

    def _take(self, op: object) -> list[Chunk]:
        index = self.read
        self.read += 1
        if self._stop is None:
            return self._batcher.add(index, check_operation(op, index))
        if self._late is None:
            self._late = ListPart(self._stop)
        self._late.ops.append(check_operation(op, index))
        self._sink(self._late, ((index, len(self._late.ops) - 1),))
        return []

    async def cancel(self) -> None:
        """Stop at once; every operation read so far still gets its result."""
        running = list(self._tasks.items())
        for task, _ in running:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for task, chunk in running:
            if task.cancelled():  # a chunk hands out all its results at once, or none
                outcome = _IN_FLIGHT_CANCELLED if chunk.attempts else NOT_SENT_CANCELLED
                self._abandon([chunk], outcome)
        waiting = [self._waiting] if self._waiting is not None else []
        self._waiting = None
        self._abandon(waiting + self._batcher.flush(), NOT_SENT_CANCELLED)

    def _abandon(self, chunks: list[Chunk], outcome: Failed) -> None:
        for chunk in chunks:
            self._sink(ChunkPart(chunk, outcome, None, chunk.attempts), entries(chunk))

    async def _spawn(self, chunk: Chunk) -> None:
        self._waiting = chunk
        await self._room.acquire()
        self._waiting = None
        task = asyncio.create_task(self._carry(chunk))
        self._tasks[task] = chunk
        self._task_of[id(chunk)] = task

    async def _finish(self) -> None:
        # asyncio.wait, not gather: if this job is cancelled meanwhile, gather would cancel the
        # chunks itself and they would be gone before cancel() could report them as in flight.
        while self._tasks:
            done, _ = await asyncio.wait(list(self._tasks))
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]  # a bug in _carry

    async def _carry(self, chunk: Chunk) -> None:
        try:
            if chunk.after is not None:  # the same id with other fields, asked for earlier
                earlier = self._task_of.get(id(chunk.after))
                chunk.after = None
                if earlier is not None:
                    await asyncio.wait([earlier])
            if self._stop is not None:
                self._abandon([chunk], self._stop)
                return
            outcome = await self._send(chunk, self)
            self._sink(outcome.part, entries(chunk))
            if outcome.credits_exhausted and not self.credits_exhausted:
                self.credits_exhausted = True
                self._stop = Failed(API_CREDITS_EXHAUSTED, NOT_SENT_CREDITS)
        finally:
            self._room.release()
            self._tasks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            self._task_of.pop(id(chunk), None)
