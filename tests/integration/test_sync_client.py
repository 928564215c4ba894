"""The blocking ``Client``: from a plain script, from many threads at once, from inside a running
event loop, interrupted with Ctrl-C, and closed."""

from __future__ import annotations

import _thread
import asyncio
import inspect
import threading
import time
from collections.abc import Iterator

import pytest

from zcrm_related_async import (
    AsyncClient,
    Client,
    ClientClosedError,
    ConfigurationError,
    Link,
    Operation,
    RefreshTokenAuth,
    Report,
    UpdateRecord,
)
from zcrm_related_async.testing import FakeZoho


class ThreadedFake:
    """A FakeZoho on an event loop of its own thread: a blocking client may block this one."""

    def __init__(self, **options: object) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = FakeZoho(log_requests=False, **options)  # type: ignore[arg-type]
        asyncio.run_coroutine_threadsafe(self.fake.start(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def threaded_fake() -> Iterator[FakeZoho]:
    server = ThreadedFake(org_concurrency=3, latency=0.02)
    yield server.fake
    server.close()


def client_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "zcrm-related-client"]


def test_same_arguments_and_methods_as_the_async_client() -> None:
    def parameters(function: object) -> list[tuple[str, object, object]]:
        found = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
        return [(p.name, p.kind, p.default) for p in found]

    assert parameters(Client.__init__) == parameters(AsyncClient.__init__)
    for name in ("run", "link", "delink", "update_records"):
        assert parameters(getattr(Client, name)) == parameters(getattr(AsyncClient, name)), name
        assert inspect.signature(getattr(Client, name)).return_annotation in (Report, "Report")


def test_a_script_links_updates_and_delinks_and_closes_what_it_opened(
    threaded_fake: FakeZoho,
) -> None:
    fake = threaded_fake
    threads_before = len(client_threads())
    with Client(api_domain=fake.url, access_token=fake.access_token, max_concurrency=3) as zoho:
        assert len(client_threads()) == threads_before + 1
        linked = zoho.link("Campaigns", "1", "Leads", [{"id": "11", "Member_Status": "Sent"}, "12"])
        updated = zoho.update_records("Leads", [{"id": "11", "Lead_Status": "Contacted"}])
        delinked = zoho.delink("Campaigns", "1", "Leads", ["12"])
        ops = (Link("Campaigns", "2", "Leads", str(100 + n)) for n in range(250))  # a stream
        streamed = zoho.run(ops)
        session = zoho._async._session
    assert [r.code for r in linked] == ["SUCCESS", "SUCCESS"]
    assert updated.succeeded == delinked.succeeded == 1
    assert streamed.succeeded == 250
    assert streamed.calls == 3
    assert fake.relations("Campaigns", "1", "Leads") == {"11": {"Member_Status": "Sent"}}
    assert len(fake.relations("Campaigns", "2", "Leads")) == 250
    assert fake.record("Leads", "11") == {"Lead_Status": "Contacted"}
    # Leaving the block closed the session and ended the thread.
    assert session is not None
    assert session.closed
    assert len(client_threads()) == threads_before
    with pytest.raises(RuntimeError, match="closed"):
        zoho.link("Campaigns", "1", "Leads", ["13"])
    zoho.close()  # twice is harmless


def test_threads_share_one_limit_one_token_refresh_and_one_session(
    threaded_fake: FakeZoho,
) -> None:
    fake = threaded_fake
    auth = RefreshTokenAuth(fake.client_id, fake.client_secret, fake.refresh_token)
    reports: dict[int, Report] = {}
    with Client(api_domain=fake.url, accounts_url=fake.url, auth=auth, max_concurrency=3) as zoho:

        def work(n: int) -> None:
            ops: list[Operation] = [
                Link("Campaigns", str(n), "Leads", str(1000 + m)) for m in range(150)
            ]
            ops.append(UpdateRecord("Leads", str(5000 + n), {"Lead_Status": "Contacted"}))
            reports[n] = zoho.run(ops)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)

    assert sorted(reports) == list(range(8))
    assert all(report.succeeded == 151 for report in reports.values())
    assert fake.stats.refreshes == 1  # one refresh for every thread
    assert fake.stats.max_in_flight <= 3  # the org's limit held across threads
    assert fake.stats.rejected_429 == 0
    assert all(len(fake.relations("Campaigns", str(n), "Leads")) == 150 for n in range(8))


async def test_works_inside_a_running_event_loop_as_in_jupyter(threaded_fake: FakeZoho) -> None:
    asyncio.get_running_loop()  # this test's code runs inside a loop, as a notebook cell does
    fake = threaded_fake
    with Client(api_domain=fake.url, access_token=fake.access_token) as zoho:
        report = zoho.link("Campaigns", "7", "Leads", [str(n) for n in range(1, 121)])
    assert report.succeeded == 120
    assert len(fake.relations("Campaigns", "7", "Leads")) == 120


def test_ctrl_c_cancels_the_job_and_nothing_more_is_sent() -> None:
    server = ThreadedFake(org_concurrency=2, latency=0.2)
    fake = server.fake
    try:
        with Client(api_domain=fake.url, access_token=fake.access_token, max_concurrency=2) as zoho:
            ops = [
                Link("Campaigns", str(p), "Leads", str(m)) for p in range(50) for m in range(1, 101)
            ]
            threading.Timer(0.5, _thread.interrupt_main).start()
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                zoho.run(ops)
            assert time.monotonic() - started < 5
            sent = fake.stats.requests
            assert 0 < sent < 50
            time.sleep(0.5)
            assert fake.stats.requests == sent  # the job stopped: nothing more went out
            # The client is still good for the next job.
            assert zoho.link("Campaigns", "900", "Leads", ["1"]).succeeded == 1
    finally:
        server.close()


def test_close_from_another_thread_ends_a_running_job_with_its_whole_report() -> None:
    server = ThreadedFake(org_concurrency=2, latency=0.1)
    fake = server.fake
    try:
        zoho = Client(api_domain=fake.url, access_token=fake.access_token, max_concurrency=2)
        ops = [Link("Campaigns", str(p), "Leads", str(m)) for p in range(40) for m in range(1, 51)]
        raised: list[BaseException] = []

        def job() -> None:
            try:
                zoho.run(ops)
            except BaseException as error:
                raised.append(error)

        worker = threading.Thread(target=job)
        worker.start()
        time.sleep(0.5)
        zoho.close()
        worker.join(10)
        assert not worker.is_alive()
        [error] = raised
        assert isinstance(error, ClientClosedError)
        report = error.report
        assert report is not None
        assert len(report) == len(ops)
        codes = report.by_code()
        assert set(codes) <= {"SUCCESS", "CANCELLED", "NOT_ATTEMPTED"}
        assert codes["SUCCESS"] > 0
        assert codes["NOT_ATTEMPTED"] > 0
        for op, result in zip(ops, report.results, strict=True):  # the report tells the truth
            linked = op.related_id in fake.relations("Campaigns", op.record_id, "Leads")
            if result.code == "SUCCESS":
                assert linked
            elif result.code == "NOT_ATTEMPTED":
                assert not linked
        with pytest.raises(ClientClosedError):
            zoho.link("Campaigns", "1", "Leads", ["1"])
    finally:
        server.close()


def test_calling_the_client_from_its_own_thread_raises_instead_of_hanging(
    threaded_fake: FakeZoho,
) -> None:
    fake = threaded_fake
    with Client(api_domain=fake.url, access_token=fake.access_token) as zoho:

        def ops() -> Iterator[Link]:
            yield Link("Campaigns", "1", "Leads", "2")
            zoho.close()
            yield Link("Campaigns", "1", "Leads", "3")

        with pytest.raises(RuntimeError, match="own thread"):
            zoho.run(ops())


def test_bad_settings_raise_at_once_and_leave_no_thread_behind() -> None:
    before = len(client_threads())
    with pytest.raises(ConfigurationError, match="data_center"):
        Client(data_center="mars", access_token="t")
    with pytest.raises(ConfigurationError, match="session"):
        Client(access_token="t", session=object())  # type: ignore[arg-type]
    assert len(client_threads()) == before
