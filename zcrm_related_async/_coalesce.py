"""Automatic batching across callers: small calls to the same parent and related list, made
within a short linger window, share one HTTP call.

In a web app fifty handlers may each link one contact to the same campaign within a few
milliseconds. Zoho bills API credits per call, so fifty calls of one record cost fifty times
one call of fifty. Each small ``link()``/``delink()``/``update_records()`` joins a pool keyed by
what one call can carry; the pool goes out when it holds a full chunk or when its linger window
ends, and each caller gets the results of its own records only.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import attrs

from ._batching import Batcher, GroupKey, group_key
from ._calls import Stop
from ._exceptions import ZohoError
from ._merge import Answered, Part
from ._ops import Operation
from ._outbox import Outbox
from ._report import Result
from ._scheduler import Scheduler, SendChunk

log = logging.getLogger("zcrm_related_async")


@attrs.define(eq=False)
class _Pool:
    entries: list[tuple[Operation, asyncio.Future[Result]]] = attrs.Factory(list)
    timer: asyncio.TimerHandle | None = None
    #: the job that carries it, once it goes out
    job: Scheduler | None = None


@attrs.frozen
class Shared:
    """What a caller gets back: its own results, and what the calls carrying them cost."""

    results: list[Result]
    calls: int
    #: why a call carrying them stopped its job (spent credits, a closed client), if one did
    stop: Stop | None


class Coalescer:
    def __init__(
        self, send: SendChunk, chunk_size: int, linger: float, by_code: Counter[str]
    ) -> None:
        self._send = send
        self._by_code = by_code
        self._chunk_size = chunk_size
        self._linger = linger
        self._pools: dict[GroupKey, _Pool] = {}
        self._jobs: set[asyncio.Task[None]] = set()

    async def submit(self, ops: list[Operation]) -> Shared:
        """Carry ``ops`` (fewer than a chunk, all of one group) in shared calls."""
        loop = asyncio.get_running_loop()
        joined: list[tuple[_Pool, asyncio.Future[Result]]] = []
        for op in ops:
            key = group_key(op)
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = _Pool()
                pool.timer = loop.call_later(self._linger, self._go, key)
            place: asyncio.Future[Result] = loop.create_future()
            pool.entries.append((op, place))
            joined.append((pool, place))
            if len(pool.entries) >= self._chunk_size:
                self._go(key)
        try:
            results = [await place for _, place in joined]
        except BaseException:
            for _, place in joined:
                place.cancel()  # records of a pool not yet sent are left out of it
            raise
        pools = {id(pool): pool for pool, _ in joined}.values()
        jobs = [pool.job for pool in pools if pool.job is not None]
        return Shared(
            results,
            sum(job.calls for job in jobs),
            next((job.stop for job in jobs if job.stop is not None), None),
        )

    def _go(self, key: GroupKey) -> None:
        pool = self._pools.pop(key, None)
        if pool is None:
            return
        if pool.timer is not None:
            pool.timer.cancel()
        job = asyncio.get_running_loop().create_task(self._carry(pool))
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)

    async def _carry(self, pool: _Pool) -> None:
        live = [(op, place) for op, place in pool.entries if not place.done()]

        def deliver(part: Part, where: Answered) -> None:
            for index, position in where:
                op, place = live[index]
                if not place.done():
                    place.set_result(part.result(position, op))

        by_code = self._by_code
        pool.job = Scheduler(
            Batcher(self._chunk_size, self._chunk_size),
            self._send,
            2,
            Outbox(0, deliver),
            by_code=by_code,
        )
        try:
            await pool.job.run([op for op, _ in live])
        except Exception as exc:  # a bug: the callers must not wait forever, and must hear of it
            log.exception("a shared call failed unexpectedly")
            for _, place in live:
                if not place.done():
                    place.set_exception(ZohoError(f"a shared call failed: {exc!r}"))
        finally:
            for _, place in live:  # only left undone if the job itself was cancelled
                if not place.done():
                    place.cancel()

    async def close(self) -> None:
        """Send every waiting pool now and wait for all of them."""
        for key in list(self._pools):
            self._go(key)
        while self._jobs:
            await asyncio.gather(*self._jobs, return_exceptions=True)
