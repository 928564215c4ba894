"""How many calls may be in flight at once, shared by everyone who holds the same limiter."""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from ._aimd import after_success, after_throttle, initial_window, slots
from ._exceptions import ConfigurationError


class Limiter(Protocol):
    """Anything that hands out call slots: ``async with limiter.slot(): <one HTTP call>``."""

    def slot(self) -> AbstractAsyncContextManager[object]: ...


class LocalLimiter:
    """At most ``limit`` calls in flight in this process, for every client that shares it.

    Zoho limits concurrent calls per app per org (Free 5 ... Ultimate 25; over it -> 429):
    give every client of one org the same ``LocalLimiter`` when they run side by side. It is
    bound to no event loop: one kept at module level serves successive ``asyncio.run()`` jobs,
    and clients on loops in several threads share its slots. Waiters are served first come,
    first served.
    """

    def __init__(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"max_concurrency: expected an int >= 1, got {limit!r}")
        self.limit = limit
        self._mutex = threading.Lock()  # held for a few lines, never across an await
        self._free = limit
        self._waiters: deque[_Waiter] = deque()

    def slot(self) -> _LocalSlot:
        return _LocalSlot(self)

    async def _acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._mutex:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            waiter = _Waiter(loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter.future
        except BaseException:
            with self._mutex:
                granted = waiter.granted
                if not granted:
                    self._waiters.remove(waiter)
            if granted:
                self._release()  # handed the slot as we were cancelled: pass it on
            raise

    def _release(self) -> None:
        with self._mutex:
            while self._waiters:
                waiter = self._waiters.popleft()
                waiter.granted = True
                try:  # the waiter's loop may be another thread's, or closed
                    waiter.loop.call_soon_threadsafe(_wake, waiter)
                    return
                except RuntimeError:
                    continue  # its loop is closed: nobody is left to take the slot
            self._free += 1

    def __repr__(self) -> str:
        return f"LocalLimiter(limit={self.limit})"


class _Waiter:
    __slots__ = ("future", "granted", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
        self.loop = loop
        self.future = future
        self.granted = False  # a slot was handed to it


def _wake(waiter: _Waiter) -> None:
    if not waiter.future.done():
        waiter.future.set_result(None)


class _LocalSlot:
    __slots__ = ("_limiter",)

    def __init__(self, limiter: LocalLimiter) -> None:
        self._limiter = limiter

    async def __aenter__(self) -> None:
        await self._limiter._acquire()

    async def __aexit__(self, *exc_info: object) -> None:
        self._limiter._release()


class AdaptiveWindow:
    """How many calls this client keeps in flight, learnt from Zoho's 429s (see ``_aimd``).

    It sits in front of the limiter: a call first takes a place in the window, then a slot
    of the limiter. Waiters are served first come, first served.
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.window = initial_window(ceiling)
        self.in_flight = 0
        self.throttles = 0
        self._epoch = 0  # bumped on each shrink: a 429 of an older epoch says nothing new
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> int:
        """Wait for a place; return the epoch to hand back to :meth:`release`."""
        if self._waiters or self.in_flight >= slots(self.window):
            place = asyncio.get_running_loop().create_future()
            self._waiters.append(place)
            try:
                await place  # release() counted us in before waking us
            except asyncio.CancelledError:
                if place.done() and not place.cancelled():
                    self.release(self._epoch, None)  # woken and cancelled at once
                elif place in self._waiters:  # release() drops cancelled waiters itself
                    self._waiters.remove(place)
                raise
        else:
            self.in_flight += 1
        return self._epoch

    def release(self, epoch: int, throttled: bool | None) -> None:
        """Give the place back; ``throttled`` says how the call went (None: no answer)."""
        self.in_flight -= 1
        if throttled and epoch == self._epoch:
            self.window = after_throttle(self.window)
            self._epoch += 1
            self.throttles += 1
        elif throttled is False:
            self.window = after_success(self.window, self.ceiling, self.throttles > 0)
        while self._waiters and self.in_flight < slots(self.window):
            place = self._waiters.popleft()
            if not place.done():
                self.in_flight += 1
                place.set_result(None)

    def __repr__(self) -> str:
        return f"AdaptiveWindow(window={self.window:.1f}, ceiling={self.ceiling})"
