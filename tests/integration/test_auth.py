"""Tokens: refreshed once for every concurrent caller, replayed once on 401, never looped."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.conftest import ClientFactory
from zcrm_related_async import Link, RefreshTokenAuth
from zcrm_related_async.testing import FakeZoho


def refresh_auth(fake: FakeZoho, secret: str | None = None) -> RefreshTokenAuth:
    return RefreshTokenAuth(
        fake.client_id, secret or fake.client_secret, fake.refresh_token, fake.accounts_url
    )


async def test_one_refresh_for_fifty_concurrent_callers(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client(auth=refresh_auth(fake_zoho))
    reports = await asyncio.gather(
        *(zoho.link("Campaigns", str(i + 1), "Leads", ["10", "11"]) for i in range(50))
    )
    assert all(r.succeeded == 2 for r in reports)
    assert fake_zoho.stats.refresh_requests == 1
    assert fake_zoho.stats.refreshes == 1


async def test_tokens_expiring_mid_job_are_refreshed_about_once_per_expiry(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(token_ttl_requests=50) as fake:
        zoho = make_client(fake, auth=refresh_auth(fake), max_concurrency=5)
        ops = [
            Link("Campaigns", str(p + 1), "Leads", str(1000 + i))
            for p in range(60)
            for i in range(100)
        ]
        report = await zoho.run(ops)
        assert report.succeeded == 6000
        expiries = fake.stats.requests // 50
        # in-flight calls made with a dying token each see the 401, but refresh is single-flight
        assert expiries <= fake.stats.refreshes <= expiries + 2
        assert fake.stats.by_status.get(401, 0) <= fake.stats.refreshes * 5


async def test_401_refreshes_once_per_rejected_token_and_replays_at_most_three_times(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client(auth=refresh_auth(fake_zoho))
    await zoho.link("Campaigns", "1", "Leads", ["10"])
    fake_zoho.inject("401", times=4)
    report = await zoho.link("Campaigns", "1", "Leads", ["11", "12"])
    # a refresh and a replay per rejected token, three times; the third replay is rejected
    # again, so the 401 stands
    assert {(r.code, r.attempts) for r in report.results} == {("INVALID_TOKEN", 4)}
    assert fake_zoho.stats.refreshes == 4

    fake_zoho.inject("401", times=1)
    report = await zoho.link("Campaigns", "1", "Leads", ["11", "12"])
    assert {(r.status, r.attempts) for r in report.results} == {("success", 2)}


async def test_throttled_refresh_is_its_own_error_and_is_not_retried_in_a_loop(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(refresh_limit=1) as fake:
        zoho = make_client(fake, auth=refresh_auth(fake), max_tries=6)
        assert (await zoho.link("Campaigns", "1", "Leads", ["10"])).succeeded == 1
        fake.expire_tokens()
        ops = [Link("Campaigns", str(p + 1), "Leads", "10") for p in range(30)]
        report = await zoho.run(ops)
        assert report.failed == 30
        assert {r.code for r in report.results} == {"AUTH_FAILED"}
        assert "Access Denied" in report.results[0].message
        assert fake.stats.refresh_requests <= 3  # one refresh's tries, then a cool-down


async def test_a_wrong_secret_fails_without_leaking_it(
    fake_zoho: FakeZoho, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "wrong-secret-4b1d"
    auth = refresh_auth(fake_zoho, secret=secret)
    zoho = make_client(auth=auth)
    report = await zoho.link("Campaigns", "1", "Leads", ["10"])
    assert report.results[0].code == "AUTH_FAILED"
    seen = " ".join([repr(auth), repr(zoho), repr(report), str(report.results), caplog.text])
    assert secret not in seen
    assert fake_zoho.refresh_token not in seen


@pytest.mark.parametrize("is_async", [False, True])
async def test_a_callable_supplies_tokens(
    fake_zoho: FakeZoho, make_client: ClientFactory, is_async: bool
) -> None:
    calls = 0

    def sync_token() -> str:
        nonlocal calls
        calls += 1
        return fake_zoho.access_token

    async def async_token() -> str:
        return sync_token()

    zoho = make_client(auth=async_token if is_async else sync_token)
    report = await zoho.link("Campaigns", "1", "Leads", ["10", "11"])
    assert report.succeeded == 2
    assert calls == 1
