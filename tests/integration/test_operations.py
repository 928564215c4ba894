"""Every operation of the seed pages, through the real client, against the fake server."""

from __future__ import annotations

import pytest

from tests.conftest import ClientFactory
from zcrm_related_async import Delink, Link, Operation, UpdateRecord
from zcrm_related_async.testing import FakeZoho

CAMPAIGN = "3652397000000327001"
LEADS = [str(3652397000001854001 + i) for i in range(5)]


async def test_link_relates_records_and_reports_each_in_input_order(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client()
    items = [{"id": lead, "Member_Status": "Active"} for lead in LEADS]
    report = await zoho.link("Campaigns", CAMPAIGN, "Leads", items)

    assert [r.op.related_id for r in report.results] == LEADS  # type: ignore[union-attr]
    assert report.succeeded == 5
    assert report.failed == 0
    first = report.results[0]
    assert (first.status, first.code, first.message) == ("success", "SUCCESS", "relation added")
    assert first.details == {"id": LEADS[0]}
    assert (first.http_status, first.attempts) == (200, 1)
    assert fake_zoho.relations("Campaigns", CAMPAIGN, "Leads") == {
        lead: {"Member_Status": "Active"} for lead in LEADS
    }
    [call] = fake_zoho.requests
    assert (call.method, call.path) == ("PUT", f"/crm/v8/Campaigns/{CAMPAIGN}/Leads")
    assert call.body == {"data": [{"id": lead, "Member_Status": "Active"} for lead in LEADS]}


async def test_link_accepts_plain_ids(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    report = await make_client().link("Products", "1001", "Price_Books", ["2001", "2002"])
    assert report.succeeded == 2
    assert set(fake_zoho.relations("Products", "1001", "Price_Books")) == {"2001", "2002"}


async def test_one_relation_goes_to_the_single_record_endpoint_and_updates_its_fields(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.add_relation("Campaigns", CAMPAIGN, "Leads", LEADS[0], {"Member_Status": "Sent"})
    report = await make_client().link(
        "Campaigns", CAMPAIGN, "Leads", [{"id": LEADS[0], "Member_Status": "Responded"}]
    )
    assert report.succeeded == 1
    [call] = fake_zoho.requests
    assert (call.method, call.path) == ("PUT", f"/crm/v8/Campaigns/{CAMPAIGN}/Leads/{LEADS[0]}")
    assert call.body == {"data": [{"Member_Status": "Responded"}]}
    assert fake_zoho.relations("Campaigns", CAMPAIGN, "Leads") == {
        LEADS[0]: {"Member_Status": "Responded"}
    }


async def test_delink_many_and_one(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    for lead in LEADS:
        fake_zoho.add_relation("Campaigns", CAMPAIGN, "Leads", lead)
    zoho = make_client()
    many = await zoho.delink("Campaigns", CAMPAIGN, "Leads", LEADS[:3])
    one = await zoho.delink("Campaigns", CAMPAIGN, "Leads", [{"id": LEADS[3]}])

    assert many.succeeded == 3
    assert one.succeeded == 1
    assert {r.message for r in [*many.results, *one.results]} == {"relation removed"}
    assert set(fake_zoho.relations("Campaigns", CAMPAIGN, "Leads")) == {LEADS[4]}
    bulk, single = fake_zoho.requests
    assert (bulk.method, bulk.path, bulk.query) == (
        "DELETE",
        f"/crm/v8/Campaigns/{CAMPAIGN}/Leads",
        {"ids": ",".join(LEADS[:3])},
    )
    assert (single.method, single.path) == (
        "DELETE",
        f"/crm/v8/Campaigns/{CAMPAIGN}/Leads/{LEADS[3]}",
    )


@pytest.mark.parametrize(
    ("trigger", "sent"),
    [(None, None), ([], []), (["workflow"], ["workflow"]), (["approval", "blueprint"], None)],
)
async def test_update_records_sends_trigger_only_as_asked(
    fake_zoho: FakeZoho,
    make_client: ClientFactory,
    trigger: list[str] | None,
    sent: list[str] | None,
) -> None:
    records = [{"id": "554023000000527002", "Company": "Zylker"}]
    report = await make_client().update_records("Leads", records, trigger=trigger)
    assert report.succeeded == 1
    assert report.results[0].message == "record updated"
    [call] = fake_zoho.requests
    assert (call.method, call.path) == ("PUT", "/crm/v8/Leads")
    if trigger is None:
        assert "trigger" not in call.body  # never default it to [] behind the user's back
    else:
        assert call.body["trigger"] == trigger
    assert fake_zoho.record("Leads", "554023000000527002") == {"Company": "Zylker"}


async def test_update_records_layout_rules_and_append_values(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client()
    await zoho.update_records("Leads", [{"id": "1", "Foreign_Languages": ["Korean"]}])
    report = await zoho.update_records(
        "Leads",
        [
            {
                "id": "1",
                "Foreign_Languages": ["Spanish"],
                "$append_values": {"Foreign_Languages": True},
            }
        ],
        apply_layout_rules=True,
    )
    assert report.succeeded == 1
    assert fake_zoho.requests[-1].body["apply_feature_execution"] == [{"name": "layout_rules"}]
    assert fake_zoho.record("Leads", "1") == {"Foreign_Languages": ["Korean", "Spanish"]}


async def test_external_ids_for_parent_and_related_records(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.add_external("Contacts", "External_Contact_ID", "extcontact3", "111111000000085009")
    fake_zoho.add_external("Deals", "External_Deal_ID", "extdeal3", "111111000000094028")
    fake_zoho.add_external("Deals", "External_Deal_ID", "extdeal4", "111111000000094029")
    header = "Contacts.External_Contact_ID,Deals.External_Deal_ID"
    report = await make_client().link(
        "Contacts",
        "extcontact3",
        "Deals",
        [
            {"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"},
            {"External_Deal_ID": "extdeal4"},
        ],
        external=header,
    )
    assert report.succeeded == 2
    assert report.results[0].details == {"External_Deal_ID": "extdeal3", "id": "111111000000094028"}
    assert fake_zoho.requests[0].external == header
    assert fake_zoho.relations("Contacts", "111111000000085009", "Deals") == {
        "111111000000094028": {"Contact_Role": "111111000000026002"},
        "111111000000094029": {},
    }


async def test_external_related_id_that_is_unknown_fails_alone(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.add_external("Deals", "External_Deal_ID", "extdeal3", "111111000000094028")
    ops = [
        Link("Contacts", "111111000000085009", "Deals", value, external="Deals.External_Deal_ID")
        for value in ("nope", "extdeal3")
    ]
    report = await make_client().run(ops)
    assert [r.status for r in report.results] == ["error", "success"]
    assert report.results[0].code == "INVALID_DATA"


async def test_run_mixes_kinds_and_parents_and_keeps_input_order(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.add_relation("Campaigns", "2", "Contacts", "30")
    fake_zoho.missing_ids.add("666")
    ops: list[Operation] = [
        Link("Campaigns", "1", "Leads", "10", {"Member_Status": "Active"}),
        Delink("Campaigns", "2", "Contacts", "30"),
        UpdateRecord("Leads", "10", {"Lead_Status": "Contacted"}),
        Link("Campaigns", "1", "Leads", "666"),
        Link("Campaigns", "3", "Leads", "11"),
        UpdateRecord("Leads", "666", {"Lead_Status": "Contacted"}),
    ]
    report = await make_client().run(ops)
    assert [r.op for r in report.results] == ops
    assert [r.status for r in report.results] == [
        "success",
        "success",
        "success",
        "error",
        "success",
        "error",
    ]
    assert report.failed_ops() == [ops[3], ops[5]]
    assert fake_zoho.relations("Campaigns", "1", "Leads") == {"10": {"Member_Status": "Active"}}
    assert fake_zoho.relations("Campaigns", "2", "Contacts") == {}
    assert fake_zoho.record("Leads", "10") == {"Lead_Status": "Contacted"}


async def test_duplicates_are_sent_once_and_each_gets_the_result(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    report = await make_client().link("Campaigns", "1", "Leads", ["10", "11", "10", "10"])
    assert len(report) == 4
    assert report.succeeded == 4
    [call] = fake_zoho.requests
    assert [item["id"] for item in call.body["data"]] == ["10", "11"]


@pytest.mark.parametrize("version", ["v2", "v2.1", "v5", "v7", "v8"])
async def test_every_api_version_works_and_partial_success_is_read_from_the_body(
    fake_zoho: FakeZoho, make_client: ClientFactory, version: str
) -> None:
    fake_zoho.missing_ids.add("666")
    report = await make_client(version=version).link("Campaigns", "1", "Leads", ["10", "666"])
    assert [r.status for r in report.results] == ["success", "error"]
    assert report.results[0].http_status == (207 if version == "v8" else 202)
    assert fake_zoho.requests[0].path == f"/crm/{version}/Campaigns/1/Leads"


async def test_whole_call_error_answers_every_record_without_retry(
    make_client: ClientFactory,
) -> None:
    async with FakeZoho(modules=["Leads", "Campaigns"]) as fake:
        report = await make_client(fake).link("Nonexistent_Module", "1", "Leads", ["10", "11"])
        assert {(r.code, r.http_status, r.attempts) for r in report.results} == {
            ("INVALID_MODULE", 400, 1)
        }
        assert fake.stats.requests == 1


async def test_a_session_passed_in_is_used_and_left_open(fake_zoho: FakeZoho) -> None:
    import aiohttp

    from zcrm_related_async import AsyncClient

    async with aiohttp.ClientSession() as session:
        async with AsyncClient(
            api_domain=fake_zoho.url, access_token=fake_zoho.access_token, session=session
        ) as zoho:
            report = await zoho.link("Campaigns", "1", "Leads", ["10"])
        assert report.succeeded == 1
        assert not session.closed


async def test_the_same_relation_asked_twice_with_other_fields_ends_as_asked_last(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake_zoho.inject("500")  # the first call is retried after a backoff...
    ops = [
        Link("Campaigns", "1", "Leads", "10", {"Member_Status": "Planning"}),
        Link("Campaigns", "1", "Leads", "11"),
        Link("Campaigns", "1", "Leads", "10", {"Member_Status": "Active"}),
    ]
    report = await make_client(backoff_base=0.1, linger=0).run(ops)
    assert report.succeeded == 3
    # ...and the later call, which carries the later fields, waited for it
    assert fake_zoho.relations("Campaigns", "1", "Leads")["10"] == {"Member_Status": "Active"}
