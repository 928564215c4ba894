"""Batching and concurrency as the server sees them: the acceptance job, chunk boundaries,
streaming input, and one limit shared by every caller of a client."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.conftest import ClientFactory
from zcrm_related_async import Link
from zcrm_related_async.testing import FakeZoho


def campaign(p: int) -> str:
    return str(3652397000000000000 + p)


def lead(i: int) -> str:
    return str(4876876000000000000 + i)


@pytest.mark.parametrize("given", ["list", "generator"])
async def test_20000_links_over_200_parents_make_exactly_200_puts(
    make_client: ClientFactory, given: str
) -> None:
    """The issue's acceptance job: 1 % nonexistent ids, an org limit of 10."""
    rng = random.Random(3)
    missing = {lead(i) for i in rng.sample(range(20_000), 200)}
    ops = [
        Link("Campaigns", campaign(p), "Leads", lead(p * 100 + m), {"Member_Status": "Active"})
        for p in range(200)
        for m in range(100)
    ]
    rng.shuffle(ops)  # parents interleaved: grouping must not depend on input order
    async with FakeZoho(
        org_concurrency=10, latency=0.005, missing_ids=missing, log_requests=False
    ) as fake:
        # A generator's report rebuilds each operation from what its call carried, and maps
        # each input position to its place in a chunk of scattered positions.
        source = ops if given == "list" else (op for op in ops)
        report = await make_client(fake, max_concurrency=10).run(source)

        assert fake.stats.puts == 200
        assert fake.stats.requests == 200
        assert fake.stats.max_in_flight <= 10
        assert fake.stats.rejected_429 == 0
        assert len(report) == 20_000
        assert [r.op for r in report.results] == ops
        assert {r.op.related_id for r in report.failures()} == missing  # type: ignore[union-attr]
        assert {r.code for r in report.failures()} == {"INVALID_DATA"}
        for p in range(200):
            expected = {
                lead(p * 100 + m): {"Member_Status": "Active"}
                for m in range(100)
                if lead(p * 100 + m) not in missing
            }
            assert fake.relations("Campaigns", campaign(p), "Leads") == expected


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 199, 200, 201])
async def test_chunk_boundaries(
    fake_zoho: FakeZoho, make_client: ClientFactory, count: int
) -> None:
    ids = [lead(i) for i in range(count)]
    report = await make_client().link("Campaigns", campaign(1), "Leads", ids)
    assert len(report) == count
    assert report.succeeded == count
    assert fake_zoho.stats.requests == -(-count // 100)
    assert sum(len(r.body["data"]) for r in fake_zoho.requests) == count
    assert set(fake_zoho.relations("Campaigns", campaign(1), "Leads")) == set(ids)


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 199, 200, 201])
async def test_chunk_boundaries_of_delink(
    fake_zoho: FakeZoho, make_client: ClientFactory, count: int
) -> None:
    ids = [lead(i) for i in range(count)]
    for related in ids:
        fake_zoho.add_relation("Campaigns", campaign(1), "Leads", related)
    report = await make_client().delink("Campaigns", campaign(1), "Leads", ids)
    assert report.succeeded == count
    assert fake_zoho.stats.deletes == -(-count // 100)
    assert fake_zoho.relations("Campaigns", campaign(1), "Leads") == {}


async def test_smaller_chunk_size(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    report = await make_client(chunk_size=7).link(
        "Campaigns", campaign(1), "Leads", [lead(i) for i in range(50)]
    )
    assert report.succeeded == 50
    assert sorted(len(r.body["data"]) for r in fake_zoho.requests) == [1] + [7] * 7


async def test_a_stream_is_not_read_far_ahead_of_what_is_done(
    make_client: ClientFactory,
) -> None:
    """run() over a generator holds a bounded window, not the whole input."""
    async with FakeZoho(latency=0.002, log_requests=False) as fake:
        read = 0
        peak_ahead = 0

        def ops() -> Iterator[Link]:
            nonlocal read, peak_ahead
            for p in range(300):
                for m in range(100):
                    peak_ahead = max(peak_ahead, read - fake.stats.items)
                    read += 1
                    yield Link("Campaigns", campaign(p), "Leads", lead(m))

        zoho = make_client(fake, max_concurrency=4, max_buffered=500)
        report = await zoho.run(ops())
        assert len(report) == 30_000
        assert report.succeeded == 30_000
        # buffered (500) + chunks waiting for a slot or in flight (2 x 4 + 2 = 10 of 100)
        assert peak_ahead <= 500 + 10 * 100 + 100


async def test_async_iterables_are_accepted(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    async def ops() -> AsyncIterator[Link]:
        for m in range(250):
            await asyncio.sleep(0)
            yield Link("Campaigns", campaign(m % 3), "Leads", lead(m))

    report = await make_client().run(ops())
    assert report.succeeded == 250
    assert fake_zoho.stats.requests == 3


@pytest.mark.parametrize("limit", [1, 3, 10])
async def test_every_caller_of_a_client_shares_its_limit(
    make_client: ClientFactory, limit: int
) -> None:
    async with FakeZoho(org_concurrency=limit, latency=0.01, log_requests=False) as fake:
        zoho = make_client(fake, max_concurrency=limit)

        async def handler(n: int) -> int:
            ops = [Link("Campaigns", campaign(n * 10 + p), "Leads", lead(1)) for p in range(10)]
            return (await zoho.run(ops)).succeeded

        done = await asyncio.gather(*(handler(n) for n in range(20)))
        assert sum(done) == 200
        assert fake.stats.max_in_flight == limit
        assert fake.stats.rejected_429 == 0
