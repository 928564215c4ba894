"""One count of requests, in one place: client.stats(), report.calls, and the codes for tries
that never connected and for a call refused as too large."""

from __future__ import annotations

import socket
from typing import Any

from aiohttp import web

from tests.conftest import ClientFactory, campaign_links
from zcrm_related_async import AsyncClient, ClientStats
from zcrm_related_async.testing import FakeZoho

FAST: dict[str, Any] = {"backoff_base": 0.001, "backoff_cap": 0.002}


async def test_stats_count_requests_answers_retries_and_429s_once(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.inject("429", times=2)
    fake_zoho.inject("500", times=1)
    zoho = make_client(max_concurrency=1, linger=0, **FAST)
    report = await zoho.run(campaign_links(4, 100))
    stats = zoho.stats()
    assert isinstance(stats, ClientStats)
    assert report.calls == zoho.calls == stats.calls_sent == fake_zoho.stats.requests == 7
    assert stats.calls_not_connected == 0
    assert stats.answers_by_status == {429: 2, 500: 1, 200: 4} == fake_zoho.stats.by_status
    assert stats.retries == 3
    assert stats.throttled == 2
    assert stats.results_by_code == {"SUCCESS": 400}
    assert stats.window is not None
    assert 1 <= stats.window <= 10
    assert stats.slot_wait_seconds >= 0.0
    assert stats.outage_wait_seconds == 0.0


async def test_tries_that_never_connected_are_not_counted_as_sent() -> None:
    with socket.socket() as closed:  # a port nothing listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with AsyncClient(
        api_domain=f"http://127.0.0.1:{port}", access_token="t", max_tries=3, **FAST
    ) as zoho:
        # one chunk: a lone chunk failing never trips the outage gate, so it spends its tries
        report = await zoho.run(campaign_links(1, 100))
        stats = zoho.stats()
    assert report.by_code() == {"CONNECTION_ERROR": 100}
    assert {r.attempts for r in report.results} == {3}
    assert report.calls == stats.calls_sent == 0  # no request reached anyone: no credit spent
    assert stats.calls_not_connected == 3
    assert stats.answers_by_status == {}


async def test_a_413_answer_gets_a_code_of_its_own() -> None:
    async def too_large(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=413, text="<html>Request Entity Too Large</html>")

    app = web.Application()
    app.router.add_put("/crm/v8/Campaigns/{record}/Leads", too_large)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with AsyncClient(api_domain=f"http://127.0.0.1:{port}", access_token="t") as zoho:
            report = await zoho.run(campaign_links(1, 100))
            assert zoho.stats().answers_by_status == {413: 1}
        assert {(r.code, r.http_status, r.attempts) for r in report.results} == {
            ("REQUEST_TOO_LARGE", 413, 1)
        }
    finally:
        await runner.cleanup()
