"""Zoho's official Python SDK (``zohocrmsdk8-0``) against the fake: the fake hosts any Zoho
client, not just ours.

The SDK is synchronous (``requests``), so its calls run in a thread while the fake answers on
the test's loop. Before it links, the SDK reads ``settings/related_lists`` and
``settings/fields`` and writes what it learnt to a cache file under its resource path (a temp
dir here); its bodies carry ids as JSON numbers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import (
    OAuthToken,
)
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
from zohocrmsdk.src.com.zoho.api.logger import Logger
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.parameter_map import ParameterMap
from zohocrmsdk.src.com.zoho.crm.api.record import Record
from zohocrmsdk.src.com.zoho.crm.api.related_records import (
    ActionWrapper,
    BodyWrapper,
    DelinkRecordsParam,
    RelatedRecordsOperations,
    SuccessResponse,
)

from zcrm_related_async.testing import FakeZoho

CAMPAIGN = 4000000000000000001
LEADS = [4000000000000000101, 4000000000000000102, 4000000000000000103]


@pytest.fixture
def sdk_logs() -> Iterator[None]:
    yield
    # The SDK's logger keeps a handler on its temp log file: close it with the test.
    for handler in logging.getLogger("SDKLogger").handlers[:]:
        handler.close()
        logging.getLogger("SDKLogger").removeHandler(handler)


def init_sdk(fake: FakeZoho, resources: Path) -> None:
    environment = DataCenter.Environment(fake.url, f"{fake.accounts_url}/oauth/v2/token", fake.url)
    Initializer.initialize(
        environment=environment,
        # A token the fake accepts; find_user=False spares the users/org reads.
        token=OAuthToken(access_token=fake.access_token, find_user=False),
        store=FileStore(str(resources / "tokens.csv")),
        resource_path=str(resources),
        logger=Logger.get_instance(Logger.Levels.INFO, str(resources / "sdk.log")),
    )


def relation(lead: int, status: str) -> Any:
    record = Record()
    record.set_id(lead)
    record.add_key_value("Member_Status", status)
    return record


def outcomes(response: Any) -> list[tuple[str, str]]:
    """(status, code) of each item of an SDK answer; an answer it could not read fails."""
    assert response is not None
    answer = response.get_object()
    assert isinstance(answer, ActionWrapper), (response.get_status_code(), answer)
    out = []
    for item in answer.get_data():
        assert isinstance(item, SuccessResponse), vars(item)
        out.append((item.get_status().get_value(), item.get_code().get_value()))
    return out


async def test_the_official_sdk_links_updates_and_delinks_against_the_fake(
    tmp_path: Path, sdk_logs: None
) -> None:
    parent = str(CAMPAIGN)
    async with FakeZoho() as fake:
        await asyncio.to_thread(init_sdk, fake, tmp_path)
        campaign_leads = RelatedRecordsOperations("Leads", "Campaigns")

        # link many
        body = BodyWrapper()
        body.set_data([relation(lead, "Sent") for lead in LEADS])
        answer = await asyncio.to_thread(campaign_leads.update_related_records, CAMPAIGN, body)
        assert outcomes(answer) == [("success", "SUCCESS")] * 3
        sent = {str(lead): {"Member_Status": "Sent"} for lead in LEADS}
        assert fake.relations("Campaigns", parent, "Leads") == sent

        # update one relation
        body = BodyWrapper()
        body.set_data([relation(LEADS[0], "Responded")])
        answer = await asyncio.to_thread(
            campaign_leads.update_related_record, LEADS[0], CAMPAIGN, body
        )
        assert outcomes(answer) == [("success", "SUCCESS")]
        assert fake.relations("Campaigns", parent, "Leads")[str(LEADS[0])] == {
            "Member_Status": "Responded"
        }

        # delink many
        params = ParameterMap()
        params.add(DelinkRecordsParam.ids, ",".join(map(str, LEADS[1:])))
        answer = await asyncio.to_thread(campaign_leads.delink_records, CAMPAIGN, params)
        assert outcomes(answer) == [("success", "SUCCESS")] * 2
        assert list(fake.relations("Campaigns", parent, "Leads")) == [str(LEADS[0])]

        # delink one
        answer = await asyncio.to_thread(campaign_leads.delink_record, LEADS[0], CAMPAIGN)
        assert outcomes(answer) == [("success", "SUCCESS")]
        assert fake.relations("Campaigns", parent, "Leads") == {}

    calls = [(r.method, r.path.removeprefix("/crm/v8/"), r.status) for r in fake.requests]
    related = f"Campaigns/{CAMPAIGN}/Leads"
    assert calls == [
        ("GET", "settings/related_lists", 200),  # what the SDK reads before it links
        ("GET", "settings/fields", 200),
        ("PUT", related, 200),
        ("PUT", f"{related}/{LEADS[0]}", 200),
        ("DELETE", related, 200),
        ("DELETE", f"{related}/{LEADS[0]}", 200),
    ]
    assert [r.query for r in fake.requests[:2]] == [{"module": "Campaigns"}, {"module": "Leads"}]
    # Its ids are JSON numbers, which Zoho takes (and so must the fake).
    assert fake.requests[2].body["data"][0] == {"id": LEADS[0], "Member_Status": "Sent"}
    # Its metadata cache went where it was told.
    assert list((tmp_path / "resources").glob("*.json"))
