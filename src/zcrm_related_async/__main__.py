"""Command line: ``python -m zcrm_related_async demo`` (also installed as ``zcrm-related``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zcrm-related", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a job against the embedded fake Zoho server")
    demo.add_argument("--parents", type=int, default=200, help="campaigns (default 200)")
    demo.add_argument("--per-parent", type=int, default=100, help="leads each (default 100)")
    demo.add_argument("--latency", type=float, default=0.05, help="fake round trip, s")
    demo.add_argument("--org-limit", type=int, default=10, help="org's concurrent calls")
    args = parser.parse_args(argv)

    from ._demo import print_demo, run_demo

    report, seen = asyncio.run(
        run_demo(args.parents, args.per_parent, args.latency, args.org_limit)
    )
    print_demo(report, seen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
