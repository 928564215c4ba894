"""How many calls may be in flight at once, shared by everyone who holds the same limiter."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from ._exceptions import ConfigurationError


class Limiter(Protocol):
    """Anything that hands out call slots: ``async with limiter.slot(): <one HTTP call>``."""

    def slot(self) -> AbstractAsyncContextManager[object]: ...


class LocalLimiter:
    """At most ``limit`` calls in flight in this process, for every client that shares it.

    Zoho limits concurrent calls per app per org (Free 5 ... Ultimate 25; over it -> 429):
    give every client of one org the same ``LocalLimiter`` when they run side by side.
    """

    def __init__(self, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"max_concurrency: expected an int >= 1, got {limit!r}")
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)

    def slot(self) -> asyncio.Semaphore:
        return self._semaphore

    @property
    def in_flight(self) -> int:
        """Calls holding a slot right now."""
        return self.limit - self._semaphore._value

    def __repr__(self) -> str:
        return f"LocalLimiter(limit={self.limit})"
