"""A worker process for ``test_redis_limiter``: AsyncClients against a shared fake Zoho.

    python -m tests.integration.redis_worker run --api URL --token T --redis URL --key K \\
        --first 0 --calls 60
    python -m tests.integration.redis_worker hold --redis URL --key K --limit 2 --slots 2 \\
        --lease 1                   # take slots, say "held", then wait to be killed

``run`` prints ``ready``, then for each line on stdin (so that the workers start together)
runs one job of single-record links, one parent each (one call each), with a client of ten
slots and ``RedisLimiter(limit=10)`` (line ``redis``) or ``LocalLimiter(10)`` (line
``local``), and prints a JSON summary of its report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import Counter

from zcrm_related_async import AsyncClient, Limiter, Link, LocalLimiter, RedisLimiter

LIMIT = 10


async def run(args: argparse.Namespace) -> None:
    """Say ``ready``, then for each line ``redis`` or ``local`` on stdin run one job with that
    limiter and print its summary; stop at end of input."""
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    first = args.first
    while (phase := (await loop.run_in_executor(None, sys.stdin.readline)).strip()) in (
        "redis",
        "local",
    ):
        print(json.dumps(await job(args, phase == "redis", first)), flush=True)
        first += 1_000_000


async def job(args: argparse.Namespace, shared: bool, first: int) -> dict[str, object]:
    ops = [
        Link("Campaigns", str(1000 + i), "Leads", str(5000 + i))
        for i in range(first, first + args.calls)
    ]
    async with contextlib.AsyncExitStack() as stack:
        limiter: Limiter = LocalLimiter(LIMIT)
        if shared:
            limiter = await stack.enter_async_context(
                RedisLimiter(args.redis, key=args.key, limit=LIMIT)
            )
        client = await stack.enter_async_context(
            AsyncClient(
                api_domain=args.api,
                access_token=args.token,
                max_concurrency=LIMIT,
                limiter=limiter,
                backoff_base=0.05,
                backoff_cap=0.2,
            )
        )
        start = time.monotonic()
        report = await client.run(ops)
        seconds = time.monotonic() - start
    return {
        "succeeded": report.succeeded,
        "failed": report.failed,
        "codes": dict(Counter(r.code for r in report.failures())),
        "seconds": round(seconds, 3),
    }


async def hold(args: argparse.Namespace) -> None:
    limiter = RedisLimiter(args.redis, key=args.key, limit=args.limit, lease=args.lease)
    async with limiter, contextlib.AsyncExitStack() as stack:
        for _ in range(args.slots):
            await stack.enter_async_context(limiter.slot())
        print("held", flush=True)
        await asyncio.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["run", "hold"])
    parser.add_argument("--api")
    parser.add_argument("--token")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--redis")
    parser.add_argument("--key", default="zoho:test")
    parser.add_argument("--limit", type=int, default=LIMIT)
    parser.add_argument("--slots", type=int, default=1)
    parser.add_argument("--lease", type=float, default=60.0)
    args = parser.parse_args()
    asyncio.run(run(args) if args.mode == "run" else hold(args))


if __name__ == "__main__":
    main()
