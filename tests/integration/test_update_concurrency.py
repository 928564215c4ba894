"""Zoho's sub-concurrency limit: Update Records calls of more than 10 records run at most 10 at
a time per org, whatever its plan allows. An org with 25 slots keeps 25 link calls in flight
while updates run 10 at a time, with no 429."""

from __future__ import annotations

import asyncio

import aiohttp

from tests.conftest import ClientFactory
from zcrm_related_async import Link, Operation, UpdateRecord
from zcrm_related_async.testing import FakeZoho


def _mixed(parents: int, updates: int) -> list[Operation]:
    """Links of ``parents`` campaigns (100 each) and ``updates`` record updates, interleaved
    call by call: one chunk of 100 updates after each parent's links."""
    ops: list[Operation] = []
    for p in range(parents):
        ops += [Link("Campaigns", str(p + 1), "Leads", str(10_000 + m)) for m in range(100)]
        start = p * 100
        ops += [
            UpdateRecord("Leads", str(100_000 + i), {"Lead_Status": "Contacted"})
            for i in range(start, min(start + 100, updates))
        ]
    return ops


async def test_the_fake_refuses_an_eleventh_heavy_update() -> None:
    # The switch the next test relies on: past 10 heavy updates in flight, a 429.
    async with FakeZoho(org_concurrency=25, update_concurrency=10, latency=0.3) as fake:
        body = (
            '{"data":['
            + ",".join(f'{{"id":"{100 + i}","Lead_Status":"New"}}' for i in range(11))
            + "]}"
        )
        headers = {
            "Authorization": f"Zoho-oauthtoken {fake.access_token}",
            "Content-Type": "application/json",
        }
        async with aiohttp.ClientSession() as session:

            async def put() -> int:
                async with session.put(
                    f"{fake.url}/crm/v8/Leads", data=body, headers=headers
                ) as response:
                    return response.status

            statuses = await asyncio.gather(*(put() for _ in range(11)))
        assert sorted(statuses).count(429) == 1
        assert fake.stats.max_heavy_updates_in_flight == 11


async def test_updates_run_ten_at_a_time_while_links_keep_every_slot(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(
        org_concurrency=25, update_concurrency=10, latency=0.05, log_requests=False
    ) as fake:
        zoho = make_client(fake, max_concurrency=25, adaptive_concurrency=False)
        report = await zoho.run(_mixed(parents=60, updates=3_000))
        assert report.succeeded == len(report) == 9_000
        assert fake.stats.rejected_429 == 0
        assert fake.stats.max_heavy_updates_in_flight == 10
        assert fake.stats.max_in_flight == 25  # the links took the slots updates may not


async def test_no_sub_concurrency_429_shrinks_the_window(make_client: ClientFactory) -> None:
    # The adaptive window starts at 10 and grows on successes: with updates held to 10 on
    # their own, none is refused and the window grows past 10 for the links.
    async with FakeZoho(
        org_concurrency=25, update_concurrency=10, latency=0.02, log_requests=False
    ) as fake:
        zoho = make_client(fake, max_concurrency=25)
        report = await zoho.run(_mixed(parents=150, updates=5_000))
        assert report.succeeded == len(report) == 20_000
        assert fake.stats.rejected_429 == 0
        assert fake.stats.max_heavy_updates_in_flight <= 10
        assert fake.stats.max_in_flight > 10
