"""Job.stop(): read no more input, send nothing new, let the calls in flight finish."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import ClientFactory, campaign_links, client_tasks
from zcrm_related_async import Link
from zcrm_related_async.testing import FakeZoho


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition not reached")


@pytest.mark.parametrize("kind", ["list", "generator"])
async def test_a_stopped_job_finishes_its_calls_in_flight_and_sends_nothing_new(
    make_client: ClientFactory, kind: str
) -> None:
    async with FakeZoho(latency=0.05, log_requests=False) as fake:
        zoho = make_client(fake, max_concurrency=3, linger=0)
        ops = campaign_links(40, 100)
        read: list[Link] = []

        def source() -> Iterator[Link]:
            for op in ops:
                read.append(op)
                yield op

        job = zoho.start(ops if kind == "list" else source())
        await until(lambda: fake.stats.in_flight == 3)
        job.stop()
        report = await job  # no exception: a stopped job ends normally
        assert fake.stats.in_flight == 0  # the calls in flight were waited for, not abandoned
        expected = ops if kind == "list" else read
        assert len(report) == len(expected)
        codes = report.by_code()
        assert set(codes) == {"SUCCESS", "NOT_ATTEMPTED"}  # never CANCELLED: nothing abandoned
        assert codes["SUCCESS"] == fake.stats.requests * 100 >= 300
        for result, op in zip(report.results, expected, strict=True):
            on_server = op.related_id in fake.relations(op.module, op.record_id, op.related_list)
            assert on_server == result.ok
        assert "stopped" in report.failures()[0].message
        if kind == "generator":
            assert len(read) < len(ops)  # reading stopped too
        assert client_tasks() == []


async def test_a_stopped_stream_yields_what_its_calls_in_flight_did_then_ends(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.latency = 0.03
    stream = make_client(max_concurrency=2, linger=0).stream(campaign_links(30, 100))
    codes: dict[str, int] = {}
    async for _, result in stream:
        codes[result.code] = codes.get(result.code, 0) + 1
        if codes.get("SUCCESS") == 1:
            stream.stop()
    assert codes["SUCCESS"] == fake_zoho.stats.requests * 100
    assert set(codes) <= {"SUCCESS", "NOT_ATTEMPTED"}
    assert fake_zoho.stats.requests < 30
