"""Faults: what is worth retrying is retried (without holding a slot), what is not is reported,
and every record gets exactly one result whatever the server does."""

from __future__ import annotations

import pytest

from tests.conftest import ClientFactory
from zcrm_related_async import CreditsExhaustedError, Link
from zcrm_related_async.testing import FakeZoho

FAST = {"backoff_base": 0.01, "backoff_cap": 0.05}


def links(parent: str, count: int, start: int = 1000) -> list[Link]:
    return [Link("Campaigns", parent, "Leads", str(start + i)) for i in range(count)]


async def test_429_then_success(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    fake_zoho.inject("429", times=2)
    report = await make_client(**FAST).run(links("1", 3))
    assert report.succeeded == 3
    assert {(r.attempts, r.http_status) for r in report.results} == {(3, 200)}
    assert fake_zoho.stats.rejected_429 == 2
    assert report.calls == 3


async def test_5xx_until_the_tries_run_out_reports_every_record(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    # One chunk, so the three 500s all hit it and its tries really run out (spread over two
    # chunks, as before, neither ran out and the assertion below held vacuously).
    fake_zoho.inject("500", times=3)
    report = await make_client(max_tries=3, **FAST).run(links("1", 100))
    assert len(report) == 100
    assert {(r.code, r.http_status, r.attempts) for r in report.results} == {
        ("INTERNAL_ERROR", 500, 3)
    }
    assert fake_zoho.stats.by_status == {500: 3}
    assert fake_zoho.relations("Campaigns", "1", "Leads") == {}
    # one more try would have succeeded: the tries, not the faults, ran out
    assert (await make_client(**FAST).run(links("1", 100))).succeeded == 100


async def test_one_chunk_failing_does_not_stop_the_others(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.inject("500")
    zoho = make_client(max_tries=1, max_concurrency=1, **FAST)
    report = await zoho.run(links("1", 100) + links("2", 100) + links("3", 100))
    # one slot, so the first call is the first chunk's: it alone fails
    assert {(r.op.record_id, r.code) for r in report.failures()} == {("1", "INTERNAL_ERROR")}
    assert report.failed == 100
    assert report.succeeded == 200
    assert len(fake_zoho.relations("Campaigns", "3", "Leads")) == 100


@pytest.mark.parametrize("fault", ["reset_before", "reset_after", "truncated_json", "not_json"])
async def test_lost_and_broken_answers_are_retried(
    fake_zoho: FakeZoho, make_client: ClientFactory, fault: str
) -> None:
    fake_zoho.inject(fault)
    report = await make_client(**FAST).run(links("1", 5))
    assert report.succeeded == 5
    assert fake_zoho.stats.requests == 2
    # aiohttp itself re-sends an idempotent request once when a kept-alive connection
    # turns out closed, so a dropped connection may cost no try of ours
    assert {r.attempts for r in report.results} <= {1, 2}
    assert len(fake_zoho.relations("Campaigns", "1", "Leads")) == 5


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ("reset_before", "CONNECTION_ERROR"),
        ("not_json", "UNREADABLE_RESPONSE"),
        ("truncated_json", "UNREADABLE_RESPONSE"),
    ],
)
async def test_broken_answers_after_every_try_become_error_results(
    fake_zoho: FakeZoho, make_client: ClientFactory, fault: str, code: str
) -> None:
    fake_zoho.inject(fault, times=10)
    report = await make_client(max_tries=2, **FAST).run(links("1", 4))
    assert {(r.status, r.code, r.attempts) for r in report.results} == {("error", code, 2)}


async def test_slow_answers_time_out_and_are_retried(make_client: ClientFactory) -> None:
    async with FakeZoho() as fake:
        fake.inject("slow", times=1)
        from zcrm_related_async.testing import Faults

        fake.faults = Faults(slow_seconds=3.0)
        report = await make_client(fake, timeout=0.3, **FAST).run(links("1", 3))
        assert report.succeeded == 3
        assert {r.attempts for r in report.results} == {2}

        fake.inject("slow", times=2)
        report = await make_client(fake, timeout=0.3, max_tries=2, **FAST).run(links("2", 3))
        assert {(r.code, r.http_status) for r in report.results} == {("TIMEOUT", None)}


async def test_exhausted_credits_stop_the_job_at_once_and_account_for_everything(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.inject("credits", times=1000)
    zoho = make_client(max_concurrency=1, **FAST)
    ops = [op for parent in range(20) for op in links(str(parent + 1), 100)]
    with pytest.raises(CreditsExhaustedError) as caught:
        await zoho.run(ops)
    report = caught.value.report
    assert len(report) == 2000
    assert [r.op for r in report.results] == ops
    assert {r.code for r in report.results} == {"API_CREDITS_EXHAUSTED"}
    assert fake_zoho.stats.requests <= 2  # no retrying for hours; at most the call in flight


async def test_waiting_out_a_backoff_does_not_hold_a_slot(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.inject("429")
    zoho = make_client(max_concurrency=1, backoff_base=0.4, backoff_cap=0.4)
    report = await zoho.run(links("1", 100) + links("2", 100))
    assert report.succeeded == 200
    paths = [r.path for r in fake_zoho.requests]
    # the chunk told to wait did not block the other one meanwhile
    assert len(paths) == 3
    assert paths[1] != paths[0]
    assert paths[2] == paths[0]


async def test_expired_token_with_a_static_token_is_reported_not_retried(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.inject("401")
    report = await make_client(**FAST).run(links("1", 2))
    assert {(r.code, r.http_status, r.attempts) for r in report.results} == {
        ("INVALID_TOKEN", 401, 1)
    }
