"""Exactly one truthful outcome per operation, whatever is raised inside a job and however
often it is cancelled: the findings of issue 9, each first reproduced as a failing test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web

from tests.conftest import ClientFactory, campaign_links, client_tasks
from zcrm_related_async import AsyncClient, Auth, InvalidOperationError, Link, Report
from zcrm_related_async.testing import FakeZoho, Faults

FAST = {"backoff_base": 0.005, "backoff_cap": 0.02}
links = campaign_links


def check_truthful(report: Report, ops: list[Link], fake: FakeZoho) -> dict[str, int]:
    """One result per operation, in order; every SUCCESS is on the server, nothing reported
    NOT_ATTEMPTED is. Returns the codes' counts."""
    assert len(report) == len(ops)
    for result, op in zip(report.results, ops, strict=True):
        assert result.op == op
        on_server = op.related_id in fake.relations(op.module, op.record_id, op.related_list)
        if result.code == "SUCCESS":
            assert on_server, result
        if result.code == "NOT_ATTEMPTED":
            assert not on_server, result
    return dict(report.by_code())


async def settled(fake: FakeZoho) -> None:
    for _ in range(400):
        if fake.stats.in_flight == 0:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("calls still in flight on the server")


async def until(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.002)
    raise AssertionError("condition not reached")


@pytest.mark.parametrize("kind", ["generator", "list"])
async def test_cancel_then_cancel_again_still_reports_every_operation_truthfully(
    make_client: ClientFactory, kind: str
) -> None:
    # What an outer timeout, a TaskGroup or a second Ctrl-C does: cancel, a turn, cancel.
    # Before: with a generator, report() raised "AssertionError: operation 4000 has no
    # result"; with a list, operations applied on the server came back NOT_ATTEMPTED.
    async with FakeZoho(latency=0.05, log_requests=False) as fake:
        zoho = make_client(fake, max_concurrency=4, linger=0)
        ops = links(60, 100)
        job = zoho.start(iter(ops) if kind == "generator" else ops)
        await until(lambda: fake.stats.requests >= 6)
        job.cancel()
        await asyncio.sleep(0)
        job.cancel()
        await asyncio.sleep(0)
        job.cancel()
        await job.wait()
        report = job.report()
        await settled(fake)
        read = ops[: len(report)] if kind == "generator" else ops
        codes = check_truthful(report, read, fake)
        assert codes.get("CANCELLED", 0) > 0
        assert client_tasks() == []


async def test_a_credits_header_of_1e999_is_read_defensively() -> None:
    # Before: int(float("1e999")) raised OverflowError out of run(), and the operations
    # Zoho had applied came back NOT_ATTEMPTED.
    applied: set[str] = set()

    async def put(request: web.Request) -> web.Response:
        items = (await request.json())["data"]
        applied.update(item["id"] for item in items)
        answers = [
            {"code": "SUCCESS", "details": {"id": i["id"]}, "message": "ok", "status": "success"}
            for i in items
        ]
        headers = {"X-API-CREDITS-REMAINING": "1e999"}
        return web.json_response({"data": answers}, headers=headers)

    app = web.Application()
    app.router.add_put("/crm/v8/Campaigns/{record}/Leads", put)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with AsyncClient(api_domain=f"http://127.0.0.1:{port}", access_token="t") as z:
            report = await z.run(links(3, 100))
            assert report.by_code() == {"SUCCESS": 300}
            assert len(applied) == 100  # the same 100 leads under each of 3 campaigns
            assert z.credits_remaining is None  # no number: no claim
    finally:
        await runner.cleanup()


class BrokenAuth(Auth):
    """An Auth subclass with a bug: it raises something that is not an AuthError."""

    def __init__(self, token: str, fail_after: int) -> None:
        self._token = token
        self._left = fail_after

    async def token(self) -> str:
        self._left -= 1
        if self._left < 0:
            raise KeyError("a bug in the user's token store")
        return self._token

    async def invalidate(self, token: str) -> bool:
        return False


async def test_an_auth_subclass_that_raises_gives_client_error_outcomes_not_a_crash(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client(auth=BrokenAuth(fake_zoho.access_token, fail_after=2), max_concurrency=1)
    ops = links(5, 100)
    report = await zoho.run(ops)
    codes = check_truthful(report, ops, fake_zoho)
    assert codes == {"SUCCESS": 200, "CLIENT_ERROR": 300}
    failure = report.failures()[0]
    assert "KeyError raised inside the client" in failure.message
    assert "user's token store" not in failure.message  # its text may hold anything
    assert failure.attempts == 0


async def test_a_generator_that_raises_carries_the_report_of_what_was_done(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    ops = links(5, 100)

    def source() -> Iterator[Link]:
        yield from ops[:350]
        raise ValueError("the input file went away")

    with pytest.raises(ValueError, match="went away") as caught:
        await make_client(linger=0).run(source())
    report: Report = caught.value.report  # type: ignore[attr-defined]
    codes = check_truthful(report, ops[:350], fake_zoho)
    assert codes == {"SUCCESS": 300, "NOT_ATTEMPTED": 50}
    assert report.calls == 3
    assert fake_zoho.stats.requests == 3


async def test_a_bad_item_deep_in_an_async_stream_carries_the_report(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    ops = links(4, 100)

    async def source() -> AsyncIterator[object]:
        for op in ops[:250]:
            yield op
        yield {"not": "an operation"}

    with pytest.raises(InvalidOperationError, match="operation 250") as caught:
        await make_client(linger=0).run(source())  # type: ignore[arg-type]
    report = caught.value.report
    assert report is not None
    assert check_truthful(report, ops[:250], fake_zoho) == {"SUCCESS": 200, "NOT_ATTEMPTED": 50}


FAULTS = [
    *[("inject", kind) for kind in ("500", "reset_before", "not_json", "429", "401", "credits")],
    *[("inject", kind) for kind in ("reset_after", "truncated_json", "slow")],
    ("random", "all"),
]


@pytest.mark.parametrize(("how", "kind"), FAULTS, ids=[f"{h}-{k}" for h, k in FAULTS])
@pytest.mark.parametrize("cancel", [False, True], ids=["finished", "cancelled"])
async def test_every_fault_the_fake_knows_leaves_one_truthful_outcome_per_operation(
    make_client: ClientFactory, how: str, kind: str, cancel: bool
) -> None:
    faults = Faults(
        error_5xx=0.08,
        reset_before=0.05,
        reset_after=0.05,
        truncated_json=0.05,
        not_json=0.05,
        extra_429=0.08,
        slow=0.03,
        slow_seconds=1.0,
    )
    async with FakeZoho(
        latency=0.005,
        log_requests=False,
        faults=faults if how == "random" else Faults(slow_seconds=1.0),
        seed=7,
    ) as fake:
        if how == "inject":
            fake.inject(kind, times=6)
        zoho = make_client(fake, max_concurrency=4, timeout=0.3, max_tries=3, linger=0, **FAST)
        ops = links(12, 50) + links(3, 7)
        job = zoho.start(ops)
        if cancel:
            await until(lambda: fake.stats.requests >= 5 or job.done())
            job.cancel()
            await asyncio.sleep(0)
            job.cancel()
        await job.wait()
        report = job.report()
        await settled(fake)
        codes = check_truthful(report, ops, fake)
        assert "CLIENT_ERROR" not in codes
        assert sum(codes.values()) == len(ops)
        assert client_tasks() == []


async def test_results_by_code_in_stats_count_each_operation_once(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.missing_ids.add("1003")
    zoho = make_client(linger=0)
    report = await zoho.run(links(3, 40))
    assert zoho.stats().results_by_code == dict(report.by_code())
    assert zoho.stats().answers_by_status == fake_zoho.stats.by_status
    assert zoho.stats().calls_sent == report.calls == fake_zoho.stats.requests == 3


async def test_a_report_of_a_list_keeps_the_operations_given(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client()
    ops = links(2, 120)
    report = await zoho.run(ops)
    assert all(result.op is op for result, op in zip(report.results, ops, strict=True))
    assert all(r.op is op for r, op in zip(report.results[::7], ops[::7], strict=True))
    shared = await zoho.link("Campaigns", "9", "Leads", ["1", "2"])  # a shared (lingered) call
    assert [r.op.related_id for r in shared.results] == ["1", "2"]  # type: ignore[union-attr]
