"""Cancellation: however a job is stopped (its task cancelled, asyncio.timeout, the web request
awaiting it abandoned by its client), nothing is left running, no connection stays checked out,
no session is left unclosed, and the job's report tells for each operation what became of it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import warnings
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any, cast

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import ClientFactory, campaign_links, client_tasks
from zcrm_related_async import AsyncClient, Link, Report
from zcrm_related_async.testing import FakeZoho

FAST = {"backoff_base": 0.01, "backoff_cap": 0.05}


links = campaign_links


def checked_out(zoho: AsyncClient) -> int:
    """Connections of the client's session that are in use (not idle in the pool)."""
    session = zoho._session
    assert session is not None
    connector = session.connector
    assert connector is not None
    return len(connector._acquired)


async def settled(fake: FakeZoho) -> None:
    """Wait until the server has finished every call it received (at most 2 s)."""
    for _ in range(200):
        if fake.stats.in_flight == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{fake.stats.in_flight} calls still in flight on the server")


async def until(condition: Any, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


def check_report(report: Report, ops: list[Link], fake: FakeZoho) -> dict[str, int]:
    """One result per operation, each code true to the server's state; the codes' counts."""
    assert len(report) == len(ops)
    assert [r.op for r in report.results] == ops
    codes = report.by_code()
    assert set(codes) <= {"SUCCESS", "CANCELLED", "NOT_ATTEMPTED"}, codes
    for result in report.results:
        op = result.op
        assert isinstance(op, Link)
        on_server = op.related_id in fake.relations(op.module, op.record_id, op.related_list)
        if result.code == "SUCCESS":
            assert on_server, result
        if result.code == "NOT_ATTEMPTED":
            assert not on_server, result
            assert result.attempts == 0
    return dict(codes)


@contextlib.contextmanager
def no_unclosed_resources() -> Iterator[list[str]]:
    """Collect ResourceWarnings and the loop's 'Unclosed ...' reports (aiohttp reports an
    unclosed session both ways) while the block runs and at a garbage collection after it."""
    found: list[str] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: found.append(str(context.get("message"))))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield found
            gc.collect()
        found.extend(str(w.message) for w in caught if issubclass(w.category, ResourceWarning))
    finally:
        loop.set_exception_handler(previous)


async def test_cancelling_the_task_of_a_run_leaves_nothing_running_or_checked_out(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(latency=0.05, log_requests=False) as fake:
        zoho = make_client(fake, max_concurrency=4)
        task = asyncio.create_task(zoho.run(links(40, 100)))
        await until(lambda: fake.stats.requests >= 6)
        assert checked_out(zoho) > 0  # calls are in flight: the checks below can see them
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert client_tasks() == []
        assert checked_out(zoho) == 0
        await settled(fake)
        # the client is not left broken: the next job runs normally
        assert (await zoho.run(links(2, 10))).succeeded == 20


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
async def test_asyncio_timeout_around_a_run_leaves_nothing_behind(
    make_client: ClientFactory,
) -> None:
    if sys.version_info >= (3, 11):  # for mypy, which checks against 3.10
        async with FakeZoho(latency=0.05, log_requests=False) as fake:
            zoho = make_client(fake, max_concurrency=4)
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):
                    await zoho.run(links(40, 100))
            assert fake.stats.requests > 0
            assert client_tasks() == []
            assert checked_out(zoho) == 0
            await settled(fake)


@pytest.mark.parametrize(
    "parents",
    [
        pytest.param(10, id="while-reading-the-input"),  # more chunks than may be pending
        pytest.param(3, id="after-reading-the-input"),  # every chunk already under way
    ],
)
async def test_calls_in_flight_when_a_job_is_cancelled_are_not_reported_as_never_sent(
    make_client: ClientFactory, parents: int
) -> None:
    # The server applies a call even when the client gave up on its answer (as Zoho does):
    # a call that was in flight must say CANCELLED ("may have been applied"), never
    # NOT_ATTEMPTED.
    async with FakeZoho(latency=0.3, log_requests=False) as fake:
        zoho = make_client(fake, max_concurrency=3, linger=0)
        ops = links(parents, 100)
        job = zoho.start(ops)
        await until(lambda: fake.stats.in_flight == 3)
        job.cancel()
        await job.wait()
        await settled(fake)  # the three calls in flight are applied now
        codes = check_report(job.report(), ops, fake)
        assert codes["CANCELLED"] == 300
        assert codes.get("NOT_ATTEMPTED", 0) == len(ops) - 300
        assert {r.attempts for r in job.report().results if r.code == "CANCELLED"} == {1}


async def test_a_job_cancelled_while_waiting_out_a_backoff_reports_what_it_tried(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.inject("500", times=3)
    zoho = make_client(max_concurrency=1, backoff_base=5.0, backoff_cap=5.0, linger=0)
    ops = links(3, 100)
    job = zoho.start(ops)
    await until(lambda: fake_zoho.stats.requests >= 3)  # every chunk tried once, all now wait
    job.cancel()
    await job.wait()
    report = job.report()
    codes = check_report(report, ops, fake_zoho)
    # the chunks that were tried are not claimed as never sent; none is claimed a success
    assert codes == {"CANCELLED": 300}
    assert {r.attempts for r in report.results} == {1}
    assert client_tasks() == []
    assert checked_out(zoho) == 0


async def test_a_job_cancelled_while_its_token_is_fetched_sent_nothing(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fetching = asyncio.Event()

    async def slow_token() -> str:
        fetching.set()
        await asyncio.sleep(10)
        return fake_zoho.access_token

    zoho = make_client(auth=slow_token, linger=0)
    ops = links(3, 150)
    job = zoho.start(ops)
    await fetching.wait()
    job.cancel()
    await job.wait()
    assert check_report(job.report(), ops, fake_zoho) == {"NOT_ATTEMPTED": 450}
    assert fake_zoho.stats.requests == 0
    assert client_tasks() == []


async def test_a_job_cancelled_after_it_finished_keeps_its_report(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    ops = links(2, 150)
    job = make_client().start(ops)
    report = await job
    job.cancel()
    await job.wait()
    assert check_report(job.report(), ops, fake_zoho) == {"SUCCESS": 300}
    assert report.succeeded == 300


async def test_a_cancelled_stream_stops_its_job(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.latency = 0.02
    zoho = make_client(max_concurrency=2)
    seen = 0
    stream = cast(AsyncGenerator[Any, None], zoho.stream(links(30, 100)))
    async with contextlib.aclosing(stream) as results:
        async for _ in results:
            seen += 1
            if seen == 150:
                break
    assert client_tasks() == []
    assert checked_out(zoho) == 0
    await settled(fake_zoho)
    assert fake_zoho.stats.requests < 30


async def test_a_cancelled_run_of_a_client_in_async_with_leaves_no_unclosed_session() -> None:
    async with FakeZoho(latency=0.05, log_requests=False) as fake:
        with no_unclosed_resources() as found:
            started = asyncio.Event()

            async def work() -> None:
                async with AsyncClient(api_domain=fake.url, access_token=fake.access_token) as z:
                    started.set()
                    await z.run(links(40, 100))

            task = asyncio.create_task(work())
            await started.wait()
            await until(lambda: fake.stats.requests >= 3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            del task
            assert client_tasks() == []
            await settled(fake)
        assert found == []


# --- a web application whose request awaits a job ---------------------------------------


@contextlib.asynccontextmanager
async def web_app(fake: FakeZoho, outcomes: list[object]) -> AsyncIterator[str]:
    """An aiohttp.web app whose ``/sync`` makes a client per request and runs a job in it;
    on cancellation it keeps the job's report in ``outcomes``. ``handler_cancellation`` makes
    aiohttp cancel a handler whose client went away."""

    async def sync(request: web.Request) -> web.Response:
        async with AsyncClient(
            api_domain=fake.url, access_token=fake.access_token, max_concurrency=3
        ) as zoho:
            job = zoho.start(links(40, 100))
            try:
                report = await job
            except asyncio.CancelledError:
                job.cancel()
                await job.wait()
                outcomes.append(job.report())
                raise
            return web.json_response({"succeeded": report.succeeded})

    async def hold(request: web.Request) -> web.Response:
        async with AsyncClient(
            api_domain=fake.url, access_token=fake.access_token, max_concurrency=3
        ) as zoho:
            await zoho.run(links(40, 100))
        return web.Response(text="done")

    app = web.Application()
    app.router.add_get("/sync", sync)
    app.router.add_get("/hold", hold)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("path", ["/sync", "/hold"])
async def test_a_web_request_whose_client_disconnects_cancels_its_job_cleanly(path: str) -> None:
    async with FakeZoho(latency=0.05, log_requests=False) as fake:
        outcomes: list[object] = []
        with no_unclosed_resources() as found:
            async with web_app(fake, outcomes) as base, aiohttp.ClientSession() as browser:
                with pytest.raises(asyncio.TimeoutError):
                    # the browser gives up mid-job and closes its connection
                    await browser.get(base + path, timeout=aiohttp.ClientTimeout(total=0.3))
                await until(lambda: client_tasks() == [])
                assert fake.stats.requests > 0
                await settled(fake)
        assert found == []
        if path == "/sync":
            (report,) = outcomes
            assert isinstance(report, Report)
            codes = check_report(report, links(40, 100), fake)
            assert codes["SUCCESS"] > 0
            assert codes["NOT_ATTEMPTED"] > 0
