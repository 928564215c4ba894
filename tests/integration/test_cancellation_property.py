"""Property: cancelled at any point, once or several times, a job reports exactly one truthful
outcome for each operation (of a list: all; of a stream: those it read)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import campaign_links, client_tasks
from zcrm_related_async import AsyncClient, Link, Operation
from zcrm_related_async._scheduler import Operations
from zcrm_related_async.testing import FakeZoho, Faults

FAULTS = Faults(error_5xx=0.1, reset_before=0.05, reset_after=0.05, extra_429=0.1)


async def scenario(
    parents: int,
    per_parent: int,
    kind: str,
    turns: int,
    requests: int,
    cancels: int,
    faults: bool,
) -> None:
    ops = campaign_links(parents, per_parent)
    read: list[Link] = []

    def generator() -> Iterator[Link]:
        for op in ops:
            read.append(op)
            yield op

    async def agenerator() -> AsyncIterator[Link]:
        for op in ops:
            read.append(op)
            yield op
            if len(read) % 37 == 0:
                await asyncio.sleep(0)

    source: Operations = ops
    if kind == "generator":
        source = generator()
    elif kind == "async":
        source = agenerator()
    async with (
        FakeZoho(
            latency=0.002, log_requests=False, faults=FAULTS if faults else None, seed=turns
        ) as fake,
        AsyncClient(
            api_domain=fake.url,
            access_token=fake.access_token,
            max_concurrency=3,
            chunk_size=40,
            backoff_base=0.001,
            backoff_cap=0.004,
            linger=0,
        ) as zoho,
    ):
        job = zoho.start(source)
        for _ in range(turns):  # a random number of loop iterations ...
            await asyncio.sleep(0)
        for _ in range(100_000):  # ... and of requests
            if fake.stats.requests >= requests or job.done():
                break
            await asyncio.sleep(0)
        for _ in range(cancels):
            job.cancel()
            await asyncio.sleep(0)
        await job.wait()
        report = job.report()
        for _ in range(500):  # calls the client gave up on still reach the server
            if fake.stats.in_flight == 0:
                break
            await asyncio.sleep(0.002)
        expected: list[Operation] = list(ops if kind == "list" else read)
        assert len(report) == len(expected)
        for result, op in zip(report.results, expected, strict=True):
            assert result.op == op
            assert isinstance(op, Link)
            on_server = op.related_id in fake.relations(op.module, op.record_id, op.related_list)
            if result.code == "SUCCESS":
                assert on_server, result
            elif result.code == "NOT_ATTEMPTED":
                assert not on_server, result
            assert result.code != "CLIENT_ERROR", result
        assert client_tasks() == []


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    parents=st.integers(1, 8),
    per_parent=st.integers(1, 90),
    kind=st.sampled_from(["list", "generator", "async"]),
    turns=st.integers(0, 60),
    requests=st.integers(0, 12),
    cancels=st.integers(1, 3),
    faults=st.booleans(),
)
def test_any_cancellation_point_leaves_one_truthful_outcome_per_operation(
    parents: int,
    per_parent: int,
    kind: str,
    turns: int,
    requests: int,
    cancels: int,
    faults: bool,
) -> None:
    asyncio.run(scenario(parents, per_parent, kind, turns, requests, cancels, faults))
