"""Run the fake Zoho CRM standalone (benchmarks run it in its own process).

    python -m zcrm_related_async.testing --host 127.0.0.1 --port 8000 --latency 0.05 \\
        --org-concurrency 10 [--access-token T] [--fault reset_after=0.01 ...] \\
        [--outage 500:30@300 --outage drop:30@600]

Prints ``listening on http://HOST:PORT`` (the real port, also with ``--port 0``) once ready,
then the access token it accepts and how to point ``zcrm-related`` at it, and serves until
SIGINT or SIGTERM. The request log is off, so memory stays flat. A port that cannot be had
(in use, not allowed) is one line on stderr and exit code 1. On the way out it prints one
line per planned outage (``--outage``): ``outage {"kind": ..., "requests": ...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

import attrs

from ._fake import FakeZoho
from ._models import Faults
from ._outage import Outage

_PROG = "python -m zcrm_related_async.testing"
_FAULT_NAMES = tuple(f.name for f in attrs.fields(Faults))
EXIT_CANNOT_LISTEN = 1


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return port


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
        prog=_PROG,
        description="Serve a fake Zoho CRM (related records, update records, OAuth refresh).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=8000, help="0 picks a free port")
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


async def _serve(args: argparse.Namespace, faults: Faults, out: TextIO, err: TextIO) -> int:
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
    for outage in args.outage:
        fake.outage(outage.kind, outage.seconds, outage.after_requests)
    try:
        await fake.start()
    except OSError as error:
        print(f"{_PROG}: {_cannot_listen(args.host, args.port, error)}", file=err, flush=True)
        return EXIT_CANNOT_LISTEN
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Not available on Windows: there Ctrl+C raises KeyboardInterrupt, caught in main().
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        # The first line is read by programs that start the fake (benchmarks): keep its shape.
        print(f"listening on {fake.url}", file=out)
        print(usage(fake.url, fake.access_token, args), file=out, flush=True)
        await stop.wait()
    finally:
        await fake.close()
    for outage in fake.outages:
        print("outage", json.dumps(attrs.asdict(outage)), file=out, flush=True)
    return 0


def usage(url: str, token: str, args: argparse.Namespace) -> str:
    """What a person needs to talk to the fake: the token, and the command line to try."""
    return "\n".join(
        [
            f"access token: {token}",
            f"  (or refresh one: ZOHO_CLIENT_ID={args.client_id} "
            f"ZOHO_CLIENT_SECRET={args.client_secret} ZOHO_REFRESH_TOKEN={args.refresh_token} "
            f"ZOHO_ACCOUNTS_URL={url})",
            "try it:",
            f"  ZOHO_ACCESS_TOKEN={token} zcrm-related run --api-domain {url} "
            "--input ops.jsonl --report report.jsonl",
            f"  curl -X PUT -H 'Authorization: Zoho-oauthtoken {token}' "
            f'-d \'{{"data":[{{"id":"2001"}}]}}\' {url}/crm/v8/Campaigns/1001/Leads',
            "Ctrl+C stops it.",
        ]
    )


def _cannot_listen(host: str, port: int, error: OSError) -> str:
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {host}: give another --port (0 picks a free one)"
    return f"cannot listen on {where}: {error.strerror or error}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m zcrm_related_async.testing``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        faults = Faults(**dict(args.fault))
    except ValueError as exc:
        parser.error(str(exc))
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_serve(args, faults, sys.stdout, sys.stderr))
    return 0


if __name__ == "__main__":
    sys.exit(main())
