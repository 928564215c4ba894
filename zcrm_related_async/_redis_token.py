"""One access token for a fleet: the token of a refresh token kept in Redis, refreshed by one
worker at a time, within Zoho's budget.

Keys, all under one hash tag (one slot of a Redis Cluster, as scripts require):

- ``{key}:token``: a hash (``token``, ``refresh_at`` in ms on Redis' clock) that expires with
  the token. The access token is the only secret that reaches Redis: no client secret, no
  refresh token.
- ``{key}:lock``: the worker refreshing now, with a lease (renewed while its refresh lasts),
  so a worker killed holding it stalls the others at most one lease.
- ``{key}:minted`` / ``{key}:alive``: the refreshes of the last 10 minutes, and the tokens
  still alive, against Zoho's budget (10 per 10 minutes, 15 alive). A refresh is counted when
  it starts: a refresh whose answer was lost may still have minted a token.
- ``{key}:waiting`` / ``{key}:wake``: workers waiting for a refresh register, and the worker
  that ends it pushes one wake-up per waiter, which each pops with ``BLPOP``: no polling loop.

Every script reads Redis' own clock (``TIME``), so the workers' clocks never matter.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import threading
import time
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._arguments import positive
from ._exceptions import (
    ConfigurationError,
    RefreshThrottledError,
    TokenCacheUnavailableError,
    TokenRefreshError,
)
from ._redis_client import LoopClients
from ._redis_token_lua import BEGIN, END, GET, RENEW
from ._token_cache import (
    ZOHO_MAX_ALIVE,
    ZOHO_REFRESH_LIMIT,
    ZOHO_REFRESH_WINDOW,
    CachedToken,
    Mint,
    _bounded,
    _Flight,
    refresh_margin,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("zcrm_related_async")

#: Seconds the refresh lock lasts when its holder vanishes; renewed every third of it.
DEFAULT_LOCK_LEASE = 10.0
#: Seconds to connect to Redis and for any answer but a blocking wait.
DEFAULT_REDIS_TIMEOUT = 5.0
#: Longest single BLPOP (the client's socket timeout must exceed it).
_MAX_BLOCK = 2.0


def default_key(client_id: str) -> str:
    """A key for the fleet of one OAuth client: a hash of its client id, never a secret."""
    digest = hashlib.sha256(client_id.strip().encode()).hexdigest()[:16]
    return f"zcrm-related:{digest}"


class RedisTokenCache:
    """The access token of one refresh token, shared by every process and machine.

    Give every worker's ``RefreshTokenAuth(..., cache=RedisTokenCache(url, key=...))`` the same
    ``key`` (say ``default_key(client_id)``'s value, or ``"zoho:<org id>"``). A worker reads the
    token kept there; when it is missing, near expiry or rejected by Zoho, one worker refreshes
    under a lock with a lease of ``lock_lease`` seconds (renewed while it lasts) and the others
    wait for its answer. Refreshes are counted against Zoho's budget (``refresh_limit`` per
    ``refresh_window`` seconds, ``max_alive`` tokens alive): when it is spent, workers wait for
    it (as long as the client's ``max_retry_time``) instead of being refused.

    ``url`` (``redis://host:6379/0``, ``rediss://...``, ``unix://...``) makes a client per
    event loop that :meth:`aclose` (or ``async with``) closes; a ``client`` (a
    ``redis.asyncio.Redis``) you pass is used and left open. When Redis does not answer within
    ``redis_timeout``, the calls that needed a token fail with
    :class:`TokenCacheUnavailableError` and nothing is sent. Needs Redis 6 or later and
    ``pip install 'zcrm-related-async[redis]'``.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        key: str,
        client: Redis | None = None,
        lock_lease: float = DEFAULT_LOCK_LEASE,
        refresh_limit: int = ZOHO_REFRESH_LIMIT,
        refresh_window: float = ZOHO_REFRESH_WINDOW,
        max_alive: int = ZOHO_MAX_ALIVE,
        redis_timeout: float = DEFAULT_REDIS_TIMEOUT,
    ) -> None:
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"key: expected a non-empty str, got {key!r}")
        for name, value in (("refresh_limit", refresh_limit), ("max_alive", max_alive)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name}: expected an int >= 1, got {value!r}")
        positive("lock_lease", lock_lease)
        positive("refresh_window", refresh_window)
        positive("redis_timeout", redis_timeout)
        self._clients = LoopClients(
            "RedisTokenCache", url, client, redis_timeout + _MAX_BLOCK, redis_timeout
        )
        self._errors: tuple[type[BaseException], ...] = (
            *self._clients.errors,
            asyncio.TimeoutError,
        )
        given = self._clients.given_read_timeout
        if given is not None and given <= _MAX_BLOCK:
            raise ConfigurationError(
                f"the Redis client's socket_timeout ({given} s) must exceed {_MAX_BLOCK} s: "
                "waiters block that long in BLPOP"
            )
        self.key = key
        self.lock_lease = float(lock_lease)
        self.refresh_limit = refresh_limit
        self.refresh_window = float(refresh_window)
        self.max_alive = max_alive
        self.redis_timeout = float(redis_timeout)
        self._lease_ms = max(1, round(self.lock_lease * 1000))
        tag = f"{{{key}}}"
        self._token_key, self._lock_key = f"{tag}:token", f"{tag}:lock"
        self._minted_key, self._alive_key = f"{tag}:minted", f"{tag}:alive"
        self._waiting_key, self._wake_key = f"{tag}:waiting", f"{tag}:wake"
        self._prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}:"
        self._mutex = threading.Lock()
        self._last: CachedToken | None = None  # this process's copy of the shared token
        self._flight: _Flight | None = None  # this process's one caller talking to Redis
        self._scripts: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"RedisTokenCache({self._clients.where!r}, key={self.key!r})"

    async def aclose(self) -> None:
        """Close the Redis client of the running loop if this cache made it."""
        await self._clients.aclose()

    async def __aenter__(self) -> RedisTokenCache:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the TokenCache protocol ---------------------------------------------------------

    async def get(self) -> CachedToken | None:
        # Read from Redis each time, not from a copy: another worker may have replaced the
        # token a moment ago, and a request sent with the dead one would be wasted.
        found = await self._call(self._script(GET), (self._token_key,), ())
        if not found:
            return None
        token = CachedToken(_text(found[0]), time.monotonic() + int(found[1]) / 1000)
        self._last = token
        return token

    async def refresh(self, stale: str | None, mint: Mint, max_wait: float) -> CachedToken:
        deadline = time.monotonic() + max_wait
        while True:  # one caller per process talks to Redis; the others wait for its answer
            with self._mutex:
                last = self._last
                if last is not None and last.value != stale and last.fresh():
                    return last
                flight = self._flight
                if flight is None:
                    flight = self._flight = _Flight()
                    break
            left = deadline - time.monotonic()
            await _bounded(flight.wait(max(left, 0.0)), left)
        try:
            token = await self._refresh(stale, mint, deadline)
            self._last = token
            return token
        finally:
            with self._mutex:
                self._flight = None
            flight.finish()

    # --- one worker's refresh ------------------------------------------------------------

    async def _refresh(self, stale: str | None, mint: Mint, deadline: float) -> CachedToken:
        owner = f"{self._prefix}{uuid.uuid4().hex[:8]}"
        begin = self._script(BEGIN)
        keys = (
            self._token_key,
            self._lock_key,
            self._minted_key,
            self._alive_key,
            self._waiting_key,
        )
        while True:
            left = deadline - time.monotonic()
            args = (
                stale or "",
                owner,
                self._lease_ms,
                self.refresh_limit,
                round(self.refresh_window * 1000),
                self.max_alive,
                owner,
                round(max(left, 0.0) * 1000) + 1,
            )
            kind, value, ms = await self._call(begin, keys, args)
            if kind == 1:
                return CachedToken(_text(value), time.monotonic() + int(ms) / 1000)
            if kind == 0:
                return await self._mint(owner, mint)
            wait = int(ms) / 1000
            if wait > left:
                raise _why_not(kind, wait, left)
            await self._wait(min(wait, _MAX_BLOCK, left))

    async def _mint(self, owner: str, mint: Mint) -> CachedToken:
        """Refresh with the lock held (renewing its lease), then store the token and wake
        the waiters, whatever happens."""
        keeper = asyncio.get_running_loop().create_task(self._keep(owner))
        value = ""
        lifetime = 0.0
        try:
            value, lifetime = await mint()
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            life_ms = max(1, round(lifetime * 1000))
            margin_ms = round(refresh_margin(lifetime) * 1000)
            alive = hashlib.sha256(value.encode()).hexdigest()[:16] if value else ""
            # Shielded: the waiters must hear the end of this refresh even if we are cancelled.
            end = self._call(
                self._script(END),
                (
                    self._token_key,
                    self._lock_key,
                    self._alive_key,
                    self._waiting_key,
                    self._wake_key,
                ),
                (owner, value, life_ms, margin_ms, alive),
            )
            try:
                await asyncio.shield(asyncio.ensure_future(end))
            except TokenCacheUnavailableError as exc:
                # The others wait at most the lock's lease; this process uses its token.
                log.warning("could not end a token refresh on %s: %s", self._clients.where, exc)
        return CachedToken(value, time.monotonic() + lifetime - refresh_margin(lifetime))

    async def _keep(self, owner: str) -> None:
        while True:
            await asyncio.sleep(self.lock_lease / 3)
            try:
                kept = await self._call(
                    self._script(RENEW), (self._lock_key,), (owner, self._lease_ms)
                )
            except TokenCacheUnavailableError:
                continue
            if not kept:
                return

    async def _wait(self, seconds: float) -> None:
        """Block until a refresh ends (a wake-up) or ``seconds`` pass."""
        client = self._clients.get()
        timeout = max(seconds, 0.01)
        try:
            await asyncio.wait_for(
                client.blpop([self._wake_key], timeout=timeout), timeout + self.redis_timeout
            )
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    async def _call(self, script: Any, keys: tuple[str, ...], args: tuple[Any, ...]) -> Any:
        try:
            return await asyncio.wait_for(
                script(keys=keys, args=args, client=self._clients.get()), self.redis_timeout
            )
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def _script(self, source: str) -> Any:
        script = self._scripts.get(source)
        if script is None:  # called with each loop's client (see _call), made once
            script = self._scripts[source] = self._clients.get().register_script(source)
        return script

    def _unavailable(self, exc: BaseException) -> TokenCacheUnavailableError:
        return TokenCacheUnavailableError(
            f"no access token: the token cache (Redis at {self._clients.where}) did not "
            f"answer ({type(exc).__name__})"
        )


def _why_not(kind: int, wait: float, left: float) -> TokenRefreshError:
    if kind == 3:
        return RefreshThrottledError(
            f"Zoho's refresh budget for this refresh token is spent (at most 10 tokens per 10 "
            f"minutes, 15 alive); the next refresh may start in {wait:.0f} s, later than the "
            f"{max(left, 0):.0f} s this call may wait"
        )
    return TokenRefreshError(
        f"another worker's token refresh did not end within {max(left, 0):.1f} s"
    )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
