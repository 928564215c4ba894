"""stream() is the primitive: a bounded, awaited hand-off to its consumer, a job that ends
without aclose(), and reading that lets the event loop turn."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

from tests.conftest import ClientFactory, campaign_links, client_tasks
from zcrm_related_async import Link
from zcrm_related_async._config import DEFAULT_STREAM_LIMIT
from zcrm_related_async.testing import FakeZoho


async def test_a_slow_consumer_slows_the_job_instead_of_growing_a_queue(
    make_client: ClientFactory,
) -> None:
    # Before: a consumer pausing 1 ms every tenth result let 28,900 of 30,000 results pile up.
    async with FakeZoho(log_requests=False) as fake:
        zoho = make_client(fake, linger=0)
        stream = zoho.stream(campaign_links(300, 100))
        most = 0
        seen = set()
        async for index, result in stream:
            most = max(most, stream.waiting + 1)  # the one just yielded was waiting too
            seen.add(index)
            assert result.ok
            if len(seen) % 10 == 0:
                await asyncio.sleep(0.001)
        assert len(seen) == 30_000
        assert 100 < most <= DEFAULT_STREAM_LIMIT  # results did wait, within the bound


async def test_max_waiting_bounds_what_waits_for_the_consumer(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    stream = make_client(linger=0).stream(campaign_links(40, 100), max_waiting=300)
    most = 0
    count = 0
    async for _ in stream:
        most = max(most, stream.waiting + 1)
        count += 1
        if count % 10 == 0:
            await asyncio.sleep(0.001)
    assert count == 4000
    assert 100 <= most <= 300


async def test_a_stream_let_go_without_aclose_ends_its_job(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.latency = 0.02
    zoho = make_client(max_concurrency=2, linger=0)
    seen = 0
    async for _ in zoho.stream(campaign_links(50, 100)):
        seen += 1
        if seen == 150:
            break  # no aclose(), no async with: the stream is simply dropped
    for _ in range(200):
        if not client_tasks():
            break
        await asyncio.sleep(0.01)
    assert client_tasks() == []
    requests = fake_zoho.stats.requests
    assert requests < 50
    await asyncio.sleep(0.1)
    assert fake_zoho.stats.requests == requests  # nothing more is sent


async def test_reading_a_plain_iterable_lets_the_loop_turn(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    # Before: 100,000 shuffled operations (so no call fills up while reading) were read in
    # one go, stalling the loop for 0.4 s. 99 per parent: no call is ready before the end.
    ops = [
        Link("Campaigns", str(p), "Leads", str(1000 + m)) for p in range(1000) for m in range(99)
    ]
    random.Random(1).shuffle(ops)
    ticks = 0
    during: list[int] = []

    def source() -> Iterator[Link]:
        during.append(ticks)
        yield from ops
        during.append(ticks)

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticking = asyncio.create_task(ticker())
    try:
        job = make_client(linger=0, max_buffered=200_000).start(source())
        await asyncio.sleep(0)
        await job
    finally:
        ticking.cancel()
    first, last = during
    assert last - first >= 99_000 // 512 - 1


async def test_results_of_operations_read_after_the_credits_ran_out_wait_within_the_bound(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(credits=2, log_requests=False) as fake:
        stream = make_client(fake, max_concurrency=1, linger=0).stream(
            iter(campaign_links(50, 100)), max_waiting=300
        )
        most = 0
        codes: dict[str, int] = {}
        async for _, result in stream:
            most = max(most, stream.waiting + 1)
            codes[result.code] = codes.get(result.code, 0) + 1
            if sum(codes.values()) % 10 == 0:
                await asyncio.sleep(0)
        assert codes == {"SUCCESS": 200, "API_CREDITS_EXHAUSTED": 4800}
        assert most <= 300
