"""Run the fake Zoho CRM standalone (benchmarks run it in its own process).

    python -m zcrm_related_async.testing --host 127.0.0.1 --port 8000 --latency 0.05 \\
        --org-concurrency 10 [--access-token T] [--fault reset_after=0.01 ...] \\
        [--outage 500:30@300 --outage drop:30@600]

Prints ``listening on http://HOST:PORT`` (the real port, also with ``--port 0``) once ready
and serves until SIGINT or SIGTERM. The request log is off, so memory stays flat. On the way
out it prints one line per planned outage: ``outage {"kind": ..., "requests": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from collections.abc import Sequence

import attrs

from ._fake import FakeZoho
from ._models import Faults
from ._outage import Outage

_FAULT_NAMES = tuple(f.name for f in attrs.fields(Faults))


def _fault(text: str) -> tuple[str, float]:
    name, eq, value = text.partition("=")
    if not eq or name not in _FAULT_NAMES:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE with NAME in {_FAULT_NAMES}")
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zcrm_related_async.testing",
        description="Serve a fake Zoho CRM (related records, update records, OAuth refresh).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    p.add_argument("--latency", type=float, default=0.0, help="seconds every API call takes")
    p.add_argument(
        "--org-concurrency", type=int, default=10, help="calls in flight allowed; 0 = unlimited"
    )
    p.add_argument("--access-token", help="value of the first access token (default: random)")
    p.add_argument("--client-id", default="fake-client-id")
    p.add_argument("--client-secret", default="fake-client-secret")
    p.add_argument("--refresh-token", default="fake-refresh-token")
    p.add_argument("--token-ttl-requests", type=int, help="API calls a token lives for")
    p.add_argument("--token-ttl-seconds", type=float, default=3600.0)
    p.add_argument("--refresh-limit", type=int, help="successful refreshes per window")
    p.add_argument("--refresh-window", type=float, default=600.0)
    p.add_argument("--credits", type=int, help="API credits (default: unlimited)")
    p.add_argument("--seed", type=int, default=0, help="RNG seed of random faults")
    p.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"a Faults field, repeatable; NAME in {', '.join(_FAULT_NAMES)}",
    )
    p.add_argument(
        "--outage",
        type=_outage,
        action="append",
        default=[],
        metavar="KIND:SECONDS@REQUESTS",
        help="an outage (KIND 500 or drop) after that many API calls, repeatable",
    )
    return p


def _outage(text: str) -> Outage:
    try:
        return Outage.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


async def _serve(args: argparse.Namespace, faults: Faults) -> None:
    fake = FakeZoho(
        org_concurrency=args.org_concurrency or None,
        latency=args.latency,
        token_ttl_requests=args.token_ttl_requests,
        token_ttl_seconds=args.token_ttl_seconds,
        refresh_limit=args.refresh_limit,
        refresh_window=args.refresh_window,
        faults=faults,
        seed=args.seed,
        log_requests=False,
        credits=args.credits,
        host=args.host,
        port=args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
        refresh_token=args.refresh_token,
        access_token=args.access_token,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available on Windows: there Ctrl+C raises KeyboardInterrupt, caught in main().
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    for outage in args.outage:
        fake.outage(outage.kind, outage.seconds, outage.after_requests)
    async with fake:
        print(f"listening on {fake.url}", flush=True)
        await stop.wait()
    for outage in fake.outages:
        print("outage", json.dumps(attrs.asdict(outage)), flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m zcrm_related_async.testing``."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        faults = Faults(**dict(args.fault))
    except ValueError as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, faults))


if __name__ == "__main__":
    main()
