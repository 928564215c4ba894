"""Objects users keep at module level serve successive ``asyncio.run()`` jobs (the Celery
pattern) and loops in several threads: nothing in them is bound to the loop that first used
them, or they say clearly why not."""

from __future__ import annotations

import asyncio
import threading

import pytest
import redis.asyncio

from tests.redis_server import RedisServer
from zcrm_related_async import (
    AsyncClient,
    Client,
    ConfigurationError,
    Limiter,
    LocalLimiter,
    RedisLimiter,
    RedisTokenCache,
    RefreshTokenAuth,
    TokenCache,
)
from zcrm_related_async.testing import FakeZoho

CALLERS = 20


def refresh_auth(cache: TokenCache | None = None) -> RefreshTokenAuth:
    # the fakes of every job accept the same default credentials
    return RefreshTokenAuth(
        "fake-client-id", "fake-client-secret", "fake-refresh-token", cache=cache
    )


async def job(auth: RefreshTokenAuth, limiter: Limiter | None = None) -> list[int]:
    """A fresh fake org (its tokens unknown to ``auth``), twenty callers at once; returns
    how many links each saw succeed."""
    async with (
        FakeZoho() as fake,
        AsyncClient(
            api_domain=fake.url,
            accounts_url=fake.url,
            auth=auth,
            limiter=limiter,
            max_concurrency=3,
            linger=0,
        ) as zoho,
    ):
        reports = await asyncio.gather(
            *(zoho.link("Campaigns", str(n + 1), "Leads", ["10", "11"]) for n in range(CALLERS))
        )
    for report in reports:  # say why, if a caller failed
        assert report.succeeded == 2, [(r.code, r.message) for r in report.failures()]
    return [r.succeeded for r in reports]


def test_one_refresh_token_auth_serves_two_asyncio_runs_with_contending_callers() -> None:
    auth = refresh_auth()
    assert asyncio.run(job(auth)) == [2] * CALLERS
    # The second org rejects the first one's token: every caller contends for one refresh.
    assert asyncio.run(job(auth)) == [2] * CALLERS
    assert auth.refreshes == 2


def test_one_local_limiter_serves_two_asyncio_runs_with_contending_callers() -> None:
    limiter = LocalLimiter(2)
    assert asyncio.run(job(refresh_auth(), limiter)) == [2] * CALLERS
    assert asyncio.run(contend(limiter, 50)) == 2  # waiters queue on this loop
    assert asyncio.run(contend(limiter, 50)) == 2  # ... and on the next one
    assert asyncio.run(job(refresh_auth(), limiter)) == [2] * CALLERS


def test_a_local_limiter_shared_by_loops_in_two_threads_keeps_its_limit() -> None:
    limiter = LocalLimiter(3)
    held = [0, 0]  # now, most
    guard = threading.Lock()
    threads = [
        threading.Thread(target=asyncio.run, args=(contend(limiter, 200, held, guard),))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads)
    assert held == [0, 3]


async def contend(
    limiter: LocalLimiter,
    callers: int,
    held: list[int] | None = None,
    guard: threading.Lock | None = None,
) -> int:
    """``callers`` tasks each holding a slot a moment; returns the most held at once."""
    held = held if held is not None else [0, 0]
    guard = guard or threading.Lock()

    async def one() -> None:
        async with limiter.slot():
            with guard:
                held[0] += 1
                held[1] = max(held[1], held[0])
            await asyncio.sleep(0.001)
            with guard:
                held[0] -= 1

    await asyncio.gather(*(one() for _ in range(callers)))
    return held[1]


def test_a_cancelled_waiter_passes_its_slot_on() -> None:
    limiter = LocalLimiter(1)

    async def scene() -> None:
        async with limiter.slot():
            waiter = asyncio.ensure_future(limiter.slot().__aenter__())
            await asyncio.sleep(0)
        waiter.cancel()  # handed the slot and cancelled at once
        await asyncio.gather(waiter, return_exceptions=True)
        async with limiter.slot():  # the slot came back
            pass

    asyncio.run(asyncio.wait_for(scene(), 5))


def test_redis_limiter_and_token_cache_serve_two_asyncio_runs(redis_server: RedisServer) -> None:
    limiter = RedisLimiter(redis_server.url, key="loops:slots", limit=3)
    cache = RedisTokenCache(redis_server.url, key="loops:token")
    auth = refresh_auth(cache)
    assert asyncio.run(job(auth, limiter)) == [2] * CALLERS
    assert asyncio.run(job(auth, limiter)) == [2] * CALLERS
    assert auth.refreshes == 2


def test_a_redis_client_of_your_own_is_refused_clearly_on_another_loop(
    redis_server: RedisServer,
) -> None:
    client = redis.asyncio.Redis.from_url(redis_server.url)
    cache = RedisTokenCache(key="loops:own", client=client)

    async def read() -> None:
        try:
            await cache.get()
        finally:
            await client.aclose()

    asyncio.run(read())
    with pytest.raises(ConfigurationError, match="another event loop; pass url="):
        asyncio.run(read())


async def test_blocking_clients_share_a_redis_token_cache_and_limiter(
    redis_server: RedisServer,
) -> None:
    cache = RedisTokenCache(redis_server.url, key="loops:sync:token")
    limiter = RedisLimiter(redis_server.url, key="loops:sync:slots", limit=3)
    async with FakeZoho() as fake:

        def work() -> int:
            # Each Client runs its own event loop in its own thread.
            with Client(
                api_domain=fake.url,
                accounts_url=fake.url,
                auth=refresh_auth(cache),
                limiter=limiter,
            ) as zoho:
                return zoho.link("Campaigns", "1", "Leads", ["10", "11"]).succeeded

        assert await asyncio.to_thread(work) == 2
        assert await asyncio.to_thread(work) == 2
        assert fake.stats.refresh_requests == 1  # the second client found the token in Redis
