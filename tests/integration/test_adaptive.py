"""Adaptive concurrency: a client told 25 slots on an org that allows 10 learns the limit.

Goodput against a correctly configured client is a speed figure: it is measured by the
benchmarks (benchmarks/README.md), not asserted here. Here: the 429s and wasted requests.
"""

from __future__ import annotations

from tests.conftest import ClientFactory
from zcrm_related_async import Link
from zcrm_related_async.testing import FakeZoho


def links(parents: int) -> list[Link]:
    return [
        Link("Campaigns", str(p + 1), "Leads", str(1000 + m))
        for p in range(parents)
        for m in range(100)
    ]


async def _job(make_client: ClientFactory, slots: int, adaptive: bool) -> tuple[int, int, int]:
    """(records succeeded, requests, 429s) of 30,000 links against an org limit of 10."""
    async with FakeZoho(org_concurrency=10, latency=0.02, log_requests=False) as fake:
        zoho = make_client(
            fake,
            max_concurrency=slots,
            adaptive_concurrency=adaptive,
            backoff_base=0.02,
            backoff_cap=0.2,
        )
        report = await zoho.run(links(300))
        return report.succeeded, fake.stats.requests, fake.stats.rejected_429


async def test_an_over_configured_client_learns_the_org_limit(
    make_client: ClientFactory,
) -> None:
    succeeded, requests, throttled = await _job(make_client, 25, adaptive=True)
    assert succeeded == 30_000
    assert throttled <= 0.05 * requests
    assert requests <= 300 * 1.05  # hardly a request wasted on 429s


async def test_without_the_window_the_same_client_storms_the_org(
    make_client: ClientFactory,
) -> None:
    _, requests, throttled = await _job(make_client, 25, adaptive=False)
    assert throttled > 0.2 * requests
