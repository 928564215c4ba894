"""Jobs: cancelling, streaming results, and bad items found in a list or deep in a stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import ClientFactory, campaign_links, client_tasks
from zcrm_related_async import InvalidOperationError
from zcrm_related_async.testing import FakeZoho

links = campaign_links


async def test_a_cancelled_job_reports_every_operation_truthfully(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(latency=0.1, log_requests=False) as fake:
        zoho = make_client(fake, max_concurrency=2)
        ops = links(40, 50)
        job = zoho.start(ops)
        await asyncio.sleep(0.25)
        assert client_tasks()  # calls are under way: the check below can see them
        job.cancel()
        await job.wait()
        report = job.report()

        assert len(report) == len(ops)
        assert [r.op for r in report.results] == ops
        codes = report.by_code()
        assert set(codes) <= {"SUCCESS", "CANCELLED", "NOT_ATTEMPTED"}
        assert codes["SUCCESS"] > 0
        assert codes["NOT_ATTEMPTED"] > 0
        for result in report.results:
            on_server = result.op.related_id in fake.relations(  # type: ignore[union-attr]
                "Campaigns", result.op.record_id, "Leads"
            )
            if result.code == "SUCCESS":
                assert on_server
            if result.code == "NOT_ATTEMPTED":
                assert not on_server
        assert client_tasks() == []


async def test_a_run_cancelled_by_its_caller_leaves_no_task_behind(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(latency=0.2, log_requests=False) as fake:
        zoho = make_client(fake)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(zoho.run(links(30, 100)), timeout=0.1)
        assert client_tasks() == []


async def test_stream_yields_each_position_once(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.missing_ids.add("1003")
    seen: dict[int, str] = {}
    async for index, result in make_client().stream(iter(links(5, 40))):
        assert index not in seen
        seen[index] = result.code
    assert sorted(seen) == list(range(200))
    assert list(seen.values()).count("INVALID_DATA") == 5


async def test_a_bad_item_in_a_list_raises_before_any_request(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    ops: list[object] = [*links(3, 100), {"op": "link"}]
    with pytest.raises(InvalidOperationError, match="operation 300: op") as caught:
        await make_client().run(ops)  # type: ignore[arg-type]
    assert caught.value.index == 300
    assert fake_zoho.stats.requests == 0


async def test_a_bad_item_in_link_arguments_names_its_position(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    with pytest.raises(InvalidOperationError, match="operation 2: related_id") as caught:
        await make_client().link("Campaigns", "1", "Leads", ["10", "11", "12x"])
    assert (caught.value.index, caught.value.field) == (2, "related_id")
    assert fake_zoho.stats.requests == 0


async def test_a_bad_item_deep_in_a_stream_stops_the_job_after_the_calls_in_flight(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    def ops() -> Iterator[object]:
        yield from links(3, 100)
        yield "not an operation"
        yield from links(3, 100)

    with pytest.raises(InvalidOperationError, match="operation 300") as caught:
        await make_client().run(ops())  # type: ignore[arg-type]
    assert caught.value.index == 300
    assert fake_zoho.stats.requests == 3  # the three full chunks before it, nothing after
    assert fake_zoho.stats.in_flight == 0
