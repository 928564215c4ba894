"""``python -m benchmarks [--smoke] [--repeat N] [--only SCENARIO ...] [--json FILE]``
(``make bench`` runs it with no options): run the scenarios, print the tables."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .machine import describe, library_description, load_average, pick_cores, pin
from .suite import FULL, SCENARIOS, SMOKE, run_suite
from .tables import ceilings_table, figures_table, profiles_table, runs_table


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="tiny sizes: seconds, for the tests")
    p.add_argument("--repeat", type=int, default=1, help="runs of each; the median is kept")
    p.add_argument(
        "--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="scenarios to run"
    )
    p.add_argument("--json", type=Path, help="also write every measurement to this file")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = dataclasses.replace(SMOKE if args.smoke else FULL, repeat=max(1, args.repeat))
    cores = pick_cores()
    pin(0, cores.client)  # the harness itself stays off the server's core
    command = shlex.join(["python", "-m", "benchmarks", *sys.argv[1:]])
    started, load_before = time.time(), load_average()

    def progress(step: str) -> None:
        print(f"[{time.time() - started:6.1f}s] {step}", file=sys.stderr, flush=True)

    results = run_suite(settings, cores, set(args.only), progress)
    print(f"command: {command}")
    print(f"library: {library_description()}")
    print(f"machine: {describe()}")
    print(f"cores:   {cores.describe()}")
    print(f"load:    {load_before} before, {load_average()} after (1, 5, 15 min)")
    print(f"took:    {time.time() - started:.0f}s, median of {settings.repeat} run(s) each\n")
    if results.rows:
        print(runs_table(results.rows) + "\n")
    if results.ceilings:
        print(ceilings_table(results.ceilings) + "\n")
    print(figures_table(results))
    if results.profiles:
        print("\ncProfile at L=0, own time by place (library functions by name):\n")
        print(profiles_table(results.profiles))
    if args.json is not None:
        args.json.write_text(json.dumps(dataclasses.asdict(results), indent=1, default=str))
    wrong = [row for row in results.rows if not row.measured.verdict.ok]
    for row in wrong:
        print(
            f"\nSTATE WRONG after {row.client} in {row.scenario}: {row.measured.verdict.describe()}"
        )
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
