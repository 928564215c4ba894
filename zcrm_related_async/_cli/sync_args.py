"""The ``sync`` command's arguments: ``run``'s connection, progress and job flags (shared with
:mod:`.main`), plus ``--apply`` and ``--max-remove``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._config import DEFAULT_MAX_REMOVE
from .command import EXIT_USAGE, UsageError
from .main import (
    check_files,
    client_options,
    close_shared,
    connection_arguments,
    job_arguments,
    progress_arguments,
)
from .sync import SyncOptions, run_sync


def add_sync_command(commands: Any) -> None:
    """Add ``sync`` to the command's subparsers."""
    sync = commands.add_parser(
        "sync",
        help="make each related list a file names hold exactly the file's link lines",
        description="Make each parent's related list hold exactly the link lines the file "
        "gives for it: link the missing, update the relation fields that differ, delink the "
        "others. Without --apply, read the lists and print the plan; change nothing.",
    )
    sync.add_argument("--input", type=Path, required=True, help="link lines, .jsonl or .csv")
    sync.add_argument(
        "--apply", action="store_true", help="carry the plan out (without it: print it only)"
    )
    sync.add_argument("--report", type=Path, help="report to write, .jsonl or .csv (--apply)")
    sync.add_argument(
        "--journal",
        type=Path,
        help="resumable job (--apply): the same command resumes where it stopped",
    )
    sync.add_argument(
        "--max-remove",
        type=max_remove,
        default=DEFAULT_MAX_REMOVE,
        metavar="SHARE|COUNT",
        help="the most a parent may lose: a share of its list (0.5, 50%%: the default) or a "
        "count (1000); a parent that would lose more changes nothing",
    )
    connection_arguments(sync)
    progress_arguments(sync)
    job_arguments(sync, retry_failed=False)


def max_remove(text: str) -> float:
    """``0.25`` or ``25%``: a share of the list (a float); ``1000``: a count (an int)."""
    value = text.strip()
    try:
        if value.endswith("%"):
            share = float(value[:-1]) / 100
        elif value.isdigit():
            return int(value)
        else:
            share = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a share (0.5, 50%) or a count (1000), got {text!r}"
        ) from None
    if not 0.0 <= share <= 1.0:
        raise argparse.ArgumentTypeError(f"a share must be within 0-1 (0%-100%), got {text!r}")
    return share


def sync_options(args: argparse.Namespace, env: Mapping[str, str]) -> SyncOptions:
    """The sync the arguments and the environment ask for (UsageError if none)."""
    if args.apply and args.report is None:
        raise UsageError("--apply needs --report: one line per input line and per delink")
    if not args.apply:
        for flag, given in (("--report", args.report), ("--journal", args.journal)):
            if given is not None:
                raise UsageError(f"{flag} needs --apply: a plan writes nothing")
    check_files(args)
    # The plan reads the current lists too: it needs credentials as --apply does.
    client = client_options(args, env, need_credentials=True)
    return SyncOptions(
        input=args.input,
        report=args.report,
        journal=args.journal,
        client=client,
        apply=args.apply,
        max_remove=args.max_remove,
        progress=args.progress,
        progress_every=args.progress_every,
        grace=args.grace,
    )


def run_sync_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """``zcrm-related sync``: its exit code."""
    try:
        options = sync_options(args, env)
    except UsageError as error:
        print(f"zcrm-related: {error}", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(_run_and_close(options))


async def _run_and_close(options: SyncOptions) -> int:
    try:
        return await run_sync(options, sys.stdout, sys.stderr)
    finally:
        await close_shared(options.client)
