"""Link, update and delink Zoho CRM related records in bulk, from a JSONL or CSV file.

Credentials come from the environment, never from the command line (where any user of the
machine can read them in the process list): ZOHO_ACCESS_TOKEN, or ZOHO_CLIENT_ID,
ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN (with ZOHO_ACCOUNTS_URL for an accounts server the
data centre does not imply).

Several processes on shards of one input share the org's call slots and one access token
with --redis URL (or ZOHO_REDIS_URL, for a URL with a password); the keys derive from a hash
of ZOHO_CLIENT_ID unless --redis-key names them.

Exit codes: 0 every line succeeded, 1 some failed (the report says which), 2 bad usage or bad
input (nothing was sent), 130 interrupted (SIGINT), 143 stopped (SIGTERM): the report holds the
lines done so far.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._auth import RefreshTokenAuth
from .._config import (
    DATA_CENTERS,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_OUTAGE,
    DEFAULT_VERSION,
    ENVIRONMENTS,
    VERSIONS,
    check_version,
    resolve_api_domain,
)
from .._exceptions import ConfigurationError
from .._redis import RedisLimiter
from .._redis_token import RedisTokenCache, default_key
from .._token_cache import TokenCache
from .command import EXIT_USAGE, UsageError
from .job import JobOptions, run_job

_REFRESH = ("ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``zcrm-related`` and ``python -m zcrm_related_async``."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, or a usage error argparse has already explained
        return exit.code if isinstance(exit.code, int) else EXIT_USAGE
    try:
        if args.command == "demo":
            from .._demo import run_demo

            return asyncio.run(run_demo(args, sys.stdout, sys.stderr))
        if args.command == "sync":
            from .sync_args import run_sync_command

            return run_sync_command(args, os.environ)
        options = job_options(args, os.environ)
    except UsageError as error:
        print(f"zcrm-related: {error}", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(_run_and_close(options))


async def _run_and_close(options: JobOptions) -> int:
    try:
        return await run_job(options, sys.stdout, sys.stderr)
    finally:
        await close_shared(options.client)


async def close_shared(client: Mapping[str, Any]) -> None:
    """Close the shared Redis objects (--redis) of a client's arguments: pending releases,
    then their clients."""
    auth = client.get("auth")
    for shared in (client.get("limiter"), getattr(auth, "cache", None)):
        if isinstance(shared, (RedisLimiter, RedisTokenCache)):
            await shared.aclose()


def check_files(args: argparse.Namespace) -> None:
    """``--input`` exists; ``--report`` and ``--journal``, if given, can be written and name
    three different files (``run`` and ``sync`` alike)."""
    paths = {"--input": args.input.resolve()}
    for flag, path in (("--report", args.report), ("--journal", args.journal)):
        if path is not None:
            paths[flag] = path.resolve()
    if len(set(paths.values())) < len(paths):
        raise UsageError(f"{', '.join(paths)} must name different files")
    if not args.input.is_file():
        raise UsageError(f"--input: no such file: {args.input}")
    for flag in ("--report", "--journal"):
        if flag in paths and not paths[flag].parent.is_dir():
            raise UsageError(f"{flag}: no such directory: {paths[flag].parent}")


def job_options(args: argparse.Namespace, env: Mapping[str, str]) -> JobOptions:
    """The job the ``run`` arguments and the environment ask for (UsageError if none)."""
    if args.report is None and not args.dry_run:
        raise UsageError("--report is required (unless --dry-run, which writes no report)")
    check_files(args)
    # a dry run sends nothing, so it needs no credentials
    client = client_options(args, env, need_credentials=not args.dry_run)
    return JobOptions(
        input=args.input,
        report=args.report,
        journal=args.journal,
        client=client,
        dry_run=args.dry_run,
        progress=args.progress,
        progress_every=args.progress_every,
        retry_failed=args.retry_failed,
        grace=args.grace,
    )


def client_options(
    args: argparse.Namespace, env: Mapping[str, str], need_credentials: bool
) -> dict[str, Any]:
    """:class:`AsyncClient`'s arguments from the connection and job flags and the
    environment (``run`` and ``sync`` share them)."""
    if args.concurrency < 1:
        raise UsageError(f"--concurrency: expected a number >= 1, got {args.concurrency}")
    _job_flags(args)  # --max-outage, --grace, --retry-failed
    client: dict[str, Any] = {"version": args.version, "max_concurrency": args.concurrency}
    client["max_outage"] = args.max_outage
    try:
        check_version(args.version)
        if args.api_domain is not None:
            client["api_domain"] = resolve_api_domain(args.api_domain, "us", "production")
        else:
            resolve_api_domain(None, args.data_center, args.environment)
            client["data_center"] = args.data_center
            client["environment"] = args.environment
        if need_credentials:
            limiter, cache = shared_by_processes(args, env)
            client.update(credentials(env, args.api_domain, cache))
            if limiter is not None:
                client["limiter"] = limiter
    except ConfigurationError as error:
        raise UsageError(str(error)) from None
    return client


def credentials(
    env: Mapping[str, str], api_domain: str | None, cache: TokenCache | None = None
) -> dict[str, Any]:
    """``access_token=`` or ``auth=`` for the client, from the environment; a refresh token's
    access token is kept in ``cache`` (default: in this process)."""
    token = env.get("ZOHO_ACCESS_TOKEN", "").strip()
    if token:
        return {"access_token": token}
    given = [name for name in _REFRESH if env.get(name, "").strip()]
    if not given:
        raise UsageError(
            "no credentials: set ZOHO_ACCESS_TOKEN, or ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and "
            "ZOHO_REFRESH_TOKEN, in the environment"
        )
    if len(given) < len(_REFRESH):
        missing = ", ".join(name for name in _REFRESH if name not in given)
        raise UsageError(f"{', '.join(given)} set but not {missing}")
    accounts = env.get("ZOHO_ACCOUNTS_URL", "").strip() or None
    if accounts is None and api_domain is not None:
        accounts = _accounts_of(api_domain)
        if accounts is None:
            raise UsageError(
                f"set ZOHO_ACCOUNTS_URL: no Zoho data centre is known for --api-domain {api_domain}"
            )
    auth = RefreshTokenAuth(
        env["ZOHO_CLIENT_ID"],
        env["ZOHO_CLIENT_SECRET"],
        env["ZOHO_REFRESH_TOKEN"],
        accounts,
        cache=cache,
    )
    return {"auth": auth}


def shared_by_processes(
    args: argparse.Namespace, env: Mapping[str, str]
) -> tuple[RedisLimiter | None, RedisTokenCache | None]:
    """With ``--redis``: a ``RedisLimiter`` and, for a refresh token, a ``RedisTokenCache``,
    shared by every process given the same Redis and key."""
    url = args.redis or env.get("ZOHO_REDIS_URL", "").strip() or None
    if url is None:
        if args.redis_key is not None:
            raise UsageError("--redis-key: needs --redis URL (or ZOHO_REDIS_URL)")
        return None, None
    if args.redis is not None and urlsplit(args.redis).password:
        raise UsageError(
            "--redis: a password on the command line is readable by any user of the machine; "
            "set ZOHO_REDIS_URL in the environment instead"
        )
    client_id = env.get("ZOHO_CLIENT_ID", "").strip()
    access_token = env.get("ZOHO_ACCESS_TOKEN", "").strip()
    if not access_token and not client_id:
        return None, None  # no credentials: credentials() says what is missing
    refresh = not access_token
    if args.redis_key is not None:
        key = args.redis_key
    elif refresh:
        key = default_key(client_id)  # a hash: the client id itself never reaches Redis
    else:
        raise UsageError("--redis with ZOHO_ACCESS_TOKEN: name the shared keys with --redis-key")
    try:
        limiter = RedisLimiter(url, key=f"{key}:slots", limit=args.concurrency)
        cache = RedisTokenCache(url, key=f"{key}:token") if refresh else None
    except ImportError as error:
        raise UsageError(f"--redis: {error}") from None
    return limiter, cache


def _accounts_of(api_domain: str) -> str | None:
    """The accounts server of the data centre an API domain is in, if it is Zoho's."""
    host = urlsplit(api_domain).hostname or ""
    # Longest suffix first: zohoapis.com.au must not be taken for zohoapis.com.
    for suffix, accounts in sorted(DATA_CENTERS.values(), key=lambda dc: -len(dc[0])):
        if host == suffix or host.endswith("." + suffix):
            return accounts
    return None


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    # 0 or less would write a progress line on every turn of the loop: millions of them.
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zcrm-related",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="carry out every operation of a JSONL or CSV file",
        description="Carry out every operation of a JSONL or CSV file; write one report "
        "line per input line.",
    )
    run.add_argument("--input", type=Path, required=True, help="operations, .jsonl or .csv")
    run.add_argument(
        "--report", type=Path, help="report to write, .jsonl or .csv (not needed with --dry-run)"
    )
    run.add_argument(
        "--journal", type=Path, help="resumable job: the same command resumes where it stopped"
    )
    run.add_argument(
        "--dry-run", action="store_true", help="print the calls and API credits; send nothing"
    )
    connection_arguments(run)
    progress_arguments(run)
    job_arguments(run)

    from .sync_args import add_sync_command  # it builds on this module's helpers

    add_sync_command(commands)

    demo = commands.add_parser(
        "demo", help="a job of tens of thousands of operations against a built-in fake Zoho"
    )
    demo.add_argument("--parents", type=int, default=200, help="campaigns (default 200)")
    demo.add_argument("--per-parent", type=int, default=100, help="leads each (default 100)")
    demo.add_argument("--latency", type=float, default=0.05, help="fake round trip, s")
    demo.add_argument("--org-limit", type=int, default=10, help="org's concurrent calls")
    demo.add_argument("--workdir", type=Path, help="where the input and report go (a temp dir)")
    progress_arguments(demo)
    return parser


def connection_arguments(parser: argparse.ArgumentParser) -> None:
    """Where Zoho is and how many calls it takes at once (``run`` and ``sync`` share them)."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--api-domain", help="API host, no path: such as https://www.zohoapis.eu")
    where.add_argument("--data-center", default="us", choices=sorted(DATA_CENTERS))
    parser.add_argument("--environment", default="production", choices=list(ENVIRONMENTS))
    parser.add_argument(
        "--version",
        default=DEFAULT_VERSION,
        help=f"Zoho CRM API version: {', '.join(VERSIONS)} (default {DEFAULT_VERSION})",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_MAX_CONCURRENCY,
        help=f"calls in flight at once (the org's limit; default {DEFAULT_MAX_CONCURRENCY})",
    )
    parser.add_argument(
        "--redis",
        metavar="URL",
        help="share the org's call slots and access token with every process given the same "
        "Redis (redis://host:6379/0)",
    )
    parser.add_argument(
        "--redis-key",
        metavar="KEY",
        help="the shared keys' prefix (default: from a hash of ZOHO_CLIENT_ID)",
    )


def progress_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        default="auto",
        choices=("auto", "bar", "log", "off"),
        help="auto: a bar on a terminal, a line every few seconds otherwise",
    )
    parser.add_argument(
        "--progress-every",
        type=_positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="seconds between progress lines when not on a terminal (default 5)",
    )


def job_arguments(parser: argparse.ArgumentParser, retry_failed: bool = True) -> None:
    """Outages, graceful stops and retries (see _cli/job.py)."""
    parser.add_argument(
        "--max-outage",
        type=float,
        default=DEFAULT_MAX_OUTAGE,
        metavar="SECONDS",
        help="how long the job waits for Zoho to come back from an outage before the lines it "
        f"holds fail, to be sent again by the next run (default {DEFAULT_MAX_OUTAGE:g})",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="after SIGTERM or a first Ctrl-C, how long calls in flight may take to finish "
        "(default 30); a second signal stops at once",
    )
    if not retry_failed:
        return
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="with --journal: send again the lines whose outcome was a failure",
    )


def _job_flags(args: argparse.Namespace) -> None:
    if not args.max_outage > 0:
        raise UsageError(f"--max-outage: expected seconds > 0, got {args.max_outage}")
    if not args.grace >= 0:
        raise UsageError(f"--grace: expected seconds >= 0, got {args.grace}")
    if getattr(args, "retry_failed", False) and args.journal is None:
        raise UsageError("--retry-failed needs --journal: the journal says which lines failed")
