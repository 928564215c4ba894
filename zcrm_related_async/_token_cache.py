"""Where an access token lives between refreshes, and who may refresh it.

A :class:`TokenCache` is shared by everyone who uses one refresh token. It answers two
questions: which token is current (:meth:`TokenCache.get`), and, when that token is missing,
near expiry or rejected by Zoho, which single caller mints the next one while the others wait
(:meth:`TokenCache.refresh`). :class:`MemoryTokenCache` (the default) shares within one
process; ``RedisTokenCache`` across processes and machines.

Nothing here is bound to an event loop: a refresh in progress is a ``concurrent.futures``
future that callers on any loop (or thread) can wait for, so an object kept at module level
serves successive ``asyncio.run()`` jobs (the Celery pattern).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

import attrs

from ._config import TOKEN_REFRESH_MARGIN
from ._exceptions import ConfigurationError, RefreshThrottledError, TokenRefreshError

#: Zoho: one refresh token mints at most 10 access tokens per 10 minutes
#: (https://www.zoho.com/crm/developer/docs/api/v8/refresh.html).
ZOHO_REFRESH_LIMIT = 10
ZOHO_REFRESH_WINDOW = 600.0
#: ... and keeps at most 15 alive; the 16th kills the oldest.
ZOHO_MAX_ALIVE = 15


@attrs.frozen(repr=False)
class CachedToken:
    """An access token and when to replace it (``time.monotonic()`` of this process)."""

    value: str
    refresh_at: float

    def fresh(self) -> bool:
        return time.monotonic() < self.refresh_at

    def __repr__(self) -> str:
        return "CachedToken(<hidden>)"


#: Mints a new access token: ``(token, lifetime in seconds)``. Raises ``AuthError``.
Mint = Callable[[], Awaitable[tuple[str, float]]]


def refresh_margin(lifetime: float) -> float:
    """Replace a token this long before it expires (5 minutes, at most a tenth of its life)."""
    return min(TOKEN_REFRESH_MARGIN, lifetime / 10)


@runtime_checkable
class TokenCache(Protocol):
    """Keeps the access token of one refresh token for everyone who shares it.

    Implement these two methods to keep tokens elsewhere (a database, a secrets store), and
    pass the object as ``RefreshTokenAuth(..., cache=...)``:

    - :meth:`get` returns the current token, or ``None`` when there is none.
    - :meth:`refresh` returns the token that replaces ``stale``: if the cache already holds a
      fresh token other than ``stale`` (someone else refreshed), that one, without calling
      ``mint``; otherwise exactly one caller among all sharers calls ``mint()`` and stores its
      answer while the others wait for it, at most ``max_wait`` seconds. It raises an
      ``AuthError`` (subclass) when no token can be had in time.

    The token itself is the only secret a cache ever sees.
    """

    async def get(self) -> CachedToken | None:
        """The current token, fresh or not, or None."""
        ...

    async def refresh(self, stale: str | None, mint: Mint, max_wait: float) -> CachedToken:
        """The token that replaces ``stale`` (None: there was none), minted once for all."""
        ...


class _Flight:
    """One refresh in progress, awaitable from any event loop or thread."""

    def __init__(self) -> None:
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()

    def finish(self) -> None:
        self._done.set_result(None)

    async def wait(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        woken = loop.create_future()

        def wake(_: object) -> None:
            # A closed loop raises RuntimeError: nobody waits there any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, woken)

        self._done.add_done_callback(wake)
        await asyncio.wait_for(woken, timeout)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class MemoryTokenCache:
    """The token kept in this process, refreshed once for every caller (the default cache).

    ``refresh_limit`` (None: no count) caps the tokens minted per ``refresh_window`` seconds:
    beyond it, callers wait for the budget to come back (at most their ``max_wait``) instead
    of asking Zoho for a refusal.
    """

    def __init__(
        self, refresh_limit: int | None = None, refresh_window: float = ZOHO_REFRESH_WINDOW
    ) -> None:
        if refresh_limit is not None and (
            isinstance(refresh_limit, bool)
            or not isinstance(refresh_limit, int)
            or refresh_limit < 1
        ):
            raise ConfigurationError(f"refresh_limit: expected an int >= 1, got {refresh_limit!r}")
        self.refresh_limit = refresh_limit
        self.refresh_window = float(refresh_window)
        self._mutex = threading.Lock()  # held for a few lines, never across an await
        self._token: CachedToken | None = None
        self._flight: _Flight | None = None
        self._minted: deque[float] = deque()

    def __repr__(self) -> str:
        return f"MemoryTokenCache(refresh_limit={self.refresh_limit})"

    async def get(self) -> CachedToken | None:
        return self._token

    async def refresh(self, stale: str | None, mint: Mint, max_wait: float) -> CachedToken:
        deadline = time.monotonic() + max_wait
        while True:
            with self._mutex:
                token = self._token
                if token is not None and token.value != stale and token.fresh():
                    return token
                flight = self._flight
                budget_wait = 0.0 if flight is not None else self._budget_wait()
                if flight is None and budget_wait == 0.0:
                    flight = self._flight = _Flight()
                    self._minted.append(time.monotonic())
                    break
            left = deadline - time.monotonic()
            if flight is not None:
                await _bounded(flight.wait(max(left, 0.0)), left)
            elif budget_wait > left:
                raise RefreshThrottledError(
                    f"this process minted {self.refresh_limit} access tokens in the last "
                    f"{self.refresh_window:.0f} s (Zoho's limit); the next may be minted in "
                    f"{budget_wait:.0f} s, after the {max_wait:.0f} s this caller may wait"
                )
            else:
                await asyncio.sleep(budget_wait)
        try:
            value, lifetime = await mint()
            token = CachedToken(value, time.monotonic() + lifetime - refresh_margin(lifetime))
            self._token = token
            return token
        finally:
            with self._mutex:
                self._flight = None
            flight.finish()

    def _budget_wait(self) -> float:
        """Seconds until a token may be minted within the budget (0: now)."""
        if self.refresh_limit is None:
            return 0.0
        now = time.monotonic()
        while self._minted and now - self._minted[0] >= self.refresh_window:
            self._minted.popleft()
        if len(self._minted) < self.refresh_limit:
            return 0.0
        return max(self._minted[0] + self.refresh_window - now, 0.001)


async def _bounded(waiting: Awaitable[None], left: float) -> None:
    """Wait for another caller's refresh; past ``left`` seconds, say so."""
    try:
        await waiting
    except (TimeoutError, asyncio.TimeoutError):
        raise TokenRefreshError(
            f"another caller's token refresh did not finish within {max(left, 0):.1f} s"
        ) from None
