"""An asyncio service that links leads to campaigns as events come in, through one shared client.

    python examples/asyncio_service.py

Workers take events (a lead joined a campaign) off a queue and link each one on its own; the
one :class:`AsyncClient`, made at start-up and closed at shutdown, lets them share the org's
concurrency limit, one token refresh and one connection pool, and joins the small calls that
arrive together for the same campaign into one call (one API credit instead of dozens).
Here the events come from a list; in a service they would come from a webhook or a broker.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import Counter
from typing import NamedTuple

from _local_zoho import zoho_settings

from zcrm_related_async import AsyncClient

log = logging.getLogger("campaign-sync")


class Joined(NamedTuple):
    """A lead joined a campaign."""

    campaign_id: str
    lead_id: str
    status: str


def incoming() -> list[Joined]:
    """What a webhook would deliver: 600 leads joining 6 campaigns."""
    return [
        Joined(str(3652397000000000000 + n % 6), str(4876876000000000000 + n), "Active")
        for n in range(600)
    ]


async def worker(zoho: AsyncClient, queue: asyncio.Queue[Joined], outcomes: Counter[str]) -> None:
    while True:
        event = await queue.get()
        try:
            member = {"id": event.lead_id, "Member_Status": event.status}
            report = await zoho.link("Campaigns", event.campaign_id, "Leads", [member])
            result = report.results[0]
            outcomes[result.code] += 1
            if not result.ok:
                log.warning("lead %s: %s %s", event.lead_id, result.code, result.message)
        finally:
            queue.task_done()


async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)  # shut down cleanly on Ctrl-C or a deploy
    outcomes: Counter[str] = Counter()
    async with zoho_settings() as settings, AsyncClient(**settings, max_concurrency=10) as zoho:
        queue: asyncio.Queue[Joined] = asyncio.Queue(maxsize=1000)
        workers = [asyncio.create_task(worker(zoho, queue, outcomes)) for _ in range(50)]
        for event in incoming():
            if stop.is_set():
                break
            await queue.put(event)
        await queue.join()  # every event taken is handled before shutting down
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    # Leaving the block closed the client (and its connections).
    print(f"{sum(outcomes.values())} events handled: {dict(outcomes)}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    asyncio.run(main())
