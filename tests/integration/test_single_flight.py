"""Single-flight refresh: however many callers need a token at once, one token request is made;
a refused or throttled refresh is its own error, remembered for a cool-down, never retried in
a tight loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.conftest import ClientFactory
from zcrm_related_async import Link, RefreshThrottledError, RefreshTokenAuth, TokenRefreshError
from zcrm_related_async.testing import FakeZoho

CALLERS = 200


def refresh_auth(fake: FakeZoho, secret: str | None = None) -> RefreshTokenAuth:
    return RefreshTokenAuth(
        fake.client_id, secret or fake.client_secret, fake.refresh_token, fake.accounts_url
    )


def links(parents: int, per_parent: int, first: int = 1) -> list[Link]:
    return [
        Link("Campaigns", str(first + p), "Leads", str(1000 + m))
        for p in range(parents)
        for m in range(per_parent)
    ]


async def test_200_concurrent_callers_on_a_fresh_client_make_one_token_request(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client(auth=refresh_auth(fake_zoho), max_concurrency=25)
    reports = await asyncio.gather(
        *(zoho.link("Campaigns", str(i + 1), "Leads", ["10", "11"]) for i in range(CALLERS))
    )
    assert [r.succeeded for r in reports] == [2] * CALLERS
    assert fake_zoho.stats.refresh_requests == 1
    assert fake_zoho.stats.refreshes == 1
    assert fake_zoho.stats.requests >= CALLERS // 100  # the calls did happen, with that token


async def test_200_concurrent_token_requests_share_one_refresh(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    auth = refresh_auth(fake_zoho)
    session = make_client(auth=auth)._get_session()
    tokens = await asyncio.gather(
        *(auth.bind(session, fake_zoho.url, 5.0).token() for _ in range(CALLERS))
    )
    assert set(tokens) == {fake_zoho.access_token}
    assert fake_zoho.stats.refresh_requests == 1


async def test_200_callers_meeting_a_dead_token_at_once_refresh_it_once(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client(auth=refresh_auth(fake_zoho), max_concurrency=25, linger=0)
    assert (await zoho.link("Campaigns", "1", "Leads", ["10"])).succeeded == 1
    fake_zoho.latency = 0.005  # the 401s arrive while other callers are still sending
    fake_zoho.expire_tokens()
    reports = await asyncio.gather(
        *(zoho.link("Campaigns", str(i + 1), "Leads", ["12"]) for i in range(CALLERS))
    )
    assert [r.succeeded for r in reports] == [1] * CALLERS
    assert fake_zoho.stats.refresh_requests == 2  # the first token, then one for all 200
    assert 0 < fake_zoho.stats.by_status[401] <= CALLERS


async def test_200_callers_with_a_wrong_secret_make_one_token_request(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client(auth=refresh_auth(fake_zoho, secret="not-the-secret"), linger=0)
    reports = await asyncio.gather(
        *(zoho.link("Campaigns", str(i + 1), "Leads", ["10"]) for i in range(CALLERS))
    )
    assert {(r.results[0].code, r.results[0].message) for r in reports} == {
        ("AUTH_FAILED", "the accounts server refused the refresh: invalid_client")
    }
    assert fake_zoho.stats.refresh_requests == 1
    assert fake_zoho.stats.requests == 0


async def test_a_throttled_refresh_is_its_own_error_and_is_asked_once_for_a_whole_job(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(refresh_limit=1) as fake:
        auth = refresh_auth(fake)
        zoho = make_client(fake, auth=auth, max_concurrency=10, max_tries=6, linger=0)
        assert (await zoho.run(links(1, 1))).succeeded == 1
        fake.expire_tokens()
        report = await zoho.run(links(100, 100))  # 100 calls' worth of work

        with pytest.raises(RefreshThrottledError) as throttled:
            await auth.bind(zoho._get_session(), fake.url, 1.0).token()
        assert {(r.code, r.message) for r in report.results} == {
            ("AUTH_FAILED", str(throttled.value))
        }
        assert "Access Denied" in str(throttled.value)
        # one refused refresh for the whole job (and none for the call above: it was
        # remembered), no retries of it; only the chunks already under way when the token
        # died (at most 2 x max_concurrency + 2 of them) had sent their call, once each
        assert fake.stats.refresh_requests == 2
        assert fake.stats.requests - 1 <= 2 * 10 + 2
        assert {r.attempts for r in report.results} <= {0, 1}


async def test_after_the_cool_down_a_refresh_is_asked_again_and_the_job_recovers(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("zcrm_related_async._auth.REFRESH_FAILURE_COOLDOWN", 0.2)
    # Zoho's throttle (here: one token per 0.5 s) lifts after a while
    async with FakeZoho(refresh_limit=1, refresh_window=0.5) as fake:
        auth = refresh_auth(fake)
        zoho = make_client(fake, auth=auth, max_concurrency=5, linger=0, chunk_size=10)
        assert (await zoho.run(links(1, 1))).succeeded == 1
        fake.expire_tokens()

        async def trickle() -> AsyncIterator[Link]:
            # a second of work: a chunk every 10 ms
            for op in links(100, 10, first=10):
                yield op
                if op.related_id == "1009":
                    await asyncio.sleep(0.01)

        report = await zoho.run(trickle())
        codes = report.by_code()
        assert set(codes) == {"AUTH_FAILED", "SUCCESS"}
        assert codes["SUCCESS"] >= 300  # the rest of the job went through
        assert report.results[0].code == "AUTH_FAILED"
        assert report.results[-1].code == "SUCCESS"
        # each refused refresh was remembered for its cool-down: one token request per
        # 0.2 s until the throttle lifted (0.5 s), not one per chunk
        assert 3 <= fake.stats.refresh_requests <= 8
        assert fake.stats.refreshes == 2


async def test_a_refused_refresh_raises_its_own_error_type(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    auth = refresh_auth(fake_zoho, secret="not-the-secret")
    session = make_client(auth=auth)._get_session()
    for _ in range(3):  # the first is asked, the next two are the remembered answer
        with pytest.raises(TokenRefreshError) as caught:
            await auth.bind(session, fake_zoho.url, 1.0).token()
        assert type(caught.value) is TokenRefreshError
    assert fake_zoho.stats.refresh_requests == 1
