"""The fake's metadata reads (``settings/related_lists``, ``settings/fields``) and numeric ids:
what other Zoho clients (the official SDK among them) need before and while they link.

``shared/zoho-oas`` holds no spec of the settings APIs; the required keys below are those of
Zoho's own spec (``zoho/crm-oas`` v8.0 ``related_lists.json``: ``RelatedList.required``) and
of the field keys the official SDK reads (its ``fields.Fields`` model).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from zcrm_related_async.testing import FakeZoho

RELATED_LIST_REQUIRED = {
    "id",
    "sequence_number",
    "display_label",
    "api_name",
    "name",
    "action",
    "href",
    "type",
    "customize_sort",
    "customize_fields",
    "customize_display_label",
    "status",
}
#: every key Zoho's spec allows in a related list (it has additionalProperties: false)
RELATED_LIST_KEYS = RELATED_LIST_REQUIRED | {
    "module",
    "connectedlookupApiName",
    "field_enabled",
    "visibility",
    "personality_name",
    "record_operations",
    "connectedmodule",
    "linkingmodule",
    "parent_related_lists",
}
FIELD_KEYS = {"api_name", "id", "data_type", "json_type", "system_mandatory", "lookup"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(
    http: aiohttp.ClientSession,
    fake: FakeZoho,
    path: str,
    method: str = "GET",
    token: str | None = None,
    **query: str,
) -> tuple[int, Any]:
    headers = {"Authorization": f"Zoho-oauthtoken {token or fake.access_token}"}
    async with http.request(method, fake.url + path, params=query, headers=headers) as resp:
        raw = await resp.read()
        return resp.status, json.loads(raw) if raw else None


def is_id(value: object) -> bool:
    return isinstance(value, str) and value.isdigit()


async def test_related_lists_have_zohos_shape_and_name_their_module(
    http: aiohttp.ClientSession, fake_zoho: FakeZoho
) -> None:
    status, body = await get(http, fake_zoho, "/crm/v8/settings/related_lists", module="Campaigns")

    assert status == 200
    assert list(body) == ["related_lists"]
    lists = {item["api_name"]: item for item in body["related_lists"]}
    assert {"Leads", "Contacts"} <= set(lists)
    for item in lists.values():
        assert RELATED_LIST_REQUIRED <= set(item) <= RELATED_LIST_KEYS, item
        assert is_id(item["id"])
        assert item["sequence_number"].isdigit()
        assert item["status"] in ("visible", "user_hidden", "scheduled_for_deletion")
        assert set(item["module"]) == {"api_name", "id"}
        assert is_id(item["module"]["id"])
        # A client takes a null href for a list the API cannot reach (the SDK refuses it).
        assert item["href"] == f"Campaigns/{{ENTITYID}}/{item['api_name']}"
    assert lists["Leads"]["module"]["api_name"] == "Leads"
    ids = [item["id"] for item in body["related_lists"]]
    assert len(set(ids)) == len(ids)


async def test_deals_contact_roles_list_holds_contacts(
    http: aiohttp.ClientSession, fake_zoho: FakeZoho
) -> None:
    _, body = await get(http, fake_zoho, "/crm/v2.1/settings/related_lists", module="Deals")
    lists = {item["api_name"]: item["module"]["api_name"] for item in body["related_lists"]}
    assert lists["Contact_Roles"] == "Contacts"


async def test_fields_have_zohos_shape_and_lookups_name_a_known_module(
    http: aiohttp.ClientSession, fake_zoho: FakeZoho
) -> None:
    status, body = await get(http, fake_zoho, "/crm/v8/settings/fields", module="Contacts")

    assert status == 200
    assert list(body) == ["fields"]
    fields = {item["api_name"]: item for item in body["fields"]}
    assert {"Last_Name", "Email", "Owner", "Account_Name"} <= set(fields)
    for item in fields.values():
        assert set(item) >= FIELD_KEYS, item
        assert is_id(item["id"])
        assert isinstance(item["system_mandatory"], bool)
    assert fields["Last_Name"]["system_mandatory"] is True
    assert fields["Owner"]["data_type"] == "ownerlookup"
    lookup = fields["Account_Name"]["lookup"]
    assert fields["Account_Name"]["data_type"] == "lookup"
    assert lookup["module"]["api_name"] == "Accounts"
    _, accounts = await get(http, fake_zoho, "/crm/v8/settings/fields", module="Accounts")
    assert accounts["fields"][0]["api_name"] == "Account_Name"


@pytest.mark.parametrize("what", ["related_lists", "fields"])
async def test_unknown_or_missing_module_is_zohos_error(
    http: aiohttp.ClientSession, fake_zoho: FakeZoho, what: str
) -> None:
    path = f"/crm/v8/settings/{what}"

    status, body = await get(http, fake_zoho, path, module="Nope")
    assert (status, body["code"], body["details"]) == (
        400,
        "INVALID_MODULE",
        {"param_name": "module"},
    )
    assert body["status"] == "error"

    status, body = await get(http, fake_zoho, path)
    assert (status, body["code"]) == (400, "REQUIRED_PARAM_MISSING")

    status, body = await get(http, fake_zoho, path, method="PUT", module="Leads")
    assert (status, body["code"]) == (400, "INVALID_REQUEST_METHOD")

    status, body = await get(http, fake_zoho, path, token="dead", module="Leads")
    assert (status, body["code"]) == (401, "INVALID_TOKEN")


async def test_modules_given_to_the_fake_are_the_ones_it_knows(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeZoho(modules=["Campaigns", "Leads", "Projects"]) as fake:
        _, body = await get(http, fake, "/crm/v8/settings/related_lists", module="Campaigns")
        # Contacts and Deals are not modules of this org: their lists are not offered.
        assert [item["api_name"] for item in body["related_lists"]] == ["Leads"]

        status, body = await get(http, fake, "/crm/v8/settings/related_lists", module="Projects")
        assert (status, body) == (204, None)  # a module with no related lists
        _, body = await get(http, fake, "/crm/v8/settings/fields", module="Projects")
        assert [item["api_name"] for item in body["fields"]] == ["Name", "Owner"]

        status, body = await get(http, fake, "/crm/v8/settings/fields", module="Contacts")
        assert (status, body["code"]) == (400, "INVALID_MODULE")


async def test_ids_given_as_json_numbers_are_the_same_ids(
    http: aiohttp.ClientSession, fake_zoho: FakeZoho
) -> None:
    headers = {"Authorization": f"Zoho-oauthtoken {fake_zoho.access_token}"}
    url = f"{fake_zoho.url}/crm/v8/Campaigns/1001/Leads"
    body = {"data": [{"id": 4000000000000000101, "Member_Status": "Sent"}, {"id": "2002"}]}
    async with http.put(url, json=body, headers=headers) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert [item["details"] for item in answer["data"]] == [
        {"id": "4000000000000000101"},
        {"id": "2002"},
    ]
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {
        "4000000000000000101": {"Member_Status": "Sent"},
        "2002": {},
    }

    update = {"data": [{"id": 3001, "Rating": "Hot"}]}
    async with http.put(f"{fake_zoho.url}/crm/v8/Leads", json=update, headers=headers) as resp:
        assert resp.status == 200
        answer = await resp.json()
    assert answer["data"][0]["details"]["id"] == "3001"
    assert fake_zoho.record("Leads", "3001") == {"Rating": "Hot"}


@pytest.mark.parametrize("bad", [True, -5, 1.5, None])
async def test_what_is_not_an_id_stays_refused(
    http: aiohttp.ClientSession, fake_zoho: FakeZoho, bad: object
) -> None:
    headers = {"Authorization": f"Zoho-oauthtoken {fake_zoho.access_token}"}
    url = f"{fake_zoho.url}/crm/v8/Campaigns/1001/Leads"
    async with http.put(url, json={"data": [{"id": bad}]}, headers=headers) as resp:
        assert resp.status == 400
        answer = await resp.json()
    code = "MANDATORY_NOT_FOUND" if bad is None else "INVALID_DATA"
    assert answer["data"][0]["code"] == code
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {}
