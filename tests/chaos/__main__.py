"""``python -m tests.chaos`` (``make chaos``): a big chaos run; exit status 1 if any guarantee
broke. ``--help`` lists the knobs; every default is the issue's scenario (50,000 operations over
500 parents, every fault on, tokens dying every 150 calls, and two 3 s outages mid-job)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .scenario import ChaosConfig, run_chaos


def main(argv: list[str] | None = None) -> int:
    defaults = ChaosConfig()
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--ops", type=int, default=defaults.ops)
    parser.add_argument("--parents", type=int, default=defaults.parents)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--chunk-size", type=int, default=defaults.chunk_size)
    parser.add_argument("--concurrency", type=int, default=defaults.max_concurrency)
    parser.add_argument("--timeout", type=float, default=defaults.timeout)
    parser.add_argument("--token-ttl-requests", type=int, default=defaults.token_ttl_requests)
    parser.add_argument(
        "--outage-seconds",
        type=float,
        default=defaults.outage_seconds,
        help="the outage phase: two outages this long mid-job (0: none)",
    )
    args = parser.parse_args(argv)
    config = ChaosConfig(
        ops=args.ops,
        parents=args.parents,
        seed=args.seed,
        chunk_size=args.chunk_size,
        max_concurrency=args.concurrency,
        timeout=args.timeout,
        token_ttl_requests=args.token_ttl_requests,
        outage_seconds=args.outage_seconds,
    )
    outcome = asyncio.run(run_chaos(config))
    print(outcome.summary())
    problems = outcome.problems()
    for problem in problems[:20]:
        print("  VIOLATION:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
