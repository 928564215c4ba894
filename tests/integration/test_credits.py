"""API credits: counted, read from Zoho's header, and capped by a budget."""

from __future__ import annotations

from tests.conftest import ClientFactory
from zcrm_related_async import Link
from zcrm_related_async.testing import FakeZoho


def links(parents: int) -> list[Link]:
    return [
        Link("Campaigns", str(p + 1), "Leads", str(1000 + m))
        for p in range(parents)
        for m in range(100)
    ]


async def test_a_budget_stops_the_job_cleanly(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    ops = links(10)
    report = await make_client(max_concurrency=1).run(ops, credit_budget=3)
    assert fake_zoho.stats.requests == 3
    assert report.calls == 3
    assert report.succeeded == 300
    assert len(report) == 1000
    assert [r.op for r in report.results] == ops
    not_sent = report.failures()
    assert {r.code for r in not_sent} == {"NOT_ATTEMPTED"}
    assert all(r.attempts == 0 for r in not_sent)
    assert "credit budget of 3" in not_sent[0].message
    for result in not_sent:
        assert result.op.related_id not in fake_zoho.relations(  # type: ignore[union-attr]
            "Campaigns", result.op.record_id, "Leads"
        )


async def test_a_budget_counts_retries_too(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    fake_zoho.inject("500", times=2)
    report = await make_client(max_concurrency=1, backoff_base=0.01).run(links(2), credit_budget=2)
    assert fake_zoho.stats.requests == 2
    # each chunk was tried once (a backoff frees the slot for the other), then the budget
    # stopped their retries: the last answer Zoho gave stands, not "not attempted"
    assert {(r.code, r.attempts) for r in report.results} == {("INTERNAL_ERROR", 1)}


async def test_remaining_credits_are_read_from_zoho(make_client: ClientFactory) -> None:
    async with FakeZoho(credits=1000) as fake:
        zoho = make_client(fake)
        assert zoho.credits_remaining is None
        report = await zoho.run(links(5))
        assert report.calls == 5
        assert zoho.credits_remaining == 995
        await zoho.run(links(2))
        assert zoho.calls == 7  # every request of the client, whichever job made it


async def test_a_budget_holds_with_many_calls_in_flight_at_once(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.latency = 0.02
    report = await make_client(max_concurrency=10).run(links(20), credit_budget=5)
    assert fake_zoho.stats.requests == report.calls == 5
    assert report.succeeded == 500
    assert report.by_code()["NOT_ATTEMPTED"] == 1500
