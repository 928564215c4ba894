"""The one sink of a job: every outcome goes through :meth:`Outbox.put`, and from there to its
consumer, through a bounded, awaited hand-off.

A consumer given as a function (a collector: ``run()``, ``start()``, the coalescer) takes each
outcome as it is put, so the job never waits for it. Without one (``stream()``), outcomes wait
in a queue for :meth:`get`, and the job's reader awaits :meth:`room` before it hands more
operations to calls: results waiting plus results still to come from the calls under way stay
within ``limit``, so a slow consumer slows the job instead of growing a queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from ._merge import Answered, Part

Consume = Callable[[Part, Answered], None]


class Outbox:
    def __init__(self, limit: int, consume: Consume | None = None) -> None:
        self._limit = limit
        self._consume = consume
        self._queue: deque[tuple[Part, Answered]] = deque()
        self._queued = 0  # results in the queue
        self._promised = 0  # results the calls under way will put (reserved by room())
        self._closed = False
        self._wake_reader: asyncio.Future[None] | None = None
        self._wake_consumer: asyncio.Future[None] | None = None

    @property
    def queued(self) -> int:
        """Results put and not yet :meth:`taken` by the consumer."""
        return self._queued

    async def room(self, count: int) -> None:
        """Wait until ``count`` more results fit, then reserve them (a collector never waits).
        Once nothing is waiting or promised, anything fits: the job always progresses."""
        if self._consume is not None:
            return
        while self._queued + self._promised and self._queued + self._promised + count > self._limit:
            self._wake_reader = asyncio.get_running_loop().create_future()
            try:
                await self._wake_reader
            finally:
                self._wake_reader = None
        self._promised += count

    def unreserve(self, count: int) -> None:
        """Give back what :meth:`room` reserved for results that will come unpromised."""
        if self._consume is None:
            self._promised -= count
            _wake(self._wake_reader)

    def put(self, part: Part, answered: Answered, promised: int = 0) -> None:
        """Hand over results (never blocks); ``promised``: how many :meth:`room` reserved."""
        if self._consume is not None:
            self._consume(part, answered)
            return
        self._promised -= promised
        self._queued += len(answered)
        self._queue.append((part, answered))
        _wake(self._wake_consumer)

    def close(self) -> None:
        """No more results will come: :meth:`get` returns ``None`` once the queue is empty."""
        self._closed = True
        _wake(self._wake_consumer)

    async def get(self) -> tuple[Part, Answered] | None:
        """The next results, oldest first; ``None`` once closed and empty."""
        while not self._queue:
            if self._closed:
                return None
            self._wake_consumer = asyncio.get_running_loop().create_future()
            try:
                await self._wake_consumer
            finally:
                self._wake_consumer = None
        return self._queue.popleft()

    def taken(self, count: int) -> None:
        """The consumer is done with ``count`` results it got: they no longer wait."""
        self._queued -= count
        _wake(self._wake_reader)


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
