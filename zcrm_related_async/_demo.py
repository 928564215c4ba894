"""``zcrm-related demo``: a job of tens of thousands of operations through the ``run`` command's
own code path (input file, check, progress bar, report, summary), against the fake Zoho server
running in this process on 127.0.0.1. No credentials, no network.

The job: campaign members linked with a status (1 % of the leads do not exist, so Zoho refuses
those), a quarter of the leads updated, and the members of a few other campaigns delinked.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from ._cli.command import EXIT_INTERRUPTED, EXIT_TERMINATED
from ._cli.job import JobOptions, run_job
from .testing import FakeZoho

_CAMPAIGN = 3652397000000000000
_LEAD = 4876876000000000000
_OTHER_LEAD = 5000000000000000000


def demo_lines(parents: int, per_parent: int) -> Iterator[dict[str, Any]]:
    """The demo's operations, as input lines."""
    rng = random.Random(7)
    for p in range(parents):
        for m in range(per_parent):
            lead = str(_LEAD + p * per_parent + m)
            status = rng.choice(("Active", "Planning", "Invited"))
            yield {
                "op": "link",
                "module": "Campaigns",
                "record_id": str(_CAMPAIGN + p),
                "related_list": "Leads",
                "related_id": lead,
                "fields": {"Member_Status": status},
            }
    for n in range(0, parents * per_parent, 4):
        fields = {"Lead_Status": rng.choice(("Contacted", "Qualified"))}
        yield {"op": "update", "module": "Leads", "record_id": str(_LEAD + n), "fields": fields}
    for campaign, lead in _delinked(parents, per_parent):
        yield {
            "op": "delink",
            "module": "Campaigns",
            "record_id": campaign,
            "related_list": "Leads",
            "related_id": lead,
        }


def _delinked(parents: int, per_parent: int) -> Iterator[tuple[str, str]]:
    """Members of other campaigns, there before the job, which the job delinks."""
    for p in range(max(1, parents // 20)):
        for m in range(per_parent):
            yield str(_CAMPAIGN + parents + p), str(_OTHER_LEAD + p * per_parent + m)


async def run_demo(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Write the demo's input, serve a fake Zoho, run the job; 0 if it came out as it must."""
    parents, per_parent = args.parents, args.per_parent
    workdir: Path = args.workdir or Path(tempfile.mkdtemp(prefix="zcrm-related-demo-"))
    source, report = workdir / "ops.jsonl", workdir / "report.jsonl"
    rng = random.Random(11)
    total_leads = parents * per_parent
    missing = {str(_LEAD + i) for i in rng.sample(range(total_leads), max(1, total_leads // 100))}
    lines, expected_failures = _write_input(source, parents, per_parent, missing)

    async with FakeZoho(
        org_concurrency=args.org_limit,
        latency=args.latency,
        missing_ids=missing,
        log_requests=False,
    ) as fake:
        for campaign, lead in _delinked(parents, per_parent):
            fake.add_relation("Campaigns", campaign, "Leads", lead)
        print(f"demo: {lines:,} operations in {source}", file=out)
        print(f"      against a fake Zoho CRM at {fake.url} (latency {args.latency} s)", file=out)
        options = JobOptions(
            input=source,
            report=report,
            journal=None,
            client={
                "api_domain": fake.url,
                "access_token": fake.access_token,
                "max_concurrency": args.org_limit,
            },
            progress=args.progress,
            progress_every=args.progress_every,
        )
        code = await run_job(options, out, err)
        if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            return code
        failures = _failed_lines(report)
        linked = sum(
            len(fake.relations("Campaigns", str(_CAMPAIGN + p), "Leads")) for p in range(parents)
        )
        left = sum(
            len(fake.relations("Campaigns", campaign, "Leads"))
            for campaign in {c for c, _ in _delinked(parents, per_parent)}
        )
        seen: dict[str, object] = {
            "puts": fake.stats.puts,
            "deletes": fake.stats.deletes,
            "max_in_flight": fake.stats.max_in_flight,
            "rejected_429": fake.stats.rejected_429,
            "relations_on_server": linked,
            "relations_left_to_delink": left,
            "failures_are_exactly_the_missing_ids": failures == expected_failures,
        }
    print("server saw:", file=out)
    for key, value in seen.items():
        print(f"  {key:<38} {value}", file=out)
    as_it_must = failures == expected_failures and left == 0
    return 0 if as_it_must else 1


def _write_input(
    source: Path, parents: int, per_parent: int, missing: set[str]
) -> tuple[int, set[int]]:
    """Write the input file; return its lines and the lines that must fail."""
    source.parent.mkdir(parents=True, exist_ok=True)
    failing = set()
    number = 0
    with source.open("w", encoding="utf-8") as file:
        for number, line in enumerate(demo_lines(parents, per_parent), 1):
            if line.get("related_id", line["record_id"]) in missing:
                failing.add(number)
            file.write(json.dumps(line, separators=(",", ":")) + "\n")
    return number, failing


def _failed_lines(report: Path) -> set[int]:
    with report.open(encoding="utf-8") as file:
        return {rec["line"] for rec in map(json.loads, file) if rec["status"] != "success"}
