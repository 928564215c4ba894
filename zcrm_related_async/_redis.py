"""One org limit shared by every process and machine: call slots as leases in Redis.

The slots live in one sorted set, ``{key}:leases``: a member per call in flight (a random
token), scored with the moment its lease runs out, on Redis' own clock (``TIME`` inside the
scripts, so the workers' clocks never matter). Taking a slot is one atomic script: drop the
leases that ran out, then add ours if fewer than ``limit`` remain. A worker that dies holding
slots (``kill -9``, a lost machine) therefore gives them back when their leases run out.

Waiting does not spin: a refused caller blocks in ``BLPOP`` on ``{key}:wake``, a list that
every release pushes one item onto, so one release wakes one waiter (Redis serves blocked
clients first come, first served), with no subscriber connection to keep alive. The wait is
also cut short when the oldest lease runs out (the refusal says when) and never lasts over
``max_wait`` seconds, so a wake-up that got lost (its waiter was cancelled) costs at most that.
Inside one process a single waiter at a time talks to Redis; the others queue locally.

redis-py (``pip install 'zcrm-related-async[redis]'``) is imported only when a
:class:`RedisLimiter` is made, so the package works without it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
import uuid
import weakref
from collections.abc import Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._arguments import positive
from ._exceptions import ConfigurationError, LimiterUnavailableError
from ._redis_client import LoopClients

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("zcrm_related_async")

#: Seconds a slot stays taken when its holder vanishes; renewed while a call lasts. Twice the
#: client's default request timeout (30 s), so a live call never loses its lease.
DEFAULT_LEASE = 60.0
#: Longest wait for a wake-up before asking Redis again (bounds the cost of a lost wake-up).
DEFAULT_MAX_WAIT = 0.5
#: Seconds to connect to Redis and for any answer but a blocking wait.
DEFAULT_REDIS_TIMEOUT = 5.0
_MIN_WAIT = 0.01

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS[1] leases (token -> expiry in ms), KEYS[2] wake-up list.
# ARGV: token, limit, lease (ms). The key lives at least as long as its longest lease.
_KEEP_KEY = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
"""
#: -> {1, 0} granted (or already ours: a replayed acquire is harmless), or {0, ms until the
#: oldest lease runs out}. Once every slot is taken, pending wake-ups are stale: drop them.
ACQUIRE = f"""{_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2])
then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  {_KEEP_KEY}
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[2]) end
  return {{1, 0}}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {{0, tonumber(oldest[2]) - now}}
"""
#: -> 1 if the token held a slot, else 0 (idempotent). One wake-up per slot freed, the
#: leases that ran out included; at most ``limit`` are kept.
RELEASE = f"""{_NOW}
local mine = redis.call('ZREM', KEYS[1], ARGV[1])
local freed = mine + redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local limit = tonumber(ARGV[2])
for _ = 1, math.min(freed, limit) do redis.call('RPUSH', KEYS[2], 1) end
if freed > 0 then
  redis.call('LTRIM', KEYS[2], -limit, -1)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return mine
"""
#: -> 1 if the lease was extended, 0 if it is gone. A lease past its time but still in the set
#: was never given away (acquiring drops run-out leases first), so it may still be extended.
RENEW = f"""{_NOW}
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  {_KEEP_KEY}
  return 1
end
return 0
"""
#: -> leases not yet run out.
IN_USE = f"""{_NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""


class RedisLimiter:
    """At most ``limit`` calls in flight for the org across every process and machine.

    Give every client of one org, in every worker, ``RedisLimiter(url, key=..., limit=...)``
    with the same ``key`` (say ``"zoho:<org id>"``) and ``limit`` (the org's concurrency:
    Free 5 ... Ultimate 25); pass it as ``AsyncClient(limiter=...)``. Slots are leases of
    ``lease`` seconds, renewed every ``lease / 3`` while a call lasts, so a crashed worker's
    slots come back within ``lease`` seconds while a long call keeps its own. A waiter asks
    Redis again at least every ``max_wait`` seconds; ``redis_timeout`` bounds connecting to
    Redis and its answers.

    ``url`` (``redis://host:6379/0``, ``rediss://...``, ``unix://...``) makes a client per
    event loop that :meth:`aclose` (or ``async with``, or the end of ``asyncio.run()``)
    closes, so a limiter kept at module level serves successive ``asyncio.run()`` jobs; a
    ``client`` (a ``redis.asyncio.Redis``) you pass is used on its first event loop only and
    left open. When Redis does not answer, ``slot()`` raises
    :class:`LimiterUnavailableError`; a release that fails is logged and the slot comes back
    when its lease runs out. Needs Redis 6 or later and ``pip install
    'zcrm-related-async[redis]'``.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        key: str,
        limit: int,
        lease: float = DEFAULT_LEASE,
        client: Redis | None = None,
        max_wait: float = DEFAULT_MAX_WAIT,
        redis_timeout: float = DEFAULT_REDIS_TIMEOUT,
    ) -> None:
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"key: expected a non-empty str, got {key!r}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigurationError(f"limit: expected an int >= 1, got {limit!r}")
        positive("lease", lease)
        positive("max_wait", max_wait)
        positive("redis_timeout", redis_timeout)
        # a BLPOP waits up to max_wait: the socket timeout covers it
        self._clients = LoopClients(
            "RedisLimiter", url, client, redis_timeout + max_wait, redis_timeout
        )
        read_timeout = self._clients.given_read_timeout
        if read_timeout is not None and read_timeout <= max_wait:
            raise ConfigurationError(
                f"max_wait ({float(max_wait)} s) must be shorter than the Redis client's "
                f"socket_timeout ({read_timeout} s): waiters block that long in BLPOP"
            )
        self.key = key
        self.limit = limit
        self.lease = float(lease)
        self.max_wait = float(max_wait)
        self._lease_ms = max(1, round(self.lease * 1000))
        self._where = self._clients.where
        self._errors = self._clients.errors
        # One hash tag: both keys land in one slot of a Redis Cluster, as scripts require.
        self._keys = (f"{{{key}}}:leases", f"{{{key}}}:wake")
        self._scripts: dict[str, Any] = {}
        # Tokens name their holder, for whoever looks at the set (ZRANGE ... WITHSCORES).
        self._prefix = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}:"
        self._numbers = itertools.count(1)
        # One lock per event loop: an asyncio.Lock belongs to the loop that first waits on it.
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._background: set[asyncio.Task[None]] = set()  # releases under way
        self._keepers: set[asyncio.Task[None]] = set()  # renewing the leases of held slots

    def __repr__(self) -> str:
        return (
            f"RedisLimiter({self._where!r}, key={self.key!r}, limit={self.limit}, "
            f"lease={self.lease})"
        )

    def slot(self) -> _Slot:
        """One call slot, held for the ``async with`` block; raises
        :class:`LimiterUnavailableError` on entry when Redis does not answer."""
        return _Slot(self)

    async def in_use(self) -> int:
        """Slots taken right now, by every process sharing ``key``."""
        return int(await self._run(IN_USE, self._keys[:1], ()))

    async def aclose(self) -> None:
        """Finish pending releases, then close the Redis client if this limiter made it.

        Slots still held stop being renewed: they come back when their leases run out.
        """
        loop = asyncio.get_running_loop()

        def here(tasks: set[asyncio.Task[None]]) -> list[asyncio.Task[None]]:
            return [t for t in tasks if t.get_loop() is loop]

        for keeper in here(self._keepers):
            keeper.cancel()
        while here(self._background) or here(self._keepers):
            await asyncio.gather(
                *here(self._background), *here(self._keepers), return_exceptions=True
            )
        await self._clients.aclose()

    async def __aenter__(self) -> RedisLimiter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # --- the slot's life -----------------------------------------------------------------

    async def _acquire(self) -> str:
        token = f"{self._prefix}{next(self._numbers)}"
        args = (token, self.limit, self._lease_ms)
        unseen = False  # the script may have granted the slot without our seeing the answer
        try:
            async with self._turn():  # one waiter per process asks Redis; the others queue here
                while True:
                    unseen = True
                    granted, wait_ms = await self._run(ACQUIRE, self._keys, args)
                    unseen = False
                    if granted:
                        return token
                    wait = min(max(int(wait_ms) / 1000, _MIN_WAIT), self.max_wait)
                    await self._clients.get().blpop([self._keys[1]], timeout=wait)
        except BaseException as exc:
            if unseen:
                self._spawn(self._release(token, granted=False))
            if isinstance(exc, self._errors):
                raise LimiterUnavailableError(
                    f"no call slot: Redis at {self._where} did not answer "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            raise

    async def _keep(self, token: str) -> None:
        """Renew the lease every ``lease / 3`` seconds for as long as the call lasts."""
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                kept = await self._run(RENEW, self._keys[:1], (token, self.limit, self._lease_ms))
            except self._errors as exc:
                log.warning("could not renew a call slot's lease on %s: %s", self._where, exc)
                continue
            if not kept:
                log.warning(
                    "a call slot's lease on %s ran out during its call: the org's limit may be "
                    "exceeded; make lease= (%.0f s) longer than the longest call",
                    self._where,
                    self.lease,
                )
                return

    async def _release(self, token: str, granted: bool = True) -> None:
        """Give the slot back; never raises (a slot not given back returns with its lease).

        ``granted=False``: the slot was perhaps never taken (the acquire's answer was lost).
        """
        try:
            await self._run(RELEASE, self._keys, (token, self.limit, self._lease_ms))
        except self._errors as exc:
            log.log(
                logging.WARNING if granted else logging.DEBUG,
                "could not give back a call slot on %s (%s): it comes back within %.0f s, "
                "when its lease runs out",
                self._where,
                exc,
                self.lease,
            )

    def _turn(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        turn = self._turns.get(loop)
        if turn is None:
            turn = self._turns[loop] = asyncio.Lock()
        return turn

    async def _run(self, source: str, keys: tuple[str, ...], args: tuple[Any, ...]) -> Any:
        """Run a script with the running loop's client (registered once, on the first)."""
        client = self._clients.get()
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = client.register_script(source)
        return await script(keys=keys, args=args, client=client)

    def _spawn(self, work: Coroutine[Any, Any, None], keeper: bool = False) -> asyncio.Task[None]:
        tasks = self._keepers if keeper else self._background
        task = asyncio.get_running_loop().create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task


class _Slot:
    __slots__ = ("_keeper", "_limiter", "_token")

    def __init__(self, limiter: RedisLimiter) -> None:
        self._limiter = limiter
        self._token: str | None = None
        self._keeper: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Slot:
        limiter = self._limiter
        self._token = await limiter._acquire()
        self._keeper = limiter._spawn(limiter._keep(self._token), keeper=True)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        token, self._token = self._token, None
        if self._keeper is not None:
            self._keeper.cancel()
        if token is not None:
            # Shielded: if the caller is cancelled meanwhile, the release still goes on (in
            # the background; aclose() waits for it).
            await asyncio.shield(self._limiter._spawn(self._limiter._release(token)))
