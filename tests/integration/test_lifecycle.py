"""Lifecycle as httpx has it: a client knows its jobs, close() ends them (each with a complete
report) and closes what it owns, and any later use says the client is closed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.conftest import ClientFactory, campaign_links, client_tasks
from tests.integration.test_cancellation import no_unclosed_resources
from zcrm_related_async import AsyncClient, ClientClosedError, Link, Report
from zcrm_related_async.testing import FakeZoho

links = campaign_links


def check_report(report: Report, ops: list[Link], fake: FakeZoho) -> dict[str, int]:
    assert len(report) == len(ops)
    for result, op in zip(report.results, ops, strict=True):
        assert result.op is op  # a list's report keeps the operations given
        on_server = op.related_id in fake.relations(op.module, op.record_id, op.related_list)
        if result.code == "SUCCESS":
            assert on_server
        if result.code == "NOT_ATTEMPTED":
            assert not on_server
    return dict(report.by_code())


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition not reached")


async def test_close_ends_running_jobs_and_streams_each_with_a_complete_report() -> None:
    async with FakeZoho(latency=0.05, log_requests=False) as fake:
        with no_unclosed_resources() as found:
            zoho = AsyncClient(api_domain=fake.url, access_token=fake.access_token, linger=0)
            ops = links(30, 100)
            job = zoho.start(ops)
            stream = zoho.stream(links(30, 100))
            streamed: list[str] = []

            async def consume() -> None:
                async for _, result in stream:
                    streamed.append(result.code)

            consumer = asyncio.create_task(consume())
            await until(lambda: fake.stats.requests >= 6)
            await zoho.close()
            assert zoho.closed
            with pytest.raises(ClientClosedError, match="closed while this job ran") as caught:
                await job
            report = caught.value.report
            assert report is not None
            codes = check_report(report, ops, fake)
            assert codes.get("NOT_ATTEMPTED", 0) > 0
            with pytest.raises(ClientClosedError):
                await consumer
            assert 0 < len(streamed) <= 3000
            assert client_tasks() == []
        assert found == []


METHODS: dict[str, Callable[[AsyncClient], Awaitable[Any]]] = {
    "run": lambda z: z.run(links(1, 3)),
    "start": lambda z: z.start(links(1, 3)),
    "stream": lambda z: z.stream(links(1, 3)).__anext__(),
    "link": lambda z: z.link("Campaigns", "1", "Leads", ["10"]),
    "delink": lambda z: z.delink("Campaigns", "1", "Leads", ["10"]),
    "update_records": lambda z: z.update_records("Leads", [{"id": "10", "City": "Oslo"}]),
}


async def call(method: str, zoho: AsyncClient) -> None:
    made = METHODS[method](zoho)  # start() and stream() raise here, the others when awaited
    if asyncio.iscoroutine(made) or isinstance(made, Awaitable):
        await made


@pytest.mark.parametrize("method", list(METHODS))
async def test_a_closed_client_refuses_every_method_and_makes_no_new_session(
    fake_zoho: FakeZoho, make_client: ClientFactory, method: str
) -> None:
    zoho = make_client()
    await zoho.run(links(1, 3))
    await zoho.close()
    session = zoho._session
    with pytest.raises(ClientClosedError, match="this AsyncClient is closed"):
        await call(method, zoho)
    assert zoho._session is session  # no new session behind the user's back
    assert fake_zoho.stats.requests == 1


@pytest.mark.parametrize("method", list(METHODS))
async def test_a_closed_session_passed_in_is_named_by_every_method_before_sending(
    fake_zoho: FakeZoho, method: str, caplog: pytest.LogCaptureFixture
) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    zoho = AsyncClient(
        api_domain=fake_zoho.url, access_token=fake_zoho.access_token, session=session
    )
    with (
        caplog.at_level(logging.DEBUG),
        pytest.raises(ClientClosedError, match="session= is closed"),
    ):
        await call(method, zoho)
    assert fake_zoho.stats.requests == 0
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    await zoho.close()


async def test_a_session_closed_by_its_owner_mid_job_stops_the_job_with_its_report(
    fake_zoho: FakeZoho,
) -> None:
    fake_zoho.latency = 0.03
    async with aiohttp.ClientSession() as session:
        zoho = AsyncClient(
            api_domain=fake_zoho.url,
            access_token=fake_zoho.access_token,
            session=session,
            max_concurrency=2,
        )
        ops = links(20, 100)
        job = zoho.start(ops)
        await until(lambda: fake_zoho.stats.requests >= 2)
        await session.close()
        with pytest.raises(ClientClosedError, match="session= is closed") as caught:
            await job
        report = caught.value.report
        assert report is not None
        codes = check_report(report, ops, fake_zoho)
        assert codes.get("NOT_ATTEMPTED", 0) > 0
        await zoho.close()


async def test_a_job_closed_before_it_began_raises_client_closed_with_its_report(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client()
    ops = links(3, 100)
    job = zoho.start(ops)
    await zoho.close()  # the job's task has not run a step yet
    with pytest.raises(ClientClosedError) as caught:
        await job
    report = caught.value.report
    assert report is not None
    assert check_report(report, ops, fake_zoho) == {"NOT_ATTEMPTED": 300}
    assert fake_zoho.stats.requests == 0


async def test_a_stream_whose_session_is_closed_mid_job_raises_after_its_last_result(
    fake_zoho: FakeZoho,
) -> None:
    fake_zoho.latency = 0.02
    async with aiohttp.ClientSession() as session:
        zoho = AsyncClient(
            api_domain=fake_zoho.url,
            access_token=fake_zoho.access_token,
            session=session,
            max_concurrency=2,
            linger=0,
        )
        ops = links(20, 100)
        codes: dict[int, str] = {}

        async def consume() -> None:
            async for index, result in zoho.stream(ops):
                codes[index] = result.code
                if len(codes) == 1:
                    await session.close()

        with pytest.raises(ClientClosedError, match="session= is closed") as caught:
            await consume()
        assert caught.value.report is None  # a stream keeps none: its results were yielded
        assert sorted(codes) == list(range(2000))  # one result per operation, then the error
        # a call cut off by the closing session may have been applied: never NOT_ATTEMPTED
        assert set(codes.values()) <= {"SUCCESS", "NOT_ATTEMPTED", "CONNECTION_ERROR"}
        assert list(codes.values()).count("NOT_ATTEMPTED") >= 1000
        for index, code in codes.items():
            op = ops[index]
            on_server = op.related_id in fake_zoho.relations(
                op.module, op.record_id, op.related_list
            )
            if code == "SUCCESS":
                assert on_server
            if code == "NOT_ATTEMPTED":
                assert not on_server
        await zoho.close()
