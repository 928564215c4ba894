"""A worker process for ``test_token_cache``: one pod of a fleet sharing one refresh token.

    python -m tests.integration.fleet_worker run --redis URL --key K
    python -m tests.integration.fleet_worker hold --redis URL --key K --lease 1

``run`` prints ``ready``; then for each line ``<api url> <cache|none> <first> <links>`` on stdin
(so that the workers start together) it runs one job of ``links`` links with its own
``AsyncClient`` and ``RefreshTokenAuth`` (the fake's credentials), a ``RedisLimiter(limit=10)``
shared by the fleet and, with ``cache``, a ``RedisTokenCache`` on ``K``, and prints a JSON
summary of its report. ``hold`` takes the refresh lock of ``K`` with a refresh that never ends,
prints ``holding`` and waits to be killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections import Counter

from zcrm_related_async import (
    AsyncClient,
    Link,
    RedisLimiter,
    RedisTokenCache,
    RefreshTokenAuth,
    TokenCache,
)

LIMIT = 10
#: what FakeZoho's token endpoint accepts by default
CREDENTIALS = "fake-client-id", "fake-client-secret", "fake-refresh-token"


async def run(args: argparse.Namespace) -> None:
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    while line := (await loop.run_in_executor(None, sys.stdin.readline)).split():
        api, mode, first, links = line
        print(json.dumps(await job(args, api, mode == "cache", int(first), int(links))), flush=True)


async def job(
    args: argparse.Namespace, api: str, shared: bool, first: int, links: int
) -> dict[str, object]:
    ops = [Link("Campaigns", str(first + i // 100), "Leads", str(5000 + i)) for i in range(links)]
    async with contextlib.AsyncExitStack() as stack:
        cache: TokenCache | None = None
        if shared:
            cache = await stack.enter_async_context(RedisTokenCache(args.redis, key=args.key))
        limiter = await stack.enter_async_context(
            RedisLimiter(args.redis, key=f"{args.key}:slots", limit=LIMIT)
        )
        client = await stack.enter_async_context(
            AsyncClient(
                api_domain=api,
                accounts_url=api,
                auth=RefreshTokenAuth(*CREDENTIALS, cache=cache),
                limiter=limiter,
                max_retry_time=20,
                backoff_base=0.05,
                backoff_cap=0.2,
            )
        )
        report = await client.run(ops)
    return {
        "succeeded": report.succeeded,
        "failed": report.failed,
        "codes": dict(Counter(r.code for r in report.failures())),
    }


async def hold(args: argparse.Namespace) -> None:
    async with RedisTokenCache(args.redis, key=args.key, lock_lease=args.lease) as cache:

        async def never() -> tuple[str, float]:
            print("holding", flush=True)
            await asyncio.sleep(3600)
            raise AssertionError("killed long before")

        await cache.refresh(None, never, max_wait=3600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["run", "hold"])
    parser.add_argument("--redis", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--lease", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(run(args) if args.mode == "run" else hold(args))


if __name__ == "__main__":
    main()
