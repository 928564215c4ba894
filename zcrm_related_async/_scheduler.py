"""Running a job: read the operations as a stream, batch them, keep calls in flight, hand
out one result per operation. The input is never held whole: reading pauses while enough
chunks wait for a slot, or while the consumer has enough results to take.

Who answers for what ("every operation gets exactly one outcome" has one owner per stage):

- an operation read sits in the batcher; when reading ends early (cancelled, stopped, bad
  input) :meth:`Scheduler.run` hands what the batcher holds, and the unread rest of a list,
  ``NOT_ATTEMPTED`` — synchronously, so no second cancellation can come between;
- a chunk handed to a call is owned by its unit of work (:meth:`Scheduler._carry`), whose every
  exit — answer, cancellation at any await (once or many times), anything raised inside it —
  puts exactly one outcome per operation into the outbox, in a ``finally`` that does not await.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from itertools import islice
from typing import Any

from ._batching import Batcher, Chunk
from ._calls import CallOutcome, Stop
from ._exceptions import InvalidOperationError
from ._merge import Answered, ChunkPart, Failed, ListPart, Part, answered
from ._ops import OPERATION_TYPES, Operation
from ._outbox import Outbox
from ._report import CANCELLED, CLIENT_ERROR, NOT_ATTEMPTED
from ._stats import RequestCount

log = logging.getLogger("zcrm_related_async")

Operations = Iterable[Operation] | AsyncIterable[Operation]
SendChunk = Callable[[Chunk, "Scheduler"], Awaitable[CallOutcome]]

NOT_SENT_CANCELLED = Failed(NOT_ATTEMPTED, "not sent: the job was cancelled")
NOT_SENT_STOPPED = Failed(NOT_ATTEMPTED, "not sent: the job was stopped")
NOT_SENT_ENDED = Failed(NOT_ATTEMPTED, "not sent: the job ended on an error")
_IN_FLIGHT_CANCELLED = Failed(
    CANCELLED, "the job was cancelled after this call was sent; Zoho may have applied it"
)
#: A plain iterable is read this many operations at a time between turns of the event loop.
READ_BATCH = 512
_TYPES = frozenset(OPERATION_TYPES)


def check_operations(ops: object) -> None:
    """A job is an iterable or async iterable of operations (not one operation, not a str);
    a list or tuple is checked whole, so a bad item raises before any call."""
    if isinstance(ops, (str, bytes, Mapping, *OPERATION_TYPES)) or not isinstance(
        ops, (Iterable, AsyncIterable)
    ):
        raise InvalidOperationError(
            "ops", f"expected an iterable of operations, got {type(ops).__name__}"
        )
    if isinstance(ops, (list, tuple)):  # a collection is checked whole before any call
        for index, op in enumerate(ops):
            check_operation(op, index)


def check_operation(op: object, index: int) -> Operation:
    # Exactly these three: the batcher groups by their type, and the report rebuilds them.
    if type(op) not in OPERATION_TYPES:
        raise InvalidOperationError(
            "op", f"expected Link, Delink or UpdateRecord, got {type(op).__name__}", index
        )
    return op  # type: ignore[return-value]


def _internal_error(chunk: Chunk, error: BaseException) -> Failed:
    applied = " after its call was sent: Zoho may have applied it" if chunk.sent else ""
    return Failed(
        CLIENT_ERROR, f"{type(error).__name__} raised inside the client{applied} (see the log)"
    )


class Scheduler:
    """One job: reads ``ops``, sends chunks through ``send``, puts each result in ``outbox``.

    Every operation read gets exactly one result in the outbox, whatever happens (see the
    module docstring); so does every operation of a list or tuple, read or not.
    """

    def __init__(
        self,
        batcher: Batcher,
        send: SendChunk,
        max_pending: int,
        outbox: Outbox,
        credit_budget: int | None = None,
        by_code: Counter[str] | None = None,
    ):
        self._batcher = batcher
        self._send = send
        self._outbox = outbox
        #: every result's code is counted here as it is put (the client's stats)
        self._by_code: Counter[str] = Counter() if by_code is None else by_code
        #: results put that are successes
        self.succeeded = 0
        self._room = asyncio.Semaphore(max_pending)
        self._tasks: dict[asyncio.Task[None], Chunk] = {}
        self._task_of: dict[int, asyncio.Task[None]] = {}  # id(chunk) -> its task, while running
        self._ready: deque[Chunk] = deque()  # chunks not handed to a unit of work yet
        self._budget = credit_budget
        self._admitted = 0  # requests the budget let through
        #: why nothing more is sent, once the job stopped early (spent credits, budget)
        self.stop: Stop | None = None
        self._not_sent: Failed | None = None
        self._late: ListPart | None = None  # operations read after the job stopped sending
        self._stopping = False  # stop(): read no more
        self.started = False
        self.read = 0
        #: this job's requests (see ``_stats``)
        self.count = RequestCount()

    @property
    def calls(self) -> int:
        """Requests this job sent that may have reached Zoho (each may spend a credit)."""
        return self.count.sent

    def admit(self) -> Failed | None:
        """The gate before every request (see ``_calls.Gate``)."""
        budget = self._budget
        if self._not_sent is None and budget is not None:
            # Counted as admitted, not as answered: tries under way spend the budget already.
            if self._admitted >= budget:
                self._not_sent = Failed(
                    NOT_ATTEMPTED, f"not sent: the job's credit budget of {budget} is spent"
                )
            else:
                self._admitted += 1
        return self._not_sent

    def stop_reading(self) -> None:
        """Read no more: calls under way finish, chunks not sent yet and the unread rest of a
        list report ``NOT_ATTEMPTED`` (see ``Job.stop``)."""
        self._stopping = True
        if self._not_sent is None:
            self._not_sent = NOT_SENT_STOPPED

    async def run(self, ops: Operations) -> None:
        """Carry out ``ops``. Raises what stopped the reading (a bad item in a stream, an error
        of the input's own) once the calls under way are done, and cancellation once every
        operation read has its outcome; spent credits set :attr:`stop` instead."""
        self.started = True
        failure: BaseException | None = None
        cancelled = False
        try:
            await self._read(ops)
            if not self._stopping:
                self._ready.extend(self._batcher.flush())
                await self._spawn_ready()
        except asyncio.CancelledError:
            cancelled = True
        except BaseException as error:  # raised below, once all is accounted for
            failure = error
        # Reading is over; everything from here to the drain is synchronous.
        not_sent = NOT_SENT_CANCELLED if cancelled else (self._not_sent or NOT_SENT_ENDED)
        if cancelled:
            for task in self._tasks:
                task.cancel()
        if cancelled or failure is not None or self._stopping:
            left = list(self._ready) + self._batcher.flush()
            self._ready.clear()
            for chunk in left:
                self._put(ChunkPart(chunk, not_sent, None, chunk.attempts), answered(chunk), False)
        self.close_unread(ops, not_sent)
        await self._drain(cancelled)
        if failure is not None:
            raise failure

    def close_unread(self, ops: Operations, outcome: Failed) -> None:
        """The operations of a list or tuple not read get ``outcome``: a job stopped early, or
        cancelled before it began."""
        if isinstance(ops, (list, tuple)) and self.read < len(ops):
            rest = ListPart(outcome, list(ops[self.read :]))
            start, self.read = self.read, len(ops)
            self._put(rest, Answered(list(range(start, len(ops)))), False)

    async def _read(self, ops: Operations) -> None:
        # A plain iterable is read READ_BATCH operations at a time, each batch grouped in one
        # call (the per-record cost of a job is mostly here), with a turn of the loop between
        # batches: reading must not stall the loop. No async generator around it (it costs per
        # operation). An async iterable, or any input once the job sends nothing more, is
        # taken one operation at a time.
        if isinstance(ops, AsyncIterable):
            count = 0
            async for op in ops:
                await self._take_one(op)
                count += 1
                if count % READ_BATCH == 0:
                    await asyncio.sleep(0)
                if self._stopping:
                    return
            return
        unread = iter(ops)
        while self._not_sent is None:
            batch: list[Any] = []
            try:
                batch.extend(islice(unread, READ_BATCH))
            except BaseException:
                # What came before the input's own error is carried out as it would have been
                # one by one: its full chunks are sent, the rest reports NOT_ATTEMPTED.
                await self._take_all(batch)
                raise
            if not batch:
                return
            await self._take_all(batch)
            await asyncio.sleep(0)
            if self._stopping:
                return
        for count, op in enumerate(unread, 1):
            await self._take_one(op)
            if count % READ_BATCH == 0:
                await asyncio.sleep(0)
            if self._stopping:
                return

    async def _take_one(self, op: object) -> None:
        if self._not_sent is not None:  # its result comes at once: room for it first
            await self._outbox.room(1)
        ready = self._take(op)
        if ready:
            self._ready.extend(ready)
            await self._spawn_ready()

    async def _take_all(self, batch: list[Any]) -> None:
        """Group a batch read while the job sends, and hand its full chunks to calls; a bad
        item raises once those before it are taken."""
        first = self.read
        bad: list[Any] = []
        if not _TYPES.issuperset(map(type, batch)):
            at = next(i for i, op in enumerate(batch) if type(op) not in OPERATION_TYPES)
            batch, bad = batch[:at], batch[at:]
        self.read = first + len(batch)
        ready = self._batcher.add_all(first, batch)
        if ready:
            self._ready.extend(ready)
            await self._spawn_ready()
        if bad:
            check_operation(bad[0], self.read)  # raises, naming it and its position

    def _take(self, op: object) -> list[Chunk]:
        index = self.read
        checked: Operation = op if type(op) in OPERATION_TYPES else check_operation(op, index)  # type: ignore[assignment]
        self.read = index + 1
        if self._not_sent is None:
            return self._batcher.add(index, checked)
        # The job sends nothing more (spent credits, budget): what is read still gets a result.
        late = self._late
        if late is None or late.code(0) != self._not_sent.code:
            late = self._late = ListPart(self._not_sent)
        late.ops.append(checked)
        self._put(late, Answered([index], len(late.ops) - 1), True)
        return []

    async def _spawn_ready(self) -> None:
        """Hand each ready chunk to a unit of work once there is room; a chunk stays in
        ``_ready`` (where ``run`` finds it if cancelled) until its unit of work owns it."""
        ready = self._ready
        while ready:
            chunk = ready[0]
            answers = chunk.answers()
            await self._outbox.room(answers)
            try:
                await self._room.acquire()
            except BaseException:
                self._outbox.unreserve(answers)  # run() puts its outcome
                raise
            ready.popleft()
            task = asyncio.create_task(self._carry(chunk))
            self._tasks[task] = chunk
            self._task_of[id(chunk)] = task

    async def _drain(self, cancelled: bool) -> None:
        """Wait for every chunk's unit of work; a cancellation meanwhile (any number of them)
        cancels them all, still waits, then is raised."""
        while self._tasks:
            try:
                await asyncio.wait(list(self._tasks))
            except asyncio.CancelledError:
                cancelled = True
                for task in self._tasks:
                    task.cancel()
        if cancelled:
            raise asyncio.CancelledError

    def _put(self, part: Part, answers: Answered, promised: bool) -> None:
        """Into the outbox; ``promised``: the room these results take was reserved."""
        self.succeeded += part.tally(self._by_code, answers)
        self._outbox.put(part, answers, len(answers) if promised else 0)

    async def _carry(self, chunk: Chunk) -> None:
        """The chunk's unit of work: exactly one outcome for each of its operations."""
        part: Part | None = None
        try:
            if chunk.after is not None:  # the same id with other fields, asked for earlier
                earlier = self._task_of.get(id(chunk.after))
                chunk.after = None
                if earlier is not None:
                    await asyncio.wait([earlier])
            if self._not_sent is not None:
                part = ChunkPart(chunk, self._not_sent, None, 0)
                return
            outcome = await self._send(chunk, self)
            part = outcome.part
            if outcome.stop is not None and self.stop is None:
                self.stop = outcome.stop
                self._not_sent = outcome.stop.failed
        except Exception as error:  # a bug, or user code the client runs (auth)
            log.error("unexpected error while sending a call", exc_info=True)
            part = ChunkPart(chunk, _internal_error(chunk, error), None, chunk.attempts)
        finally:
            if part is None:  # cancelled (or KeyboardInterrupt, SystemExit) at any await
                cancelled = _IN_FLIGHT_CANCELLED if chunk.sent else NOT_SENT_CANCELLED
                part = ChunkPart(chunk, cancelled, None, chunk.attempts)
            self._room.release()
            self._tasks.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            self._task_of.pop(id(chunk), None)
            self._put(part, answered(chunk), True)
