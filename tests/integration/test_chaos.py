"""Chaos: thousands of operations while the server fails in every way at once, and nothing is
lost, doubled or misreported. ``make chaos`` runs the same scenario with 50,000 operations."""

from __future__ import annotations

from tests.chaos.scenario import ChaosConfig, _ServerState, run_chaos
from tests.conftest import ClientFactory
from zcrm_related_async import Delink, Link, RefreshTokenAuth, UpdateRecord
from zcrm_related_async.testing import FakeZoho

#: Small chunks make many calls, so this short run still meets every fault and several
#: token expiries.
SUITE_RUN = ChaosConfig(ops=8_000, parents=200, seed=7, chunk_size=10, outage_seconds=1.0)


async def test_a_chaos_run_loses_nothing_and_reports_only_the_truth() -> None:
    outcome = await run_chaos(SUITE_RUN)

    # every input operation in the report exactly once, every success on the server, no
    # nonexistent id reported as a success (each checked operation by operation)
    assert outcome.violations == []
    assert outcome.operations == SUITE_RUN.ops
    assert sum(outcome.by_code.values()) == SUITE_RUN.ops
    assert outcome.valid < outcome.operations  # nonexistent ids were in the job
    assert outcome.success_rate >= 0.995, outcome.summary()
    # every fault of the issue happened, more than once
    assert {k: n for k, n in outcome.faults.items() if n >= 5}.keys() >= {
        "500",
        "429",
        "reset_after",
        "reset_before",
        "truncated_json",
        "slow",
    }, outcome.summary()
    # tokens died mid-job; each death cost one refresh (plus the first token)
    assert outcome.expiries >= 4
    assert abs(outcome.refreshes - 1 - outcome.expiries) <= 1, outcome.summary()
    assert outcome.refresh_requests == outcome.refreshes == outcome.client_refreshes
    assert outcome.problems() == []
    # the outage phase: two outages met, ridden out (the success rate above), few calls lost
    assert len(outcome.outage_requests) == 2
    assert all(0 < n <= SUITE_RUN.max_outage_requests for n in outcome.outage_requests)


async def test_the_chaos_checks_see_a_success_the_server_contradicts() -> None:
    async with FakeZoho() as fake:
        fake.add_relation("Campaigns", "1", "Contacts", "7")
        state = _ServerState(fake, {"ext/1": "5"})
        assert state.contradicts(Link("Campaigns", "1", "Leads", "5")) == "the relation is missing"
        assert state.contradicts(Delink("Campaigns", "1", "Contacts", "7")) is not None
        ext = Link("Deals", "1", "Contacts", "ext/1", external="Contacts.External_Contact_ID")
        assert state.contradicts(ext) == "the relation is missing"
        assert state.contradicts(UpdateRecord("Leads", "3", {"Rating": "a"})) is not None
        fake.add_relation("Campaigns", "1", "Leads", "5", {"Member_Status": "Sent"})
        state = _ServerState(fake, {})
        held = state.contradicts(Link("Campaigns", "1", "Leads", "5"))
        assert held is not None
        assert "Sent" in held


async def test_a_401_whose_body_was_cut_refreshes_and_replays(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    # Found by the chaos run: a truncated INVALID_TOKEN answer failed a whole chunk at once.
    auth = RefreshTokenAuth(
        fake_zoho.client_id, fake_zoho.client_secret, fake_zoho.refresh_token, fake_zoho.url
    )
    zoho = make_client(auth=auth)
    assert (await zoho.link("Campaigns", "1", "Leads", ["10"])).succeeded == 1
    fake_zoho.expire_tokens()
    fake_zoho.inject("truncated_json")  # the 401 for the dead token comes back cut in half
    report = await zoho.link("Campaigns", "1", "Leads", ["11", "12"])
    assert {(r.code, r.attempts) for r in report.results} == {("SUCCESS", 2)}
    assert fake_zoho.requests[1].status == 401
    assert fake_zoho.requests[1].fault == "truncated_json"
    assert fake_zoho.stats.refreshes == 2
