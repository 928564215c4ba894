"""A blocking batch script (cron, Airflow, Celery): no asyncio in sight.

    python examples/sync_batch.py

One :class:`Client` serves the whole script, and any threads it starts: they share one limit
of concurrent calls, one token refresh and one connection pool.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from _local_zoho import zoho_settings_blocking

from zcrm_related_async import Client, Link

CAMPAIGN = 3652397000000000000
LEAD = 4876876000000000000


def memberships_from_export() -> Iterator[Link]:
    """What a nightly export would hold: 20 campaigns of 150 members each, read lazily."""
    for c in range(20):
        for m in range(150):
            status = "Active" if m % 3 else "Invited"
            yield Link("Campaigns", str(CAMPAIGN + c), "Leads", str(LEAD + c * 150 + m),
                       {"Member_Status": status})  # fmt: skip


def main() -> int:
    with zoho_settings_blocking() as settings, Client(**settings, max_concurrency=10) as zoho:
        # A whole export in one go: batched 100 to a call, 10 calls in flight.
        report = zoho.run(memberships_from_export())
        print(report.summary())
        for result in report.failures()[:5]:
            print("  failed:", result.op, result.code, result.message)

        # Many threads, one client: each task updates its own records.
        def qualify(first: int) -> int:
            leads = range(first, first + 50)
            records = [{"id": str(LEAD + n), "Lead_Status": "Qualified"} for n in leads]
            return zoho.update_records("Leads", records, trigger=[]).succeeded

        with ThreadPoolExecutor(8) as pool:
            updated = sum(pool.map(qualify, range(1000, 1400, 50)))
        print(f"{updated} leads qualified from 8 threads")
    # Leaving the block closed the client: its thread, loop and connections.
    return 0 if updated == 400 else 1  # a cron job's exit code says whether to look


if __name__ == "__main__":
    sys.exit(main())
