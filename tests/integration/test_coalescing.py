"""Automatic batching across concurrent callers (linger pools)."""

from __future__ import annotations

import asyncio

from tests.conftest import ClientFactory
from zcrm_related_async.testing import FakeZoho


async def test_2000_single_record_callers_over_20_parents_share_calls(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(latency=0.02, log_requests=False) as fake:
        zoho = make_client(fake, linger=0.01)

        async def handler(n: int) -> int:
            report = await zoho.link("Campaigns", str(1 + n % 20), "Leads", [str(5000 + n)])
            assert [r.op.related_id for r in report.results] == [str(5000 + n)]  # type: ignore[union-attr]
            return report.succeeded

        done = await asyncio.gather(*(handler(n) for n in range(2000)))
        assert sum(done) == 2000
        assert fake.stats.puts <= 25
        for p in range(20):
            assert len(fake.relations("Campaigns", str(p + 1), "Leads")) == 100
        # the latency it adds is a speed figure: measured in benchmarks/, not asserted here


async def test_each_caller_gets_only_its_own_records(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.missing_ids.add("666")
    zoho = make_client(linger=0.05)
    a, b = await asyncio.gather(
        zoho.link("Campaigns", "1", "Leads", ["10", "11"]),
        zoho.link("Campaigns", "1", "Leads", ["666", "12"]),
    )
    assert [r.op.related_id for r in a.results] == ["10", "11"]  # type: ignore[union-attr]
    assert [r.op.related_id for r in b.results] == ["666", "12"]  # type: ignore[union-attr]
    assert [r.status for r in b.results] == ["error", "success"]
    assert a.succeeded == 2
    assert fake_zoho.stats.puts == 1
    assert (a.calls, b.calls) == (1, 1)


async def test_linger_zero_turns_it_off(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    zoho = make_client(linger=0)
    await asyncio.gather(*(zoho.link("Campaigns", "1", "Leads", [str(10 + n)]) for n in range(5)))
    assert fake_zoho.stats.puts == 5


async def test_callers_of_other_parents_or_kinds_do_not_share(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.add_relation("Campaigns", "1", "Leads", "20")
    zoho = make_client(linger=0.05)
    await asyncio.gather(
        zoho.link("Campaigns", "1", "Leads", ["10"]),
        zoho.link("Campaigns", "2", "Leads", ["10"]),
        zoho.delink("Campaigns", "1", "Leads", ["20"]),
        zoho.update_records("Leads", [{"id": "10", "Company": "A"}]),
        zoho.update_records("Leads", [{"id": "11", "Company": "B"}]),
    )
    assert fake_zoho.stats.requests == 4  # the two updates of Leads shared one call
    assert fake_zoho.record("Leads", "11") == {"Company": "B"}


async def test_close_sends_what_waits_in_pools(make_client: ClientFactory) -> None:
    async with FakeZoho() as fake:
        zoho = make_client(fake, linger=30.0)
        waiting = asyncio.ensure_future(zoho.link("Campaigns", "1", "Leads", ["10"]))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await zoho.close()
        assert (await waiting).succeeded == 1


async def test_a_cancelled_caller_leaves_its_records_out_of_the_pool(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client(linger=0.1)
    gone = asyncio.ensure_future(zoho.link("Campaigns", "1", "Leads", ["10"]))
    stays = asyncio.ensure_future(zoho.link("Campaigns", "1", "Leads", ["11"]))
    await asyncio.sleep(0.01)
    gone.cancel()
    assert (await stays).succeeded == 1
    assert set(fake_zoho.relations("Campaigns", "1", "Leads")) == {"11"}
