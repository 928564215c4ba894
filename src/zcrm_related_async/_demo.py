"""The demo job: thousands of campaign memberships against the embedded fake Zoho server.

No credentials, no network: the fake server runs in this process on 127.0.0.1.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

from ._client import AsyncClient
from ._ops import Link
from ._report import Report
from .testing import FakeZoho


def demo_links(parents: int, per_parent: int, missing: set[str], seed: int = 7) -> Iterator[Link]:
    """Campaign members, parent by parent; ids in ``missing`` do not exist on the server."""
    rng = random.Random(seed)
    for p in range(parents):
        campaign = str(3652397000000000000 + p)
        for m in range(per_parent):
            lead = str(4876876000000000000 + p * per_parent + m)
            status = rng.choice(("Active", "Planning", "Invited"))
            yield Link("Campaigns", campaign, "Leads", lead, {"Member_Status": status})
    del missing  # (documented parameter: the caller registers them on the server)


async def run_demo(
    parents: int = 200, per_parent: int = 100, latency: float = 0.05, org_limit: int = 10
) -> tuple[Report, dict[str, object]]:
    """Run the demo; return the report and what the server saw."""
    total = parents * per_parent
    rng = random.Random(11)
    missing = {str(4876876000000000000 + i) for i in rng.sample(range(total), max(1, total // 100))}
    async with FakeZoho(
        org_concurrency=org_limit, latency=latency, missing_ids=missing, log_requests=False
    ) as fake:
        async with AsyncClient(
            api_domain=fake.url, access_token=fake.access_token, max_concurrency=org_limit
        ) as zoho:
            started = time.perf_counter()
            report = await zoho.run(demo_links(parents, per_parent, missing))
            elapsed = time.perf_counter() - started
        failed_ids = {r.op.related_id for r in report.results if not r.ok}  # type: ignore[union-attr]
        linked = sum(
            len(fake.relations("Campaigns", str(3652397000000000000 + p), "Leads"))
            for p in range(parents)
        )
        seen: dict[str, object] = {
            "seconds": round(elapsed, 3),
            "puts": fake.stats.puts,
            "max_in_flight": fake.stats.max_in_flight,
            "rejected_429": fake.stats.rejected_429,
            "relations_on_server": linked,
            "failures_are_exactly_the_missing_ids": failed_ids == missing,
        }
        return report, seen


def print_demo(report: Report, seen: dict[str, object]) -> None:
    print(report.summary())
    for code, count in report.by_code().most_common():
        print(f"  {code:<22} {count:>8}")
    print("server saw:")
    for key, value in seen.items():
        print(f"  {key:<38} {value}")
