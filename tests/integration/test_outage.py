"""Zoho down for a while in the middle of a job: the job holds, probes, and finishes; the
server's state is exact and few calls reach the dead server. See ``_outage_state``."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from tests.conftest import ClientFactory, campaign_links, client_tasks
from zcrm_related_async import Client, LimiterUnavailableError, Link, LocalLimiter
from zcrm_related_async.testing import FakeZoho

#: seconds each outage lasts here (30 s in the benchmark)
T = 1.5


def check_state(fake: FakeZoho, ops: list[Link]) -> None:
    expected: dict[str, set[str]] = {}
    for op in ops:
        expected.setdefault(op.record_id, set()).add(op.related_id)
    for parent, related in expected.items():
        assert fake.relations("Campaigns", parent, "Leads").keys() == related


async def test_a_job_rides_out_a_500_outage_then_a_dropped_connections_outage(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(latency=0.01, org_concurrency=10) as fake:
        ops = campaign_links(30, 100)
        first = fake.outage("500", T, after_requests=40)
        second = fake.outage("drop", T, after_requests=110)
        # max_tries=3 with the default backoff: without the gate, every chunk in the
        # middle of a 1.5 s outage would spend its three tries and fail
        zoho = make_client(fake, chunk_size=20, max_tries=3)
        report = await zoho.run(ops)

        assert report.by_code() == {"SUCCESS": len(ops)}
        check_state(fake, ops)
        assert first.began is not None
        assert second.began is not None
        assert second.began >= first.began + T  # two outages, one after the other
        # the calls in flight when each began, a few retries before the gate closed, and
        # the probes (1 s, then 2 s, ... apart): far from one request per chunk per try.
        # aiohttp itself sends a PUT again once when a kept-alive connection drops: the
        # server sees most dropped calls twice.
        assert first.requests <= 25, first.requests
        assert second.requests <= 40, second.requests
        assert zoho._sender.outage is not None
        assert zoho._sender.outage.state.outages == 2
        assert zoho.stats().outage_wait_seconds > 0  # the chunks waited at the gate


async def test_past_max_outage_the_job_fails_with_the_last_transient_code(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(latency=0.005) as fake:
        ops = campaign_links(20, 100)
        outage = fake.outage("drop", 3600.0)
        zoho = make_client(fake, max_outage=1.0)
        report = await zoho.run(ops)
        assert report.by_code() == {"CONNECTION_ERROR": len(ops)}
        assert not any(fake.relations("Campaigns", op.record_id, "Leads") for op in ops)
        # the in-flight round, the tries before the gate closed, then a probe: chunks read
        # after the give-up fail at once without being sent (aiohttp itself sends a PUT
        # again once when a kept-alive connection drops: the server sees those twice)
        assert outage.requests <= 30, outage.requests
        assert "max_outage" in report.results[-1].message


async def test_a_lone_link_never_trips_the_gate_and_fails_after_its_own_tries(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho() as fake:
        fake.outage("500", 3600.0)
        zoho = make_client(fake, max_tries=3, backoff_base=0.01, backoff_cap=0.02)
        report = await zoho.link("Campaigns", "1001", "Leads", ["50001", "50002"])
        assert {(r.code, r.http_status, r.attempts) for r in report.results} == {
            ("INTERNAL_ERROR", 500, 3)
        }
        assert zoho._sender.outage is not None
        assert zoho._sender.outage.open


async def test_every_thread_of_a_blocking_client_waits_on_one_gate() -> None:
    async with FakeZoho(latency=0.01) as fake:
        outage = fake.outage("500", T, after_requests=3)
        with Client(api_domain=fake.url, access_token=fake.access_token, max_tries=3) as zoho:

            def job(thread: int) -> list[str]:
                ops = campaign_links(3 * thread + 3, 100)[3 * thread * 100 :]
                return [r.code for r in zoho.run(ops).results]

            codes = await asyncio.gather(*(asyncio.to_thread(job, t) for t in range(6)))
        assert {code for each in codes for code in each} == {"SUCCESS"}
        assert sum(len(each) for each in codes) == 1800
        assert outage.requests <= 25, outage.requests


class FlakyStoreLimiter:
    """A shared limiter whose store (Redis, say) does not answer for ``down`` seconds."""

    def __init__(self, limit: int, down: float) -> None:
        self.limit = limit
        self._local = LocalLimiter(limit)
        self._until = time.monotonic() + down
        self.refused = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if time.monotonic() < self._until:
            self.refused += 1
            raise LimiterUnavailableError("the limiter's store did not answer")
        async with self._local.slot():
            yield


async def test_a_limiter_whose_store_is_down_holds_the_job_like_an_outage(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(latency=0.005) as fake:
        ops = campaign_links(12, 100)
        limiter = FlakyStoreLimiter(10, down=T)
        zoho = make_client(fake, limiter=limiter, max_tries=2)
        report = await zoho.run(ops)
        assert report.by_code() == {"SUCCESS": len(ops)}
        check_state(fake, ops)
        assert zoho._sender.outage is not None
        assert zoho._sender.outage.state.outages == 1
        assert limiter.refused <= 25, limiter.refused  # the first round, then probes


async def test_a_lone_link_meeting_a_held_gate_waits_and_its_caller_bounds_the_wait(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(latency=0.005) as fake:
        fake.outage("drop", 3600.0)
        zoho = make_client(fake)
        job = zoho.start(campaign_links(20, 100))
        for _ in range(1000):  # until the job has found Zoho down
            if zoho._sender.outage is not None and not zoho._sender.outage.open:
                break
            await asyncio.sleep(0.01)
        handler = zoho.link("Campaigns", "77", "Leads", ["50001"])
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(handler, 0.3)  # what a web handler with a deadline does
        job.cancel()
        await job.wait()
        assert set(job.report().by_code()) <= {"CANCELLED", "NOT_ATTEMPTED"}
        # the link's shared linger call outlives its caller (others may share it) and waits at
        # the gate; closing the client makes it give up instead of waiting up to max_outage
        await zoho.close()
        assert client_tasks() == []
