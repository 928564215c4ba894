"""RedisTokenCache against a real ``redis-server``: one access token for a fleet of processes.

The fleet tests run real processes (``fleet_worker``), each with its own ``AsyncClient`` and
``RefreshTokenAuth`` on the same refresh token, against one fake Zoho with Zoho's token rules
on (10 new tokens per 10 minutes, 15 alive).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
import pytest_asyncio
import redis.asyncio

from tests.integration.cli_support import (
    cli_env,
    finish,
    read_jsonl,
    run_args,
    run_cli,
    start_cli,
    write_jsonl,
)
from tests.integration.cli_support import links as cli_links
from tests.redis_server import RedisServer, free_port
from zcrm_related_async import (
    AsyncClient,
    Link,
    MemoryTokenCache,
    RedisTokenCache,
    RefreshThrottledError,
    RefreshTokenAuth,
    TokenCache,
    TokenCacheUnavailableError,
)
from zcrm_related_async._redis_token import default_key
from zcrm_related_async.testing import FakeZoho

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 20
LINKS = 3000  # per worker: 30 calls of 100
TTL_REQUESTS = 150  # a token dies after that many calls


@pytest_asyncio.fixture
async def key() -> str:
    return f"zoho:test:{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture
async def r(redis_server: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    client = redis.asyncio.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


def refresh_auth(fake: FakeZoho, cache: TokenCache | None = None) -> RefreshTokenAuth:
    return RefreshTokenAuth(fake.client_id, fake.client_secret, fake.refresh_token, cache=cache)


def links(count: int, first: int = 1) -> list[Link]:
    return [Link("Campaigns", str(first + i // 100), "Leads", str(5000 + i)) for i in range(count)]


@attrs.define
class Fleet:
    """Worker processes (``fleet_worker run``), started once, given jobs together."""

    procs: list[asyncio.subprocess.Process]

    @classmethod
    async def start(cls, count: int, redis_url: str, key: str) -> Fleet:
        fleet = cls([])
        args = ["run", "--redis", redis_url, "--key", key]
        for _ in range(count):
            fleet.procs.append(
                await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "tests.integration.fleet_worker", *args),
                    cwd=ROOT,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                )
            )
        assert await fleet._lines() == [b"ready\n"] * count
        return fleet

    async def run(self, fake: FakeZoho, mode: str, links: int) -> list[dict[str, Any]]:
        """One job in every worker at once; ``mode``: "cache" (RedisTokenCache) or "none"."""
        for n, proc in enumerate(self.procs):
            assert proc.stdin is not None
            proc.stdin.write(f"{fake.url} {mode} {n * 1000 + 1} {links}\n".encode())
        for proc in self.procs:
            assert proc.stdin is not None
            await proc.stdin.drain()
        return [json.loads(line) for line in await self._lines()]

    async def _lines(self) -> list[bytes]:
        reads = []
        for proc in self.procs:
            assert proc.stdout is not None
            reads.append(proc.stdout.readline())
        return await asyncio.wait_for(asyncio.gather(*reads), 40)

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


async def test_twenty_processes_share_one_token_and_refresh_it_once_per_expiry(
    redis_server: RedisServer, key: str
) -> None:
    started = time.monotonic()
    fleet = await Fleet.start(WORKERS, redis_server.url, key)
    ready = time.monotonic()
    try:
        async with FakeZoho(
            zoho_token_rules=True, token_ttl_requests=TTL_REQUESTS, log_requests=False
        ) as fake:
            shared = await fleet.run(fake, "cache", LINKS)
            ran = time.monotonic()
            with_cache = attrs.evolve(fake.stats, by_status=dict(fake.stats.by_status))
            expiries, killed = fake.tokens_used_up, fake.tokens_killed
        # The control run: the same fleet without the cache, against a fresh org.
        async with FakeZoho(
            zoho_token_rules=True, token_ttl_requests=TTL_REQUESTS, log_requests=False
        ) as control_fake:
            control = await fleet.run(control_fake, "none", 200)
            controlled = time.monotonic()
            without = control_fake.stats
    finally:
        await fleet.stop()
    print(
        f"\nRedisTokenCache x {WORKERS}: requests={with_cache.requests} expiries={expiries} "
        f"token requests={with_cache.refresh_requests} 401s={with_cache.by_status.get(401, 0)}"
        f"\nno cache x {WORKERS}: token requests={without.refresh_requests} "
        f"minted={without.refreshes} failed={sum(s['failed'] for s in control)}"
        f"\nseconds: start {ready - started:.1f}, shared {ran - ready:.1f}, "
        f"control {controlled - ran:.1f}"
    )
    assert [p.returncode for p in fleet.procs] == [0] * WORKERS
    assert [s["codes"] for s in shared] == [{}] * WORKERS, [s for s in shared if s["codes"]]
    assert [s["succeeded"] for s in shared] == [LINKS] * WORKERS
    assert expiries >= 2  # tokens did expire mid-job, more than once
    assert with_cache.refresh_requests == with_cache.refreshes == expiries + 1
    assert killed == 0  # never a 16th live token

    # Without the cache each process refreshes on its own: the 11th and later are refused.
    assert without.refreshes == 10
    assert without.refresh_requests >= WORKERS
    failed = [s for s in control if s["failed"]]
    assert len(failed) >= WORKERS - 10
    assert all(set(s["codes"]) == {"AUTH_FAILED"} for s in failed)


async def test_a_worker_killed_holding_the_refresh_lock_stalls_the_others_one_lease(
    redis_server: RedisServer, key: str, r: redis.asyncio.Redis
) -> None:
    args = ["hold", "--redis", redis_server.url, "--key", key, "--lease", "1"]
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tests.integration.fleet_worker", *args),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert await asyncio.wait_for(proc.stdout.readline(), 20) == b"holding\n"
        proc.kill()  # SIGKILL: the lock is neither released nor renewed any more
        await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert 0 < await r.pttl(f"{{{key}}}:lock") <= 1000  # still held, for at most its lease
    async with (
        FakeZoho() as fake,
        RedisTokenCache(redis_server.url, key=key, lock_lease=1) as cache,
    ):
        # max_retry_time bounds the wait for the lock: well past one lease, well short of
        # forever; a lock without a lease would fail these links with AUTH_FAILED.
        zoho = AsyncClient(
            api_domain=fake.url,
            accounts_url=fake.url,
            auth=refresh_auth(fake, cache),
            max_retry_time=4,
        )
        async with zoho:
            report = await zoho.run(links(300))
        assert report.succeeded == 300, report.failures()[:1]
        assert fake.stats.refresh_requests == 1


async def test_a_401_seen_by_many_processes_at_once_makes_one_refresh(
    redis_server: RedisServer, key: str
) -> None:
    async with FakeZoho(zoho_token_rules=True) as fake:
        caches = [RedisTokenCache(redis_server.url, key=key) for _ in range(5)]
        clients = [
            AsyncClient(api_domain=fake.url, accounts_url=fake.url, auth=refresh_auth(fake, c))
            for c in caches
        ]
        try:
            first = await asyncio.gather(
                *(c.run(links(200, 1 + 10 * n)) for n, c in enumerate(clients))
            )
            assert fake.stats.refresh_requests == 1
            fake.expire_tokens()  # every client now holds a dead token
            second = await asyncio.gather(
                *(c.run(links(200, 100 + 10 * n)) for n, c in enumerate(clients))
            )
        finally:
            for client, cache in zip(clients, caches, strict=True):
                await client.close()
                await cache.aclose()
    assert all(rep.succeeded == 200 for rep in first + second)
    assert fake.stats.refresh_requests == 2


async def test_a_spent_budget_is_waited_for_not_refused_and_bounded_by_the_job(
    redis_server: RedisServer, key: str
) -> None:
    async with (
        FakeZoho(zoho_token_rules=True) as fake,
        RedisTokenCache(redis_server.url, key=key, refresh_limit=1, refresh_window=1.5) as cache,
    ):
        async with AsyncClient(
            api_domain=fake.url, accounts_url=fake.url, auth=refresh_auth(fake, cache)
        ) as zoho:
            assert (await zoho.run(links(10))).succeeded == 10
            fake.expire_tokens()
            # The budget (1 per 1.5 s here) is spent: the refresh waits for it, then succeeds.
            assert (await zoho.run(links(10, 50))).succeeded == 10
        assert fake.stats.refresh_requests == 2
        fake.expire_tokens()
        # A job that may not wait that long is told why, without asking Zoho for a refusal.
        async with AsyncClient(
            api_domain=fake.url,
            accounts_url=fake.url,
            auth=refresh_auth(fake, cache),
            max_retry_time=0.2,
        ) as hurried:
            report = await hurried.run(links(10, 80))
        assert {r.code for r in report.results} == {"AUTH_FAILED"}
        assert "budget" in report.results[0].message
        assert fake.stats.refresh_requests == 2
        bound = refresh_auth(fake, cache).bind(_no_session, fake.url, 1.0, 0.1)
        assert await bound.invalidate(await bound.token())  # the cached (dead) token
        with pytest.raises(RefreshThrottledError, match="budget"):
            await bound.token()


def _no_session() -> Any:
    raise AssertionError("no request may be sent")


async def test_redis_down_fails_the_calls_that_needed_a_token_and_sends_nothing(
    redis_server: RedisServer,
) -> None:
    async with FakeZoho() as fake:
        down = RedisTokenCache(f"redis://127.0.0.1:{free_port()}/0", key="k", redis_timeout=0.5)
        async with (
            down,
            AsyncClient(
                api_domain=fake.url, accounts_url=fake.url, auth=refresh_auth(fake, down)
            ) as zoho,
        ):
            report = await zoho.run(links(250))
        assert {r.code for r in report.results} == {"AUTH_FAILED"}
        assert "token cache" in report.results[0].message
        assert fake.stats.requests == fake.stats.refresh_requests == 0


async def test_a_redis_that_never_answers_is_a_clear_error_not_a_hang() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, reads, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with FakeZoho() as fake:
            slow = RedisTokenCache(f"redis://127.0.0.1:{port}/0", key="k", redis_timeout=0.3)
            async with slow:
                with pytest.raises(TokenCacheUnavailableError, match="did not answer"):
                    await refresh_auth(fake, slow).bind(_no_session, fake.url, 1.0).token()
    finally:
        server.close()
        await server.wait_closed()


async def test_only_the_access_token_reaches_redis(
    redis_server: RedisServer, r: redis.asyncio.Redis
) -> None:
    async with FakeZoho() as fake:
        key = default_key(fake.client_id)
        assert fake.client_id not in key
        assert fake.refresh_token not in key
        async with (
            RedisTokenCache(redis_server.url, key=key) as cache,
            AsyncClient(
                api_domain=fake.url, accounts_url=fake.url, auth=refresh_auth(fake, cache)
            ) as zoho,
        ):
            assert (await zoho.run(links(5))).succeeded == 5
            seen = repr(cache)
        names = [k async for k in r.scan_iter(match=f"{{{key}}}*")]
        assert names
        stored = []
        for name in names:
            found = await r.type(name)
            kind = found.decode() if isinstance(found, bytes) else found
            if kind == "hash":
                stored.append(repr(await r.hgetall(name)))
            elif kind == "zset":
                stored.append(repr(await r.zrange(name, 0, -1, withscores=True)))
            elif kind == "string":
                stored.append(repr(await r.get(name)))
            elif kind == "list":
                stored.append(repr(await r.lrange(name, 0, -1)))
        everything = " ".join(stored + [repr(n) for n in names]) + seen
        assert fake.access_token in everything  # the access token itself, and nothing else:
        for secret in (fake.client_secret, fake.refresh_token, fake.client_id):
            assert secret not in everything


async def test_the_token_in_redis_expires_with_the_token(
    redis_server: RedisServer, key: str, r: redis.asyncio.Redis
) -> None:
    async with (
        FakeZoho(token_ttl_seconds=120) as fake,
        RedisTokenCache(redis_server.url, key=key) as cache,
    ):
        async with aiohttp.ClientSession() as session:
            await refresh_auth(fake, cache).bind(session, fake.url, 5.0).token()
        assert 110_000 < await r.pttl(f"{{{key}}}:token") <= 120_000


async def test_cli_processes_on_shards_of_one_input_share_slots_and_token(
    redis_server: RedisServer, tmp_path: Path, r: redis.asyncio.Redis
) -> None:
    rows = cli_links(20, 50)  # 1,000 links over 20 campaigns
    async with FakeZoho(zoho_token_rules=True) as fake:
        env = cli_env(
            ZOHO_CLIENT_ID=fake.client_id,
            ZOHO_CLIENT_SECRET=fake.client_secret,
            ZOHO_REFRESH_TOKEN=fake.refresh_token,
            ZOHO_ACCOUNTS_URL=fake.accounts_url,
        )
        shards = [write_jsonl(tmp_path / f"shard{n}.jsonl", rows[n::4]) for n in range(4)]
        runs = [
            start_cli(
                *run_args(fake, shard, tmp_path / f"report{n}.jsonl"),
                *("--redis", redis_server.url, "--concurrency", "5"),
                env=env,
            )
            for n, shard in enumerate(shards)
        ]
        done = [await finish(p) for p in await asyncio.gather(*runs)]
        assert [d.code for d in done] == [0, 0, 0, 0], [d.err for d in done]
        assert fake.stats.refresh_requests == 1  # one token for the four processes
        assert fake.stats.max_in_flight <= 5  # one limit for the four
    reports = [read_jsonl(tmp_path / f"report{n}.jsonl") for n in range(4)]
    assert sum(len(rep) for rep in reports) == 1000
    key = default_key(fake.client_id)
    assert await r.exists(f"{{{key}:token}}:token", f"{{{key}:slots}}:leases") >= 1


async def test_cli_refuses_a_redis_password_on_the_command_line(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "ops.jsonl", cli_links(1, 1))
    async with FakeZoho() as fake:
        env = cli_env(fake)
        done = await run_cli(
            *run_args(fake, source, tmp_path / "report.jsonl"),
            *("--redis", "redis://:hunter2@127.0.0.1:6379/0", "--redis-key", "k"),
            env=env,
        )
    assert done.code == 2
    assert "ZOHO_REDIS_URL" in done.err
    assert "hunter2" not in done.err


async def test_a_sixteenth_live_token_is_never_asked_for(
    redis_server: RedisServer, key: str
) -> None:
    # max_alive=2 stands for Zoho's 15: two tokens alive, a third refresh waits for one of
    # them to expire (an hour here), which this caller may not wait for.
    async with (
        FakeZoho() as fake,
        RedisTokenCache(redis_server.url, key=key, max_alive=2) as cache,
        aiohttp.ClientSession() as session,
    ):
        bound = refresh_auth(fake, cache).bind(session, fake.url, 5.0, 0.5)
        first = await bound.token()
        await bound.invalidate(first)
        second = await bound.token()
        assert second != first
        await bound.invalidate(second)
        with pytest.raises(RefreshThrottledError, match="15 alive"):
            await bound.token()
        assert fake.stats.refresh_requests == 2
        assert fake.tokens_killed == 0


async def test_no_secret_reaches_a_log_when_redis_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeZoho() as fake:
        down = RedisTokenCache(
            f"redis://user:pa55word@127.0.0.1:{free_port()}/0", key="k", redis_timeout=0.5
        )
        async with (
            down,
            AsyncClient(
                api_domain=fake.url, accounts_url=fake.url, auth=refresh_auth(fake, down)
            ) as zoho,
        ):
            report = await zoho.run(links(10))
    seen = " ".join([caplog.text, repr(down), repr(list(report.results)), repr(zoho)])
    assert "AUTH_FAILED" in seen
    for secret in ("pa55word", fake.client_secret, fake.refresh_token):
        assert secret not in seen


async def test_the_in_process_cache_can_keep_the_budget_too() -> None:
    minted: list[str] = []

    async def mint() -> tuple[str, float]:
        minted.append(f"token-{len(minted)}")
        return minted[-1], 3600.0

    cache = MemoryTokenCache(refresh_limit=1, refresh_window=0.3)
    first = await cache.refresh(None, mint, max_wait=1.0)
    # The budget is spent: a caller that may wait gets the next token when it comes back ...
    second = await cache.refresh(first.value, mint, max_wait=1.0)
    assert [first.value, second.value] == ["token-0", "token-1"]
    # ... one that may not is told so, and mint is not called.
    with pytest.raises(RefreshThrottledError, match="minted 1 access tokens"):
        await cache.refresh(second.value, mint, max_wait=0.01)
    assert len(minted) == 2
