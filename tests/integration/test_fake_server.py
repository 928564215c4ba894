"""Tests of the fake Zoho CRM itself, driven over real HTTP with a raw aiohttp session."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import pytest
from multidict import CIMultiDictProxy

import zcrm_related_async.testing
from zcrm_related_async.testing import FakeZoho, Faults

REL = "/crm/v8/Campaigns/1001/Leads"
# Where the package is imported from, for the standalone server's subprocess.
SRC = str(Path(zcrm_related_async.testing.__file__).resolve().parents[2])
BUSY = {"code": "TOO_MANY_REQUESTS", "details": {}, "status": "error"}


@attrs.frozen
class Answer:
    status: int
    raw: bytes
    headers: CIMultiDictProxy[str]

    @property
    def body(self) -> Any:
        return json.loads(self.raw) if self.raw else None


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def auth(fake: FakeZoho, token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Zoho-oauthtoken {token or fake.access_token}"}


async def call(
    http: aiohttp.ClientSession,
    fake: FakeZoho,
    method: str,
    path: str,
    body: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    token: str | None = None,
    data: bytes | None = None,
    timeout: float | None = None,
) -> Answer:
    all_headers = {**auth(fake, token), **(headers or {})}
    async with http.request(
        method,
        fake.url + path,
        json=body,
        data=data,
        headers=all_headers,
        params=params,
        timeout=aiohttp.ClientTimeout(total=timeout),
    ) as resp:
        return Answer(resp.status, await resp.read(), resp.headers)


async def refresh(http: aiohttp.ClientSession, fake: FakeZoho, **override: str) -> Any:
    form = {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "refresh_token": fake.refresh_token,
        **override,
    }
    async with http.post(f"{fake.accounts_url}/oauth/v2/token", data=form) as resp:
        assert resp.status == 200
        return await resp.json()


def ok(id_: str, message: str = "relation added") -> dict[str, Any]:
    return {"code": "SUCCESS", "details": {"id": id_}, "message": message, "status": "success"}


def bad_related(id_: str) -> dict[str, Any]:
    return {
        "code": "INVALID_DATA",
        "details": {"id": id_},
        "message": "the related id given seems to be invalid",
        "status": "error",
    }


def mandatory(field: str, index: int) -> dict[str, Any]:
    return {
        "code": "MANDATORY_NOT_FOUND",
        "details": {"api_name": field, "json_path": f"$.data[{index}].{field}"},
        "message": "required field not found",
        "status": "error",
    }


def items(n: int, start: int = 2000) -> list[dict[str, Any]]:
    return [{"id": str(start + i)} for i in range(n)]


# --- link / update relations -----------------------------------------------------------


async def test_link_stores_relations_and_answers_each_item(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    body = {"data": [{"id": "2001", "Member_Status": "Sent"}, {"id": "2002"}]}
    answer = await call(http, fake_zoho, "PUT", REL, body)
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert not [h for h in answer.headers if h.upper().startswith("X-RATELIMIT")]
    assert answer.body == {"data": [ok("2001"), ok("2002")]}
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {
        "2001": {"Member_Status": "Sent"},
        "2002": {},
    }
    # A PUT on an existing relation replaces its fields.
    answer = await call(
        http, fake_zoho, "PUT", REL, {"data": [{"id": "2001", "Member_Status": "Rsp"}]}
    )
    assert answer.status == 200
    assert fake_zoho.relations("Campaigns", "1001", "Leads")["2001"] == {"Member_Status": "Rsp"}
    # The accessor returns a copy.
    fake_zoho.relations("Campaigns", "1001", "Leads")["2001"]["X"] = 1
    assert "X" not in fake_zoho.relations("Campaigns", "1001", "Leads")["2001"]


@pytest.mark.parametrize(
    ("version", "mixed_status"),
    [("v2", 202), ("v2.1", 202), ("v7", 202), ("v8", 207), ("v9", 207)],
)
async def test_link_per_item_errors_and_status_by_version(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession, version: str, mixed_status: int
) -> None:
    fake_zoho.missing_ids.add("666")
    path = f"/crm/{version}/Campaigns/1001/Leads"
    body = {
        "data": [{"id": "2001"}, {"id": "666"}, {"Member_Status": "x"}, {"id": "12a"}, {"id": 7.5}]
    }
    answer = await call(http, fake_zoho, "PUT", path, body)
    assert answer.status == mixed_status
    assert answer.body == {
        "data": [
            ok("2001"),
            bad_related("666"),
            mandatory("id", 2),
            bad_related("12a"),
            bad_related("7.5"),  # a JSON number is an id (as Zoho takes it) only if whole
        ]
    }
    assert set(fake_zoho.relations("Campaigns", "1001", "Leads")) == {"2001"}
    # Every item failed: 400, still with the per-record data list.
    answer = await call(http, fake_zoho, "PUT", path, {"data": [{"id": "666"}]})
    assert answer.status == 400
    assert answer.body == {"data": [bad_related("666")]}


async def test_link_answers_duplicates_each(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    body = {"data": [{"id": "2001", "A": 1}, {"id": "2001", "A": 2}]}
    answer = await call(http, fake_zoho, "PUT", REL, body)
    assert answer.body == {"data": [ok("2001"), ok("2001")]}
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {"2001": {"A": 2}}


async def test_link_whole_request_errors(fake_zoho: FakeZoho, http: aiohttp.ClientSession) -> None:
    fake_zoho.missing_ids.add("1001")
    answer = await call(http, fake_zoho, "PUT", REL, {"data": items(1)})
    assert answer.status == 400
    assert answer.body == {
        "code": "INVALID_DATA",
        "details": {"id": "1001"},
        "message": "the id given seems to be invalid",
        "status": "error",
    }
    answer = await call(http, fake_zoho, "PUT", "/crm/v8/Campaigns/abc/Leads", {"data": items(1)})
    assert (answer.status, answer.body["details"]) == (400, {"id": "abc"})

    good = "/crm/v8/Campaigns/1002/Leads"
    bad_bodies: list[Any] = [{"data": []}, {"data": {"id": "1"}}, {"rows": []}, [1]]
    for bad_body in bad_bodies:
        answer = await call(http, fake_zoho, "PUT", good, bad_body)
        assert answer.status == 400
        assert answer.body["code"] == "INVALID_DATA"
        assert answer.body["status"] == "error"
    answer = await call(http, fake_zoho, "PUT", good, data=b"{not json")
    assert (answer.status, answer.body["code"]) == (400, "INVALID_DATA")

    answer = await call(http, fake_zoho, "PUT", good, {"data": items(101)})
    assert answer.status == 400
    assert answer.body["code"] == "LIMIT_EXCEEDED"
    assert answer.body["details"] == {"limit": 100}
    assert fake_zoho.relations("Campaigns", "1002", "Leads") == {}

    answer = await call(http, fake_zoho, "PUT", good, {"data": items(100)})
    assert answer.status == 200
    assert len(answer.body["data"]) == 100
    assert len(fake_zoho.relations("Campaigns", "1002", "Leads")) == 100


async def test_update_one_relation(fake_zoho: FakeZoho, http: aiohttp.ClientSession) -> None:
    answer = await call(
        http, fake_zoho, "PUT", REL + "/2001", {"data": [{"Member_Status": "Sent"}]}
    )
    assert answer.status == 200
    assert answer.body == {"data": [ok("2001")]}
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {"2001": {"Member_Status": "Sent"}}

    fake_zoho.missing_ids.add("666")
    answer = await call(http, fake_zoho, "PUT", REL + "/666", {"data": [{"Member_Status": "x"}]})
    assert (answer.status, answer.body) == (400, {"data": [bad_related("666")]})
    answer = await call(http, fake_zoho, "PUT", REL + "/2001", {"data": [{}, {}]})
    assert (answer.status, answer.body["code"]) == (400, "LIMIT_EXCEEDED")


# --- delink ----------------------------------------------------------------------------


async def test_delink_many(fake_zoho: FakeZoho, http: aiohttp.ClientSession) -> None:
    for rid in ("2001", "2002", "2003"):
        fake_zoho.add_relation("Campaigns", "1001", "Leads", rid, {"S": rid})
    fake_zoho.missing_ids.add("666")
    answer = await call(http, fake_zoho, "DELETE", REL, params={"ids": "2001,2002,9999"})
    removed = "relation removed"
    assert answer.status == 200
    assert answer.body == {"data": [ok("2001", removed), ok("2002", removed), ok("9999", removed)]}
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {"2003": {"S": "2003"}}

    answer = await call(
        http, fake_zoho, "DELETE", "/crm/v2/Campaigns/1001/Leads", params={"ids": "2003,666"}
    )
    assert answer.status == 202
    assert answer.body == {"data": [ok("2003", removed), bad_related("666")]}
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {}

    answer = await call(http, fake_zoho, "DELETE", REL, params={"ids": "x"})
    assert (answer.status, answer.body) == (400, {"data": [bad_related("x")]})

    answer = await call(http, fake_zoho, "DELETE", REL)
    assert answer.status == 400
    assert answer.body["code"] == "REQUIRED_PARAM_MISSING"
    assert answer.body["details"]["param"] == "ids"

    ids = ",".join(str(3000 + i) for i in range(101))
    answer = await call(http, fake_zoho, "DELETE", REL, params={"ids": ids})
    assert (answer.status, answer.body["code"]) == (400, "LIMIT_EXCEEDED")
    assert fake_zoho.stats.deletes == 5


async def test_delink_one(fake_zoho: FakeZoho, http: aiohttp.ClientSession) -> None:
    fake_zoho.add_relation("Campaigns", "1001", "Leads", "2001")
    answer = await call(http, fake_zoho, "DELETE", REL + "/2001")
    assert (answer.status, answer.body) == (200, {"data": [ok("2001", "relation removed")]})
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {}
    answer = await call(http, fake_zoho, "DELETE", REL + "/zz")
    assert (answer.status, answer.body) == (400, {"data": [bad_related("zz")]})


async def test_get_related_lists_state(fake_zoho: FakeZoho, http: aiohttp.ClientSession) -> None:
    answer = await call(http, fake_zoho, "GET", REL)
    assert (answer.status, answer.raw) == (204, b"")
    fake_zoho.add_relation("Campaigns", "1001", "Leads", "2001", {"Member_Status": "Sent"})
    answer = await call(http, fake_zoho, "GET", REL)
    assert answer.status == 200
    assert answer.body["data"] == [{"id": "2001", "Member_Status": "Sent"}]
    assert answer.body["info"]["count"] == 1
    assert answer.body["info"]["more_records"] is False
    answer = await call(http, fake_zoho, "GET", REL + "/2001")
    assert answer.body["data"] == [{"id": "2001", "Member_Status": "Sent"}]
    assert (await call(http, fake_zoho, "GET", REL + "/2002")).status == 204


# --- update records --------------------------------------------------------------------


async def test_update_records_merges_and_appends(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    first = {"data": [{"id": "5001", "Company": "A", "Langs": ["en"], "State": "X"}]}
    answer = await call(http, fake_zoho, "PUT", "/crm/v8/Leads", first)
    assert answer.status == 200
    (item,) = answer.body["data"]
    assert (item["code"], item["message"], item["status"]) == (
        "SUCCESS",
        "record updated",
        "success",
    )
    details = item["details"]
    assert list(details) == ["Modified_Time", "Modified_By", "Created_Time", "id", "Created_By"]
    assert details["id"] == "5001"
    assert details["Modified_By"] == {"name": "Fake User", "id": "1000000000000000001"}
    assert details["Modified_Time"].endswith("+00:00")

    second = {
        "data": [
            {
                "id": "5001",
                "Company": "B",
                "Langs": ["fr", "en"],
                "$append_values": {"Langs": True},
            },
        ],
        "trigger": ["workflow"],
        "apply_feature_execution": [{"name": "layout_rules"}],
    }
    answer = await call(http, fake_zoho, "PUT", "/crm/v8/Leads", second)
    assert answer.status == 200
    assert fake_zoho.record("Leads", "5001") == {
        "Company": "B",
        "Langs": ["en", "fr"],
        "State": "X",
    }
    third = {"data": [{"id": "5001", "Langs": ["de"], "$append_values": {"Langs": False}}]}
    await call(http, fake_zoho, "PUT", "/crm/v8/Leads", third)
    assert fake_zoho.record("Leads", "5001") == {"Company": "B", "Langs": ["de"], "State": "X"}
    assert fake_zoho.record("Leads", "5002") is None

    # The request log keeps trigger as sent, and its absence.
    bodies = [r.body for r in fake_zoho.requests]
    assert "trigger" not in bodies[0]
    assert bodies[1]["trigger"] == ["workflow"]
    assert bodies[1]["apply_feature_execution"] == [{"name": "layout_rules"}]

    answer = await call(http, fake_zoho, "GET", "/crm/v8/Leads/5001")
    assert answer.body == {"data": [{"id": "5001", "Company": "B", "Langs": ["de"], "State": "X"}]}


@pytest.mark.parametrize(("version", "mixed_status"), [("v2", 202), ("v7", 202), ("v8", 207)])
async def test_update_records_errors(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession, version: str, mixed_status: int
) -> None:
    fake_zoho.missing_ids.add("666")
    path = f"/crm/{version}/Leads"
    body = {
        "data": [
            {"id": "5001", "A": 1},
            {"A": 2},
            {"id": "666"},
            {"id": "5002", "$append_values": 3},
        ]
    }
    answer = await call(http, fake_zoho, "PUT", path, body)
    assert answer.status == mixed_status
    data = answer.body["data"]
    assert data[0]["status"] == "success"
    assert data[1] == mandatory("id", 1)
    assert data[2] == {
        "code": "INVALID_DATA",
        "details": {"id": "666"},
        "message": "the id given seems to be invalid",
        "status": "error",
    }
    assert data[3]["code"] == "INVALID_DATA"
    answer = await call(http, fake_zoho, "PUT", path, {"data": [{"id": "666"}]})
    assert answer.status == 400
    assert answer.body["data"][0]["code"] == "INVALID_DATA"
    answer = await call(http, fake_zoho, "PUT", path, {"data": items(101)})
    assert (answer.status, answer.body["details"]) == (400, {"limit": 100})
    answer = await call(http, fake_zoho, "PUT", path, {"data": items(1), "trigger": "workflow"})
    assert (answer.status, answer.body["code"]) == (400, "INVALID_DATA")


# --- external ids ----------------------------------------------------------------------


async def test_external_ids_for_parent_and_related(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    fake_zoho.add_external("Contacts", "External_Contact_ID", "extcontact3", "111111000000085009")
    fake_zoho.add_external("Deals", "External_Deal_ID", "extdeal3", "111111000000094028")
    both = {"X-EXTERNAL": "Contacts.External_Contact_ID,Deals.External_Deal_ID"}
    body = {
        "data": [
            {"External_Deal_ID": "extdeal3", "Contact_Role": "111111000000026002"},
            {"Contact_Role": "1"},
            {"External_Deal_ID": "nope"},
        ]
    }
    answer = await call(
        http, fake_zoho, "PUT", "/crm/v5/Contacts/extcontact3/Deals", body, headers=both
    )
    assert answer.status == 202
    assert answer.body["data"][0] == {
        "code": "SUCCESS",
        "details": {"External_Deal_ID": "extdeal3", "id": "111111000000094028"},
        "message": "relation added",
        "status": "success",
    }
    assert answer.body["data"][1] == mandatory("External_Deal_ID", 1)
    assert answer.body["data"][2]["code"] == "INVALID_DATA"
    assert answer.body["data"][2]["details"] == {"External_Deal_ID": "nope"}
    # State is keyed by resolved ids; the external field is not a relation field.
    assert fake_zoho.relations("Contacts", "111111000000085009", "Deals") == {
        "111111000000094028": {"Contact_Role": "111111000000026002"}
    }
    assert fake_zoho.requests[0].external == both["X-EXTERNAL"]

    # Related external only: the parent is a plain id.
    only_deals = {"X-EXTERNAL": "Deals.External_Deal_ID"}
    answer = await call(
        http,
        fake_zoho,
        "PUT",
        "/crm/v8/Contacts/111111000000085010/Deals",
        {"data": [{"External_Deal_ID": "extdeal3"}]},
        headers=only_deals,
    )
    assert answer.status == 200
    assert set(fake_zoho.relations("Contacts", "111111000000085010", "Deals")) == {
        "111111000000094028"
    }

    # Unknown external value for the base module: a bare error.
    answer = await call(
        http, fake_zoho, "PUT", "/crm/v8/Contacts/unknown/Deals", {"data": items(1)}, headers=both
    )
    assert answer.status == 400
    assert answer.body["code"] == "INVALID_DATA"
    assert answer.body["message"] == "You have specified an invalid external ID for the base module"

    # Delink by external values, many then one.
    answer = await call(
        http,
        fake_zoho,
        "DELETE",
        "/crm/v8/Contacts/extcontact3/Deals",
        headers=both,
        params={"ids": "extdeal3,nope"},
    )
    assert answer.status == 207
    assert answer.body["data"][0]["details"] == {
        "External_Deal_ID": "extdeal3",
        "id": "111111000000094028",
    }
    assert answer.body["data"][1]["details"] == {"External_Deal_ID": "nope"}
    assert fake_zoho.relations("Contacts", "111111000000085009", "Deals") == {}
    answer = await call(
        http,
        fake_zoho,
        "DELETE",
        "/crm/v8/Contacts/111111000000085010/Deals/extdeal3",
        headers=only_deals,
    )
    assert answer.status == 200
    assert fake_zoho.relations("Contacts", "111111000000085010", "Deals") == {}


async def test_malformed_external_header_is_a_bare_error(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    headers = {"X-EXTERNAL": "Contacts"}
    answer = await call(http, fake_zoho, "PUT", REL, {"data": items(1)}, headers=headers)
    assert (answer.status, answer.body["code"], answer.body["status"]) == (
        400,
        "INVALID_DATA",
        "error",
    )


async def test_external_ids_for_update_records(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    fake_zoho.add_external("Contacts", "External_Contact_ID", "ext1", "5001")
    header = {"X-EXTERNAL": "Contacts.External_Contact_ID"}
    body = {"data": [{"External_Contact_ID": "ext1", "Phone": "1"}, {"id": "5002", "Phone": "2"}]}
    answer = await call(http, fake_zoho, "PUT", "/crm/v8/Contacts", body, headers=header)
    assert answer.status == 207
    first, second = answer.body["data"]
    assert first["details"]["id"] == "5001"
    assert first["details"]["External_Contact_ID"] == "ext1"
    assert second == mandatory("External_Contact_ID", 1)
    assert fake_zoho.record("Contacts", "5001") == {"Phone": "1"}


# --- routing ---------------------------------------------------------------------------


async def test_url_patterns_methods_and_modules(http: aiohttp.ClientSession) -> None:
    not_found = {
        "code": "INVALID_URL_PATTERN",
        "details": {},
        "message": "Please check if the URL trying to access is a correct one",
        "status": "error",
    }
    async with FakeZoho(modules=["Campaigns", "Leads"]) as fake:
        for path in ("/crm/x8/Leads", "/crm/v8", "/crm/v8/Leads/1/Campaigns/2/3", "/elsewhere"):
            answer = await call(http, fake, "PUT", path, {"data": items(1)})
            assert (answer.status, answer.body) == (404, not_found), path
        answer = await call(http, fake, "POST", REL, {"data": items(1)})
        assert (answer.status, answer.body["code"]) == (400, "INVALID_REQUEST_METHOD")
        answer = await call(http, fake, "DELETE", "/crm/v8/Leads")
        assert (answer.status, answer.body["code"]) == (400, "INVALID_REQUEST_METHOD")
        answer = await call(http, fake, "PUT", "/crm/v8/Deals/1/Contacts", {"data": items(1)})
        assert (answer.status, answer.body["code"]) == (400, "INVALID_MODULE")
    async with FakeZoho() as fake:
        answer = await call(http, fake, "PUT", "/crm/v8/Any_Module1/1/Leads", {"data": items(1)})
        assert answer.status == 200
        answer = await call(http, fake, "PUT", "/crm/v8/9bad/1/Leads", {"data": items(1)})
        assert (answer.status, answer.body["code"]) == (400, "INVALID_MODULE")


# --- concurrency, credits, auth ----------------------------------------------------------


async def test_concurrency_over_limit_gets_429(http: aiohttp.ClientSession) -> None:
    async with FakeZoho(org_concurrency=10, latency=0.2) as fake:
        answers = await asyncio.gather(
            *(call(http, fake, "PUT", REL, {"data": items(1, 2000 + i)}) for i in range(15))
        )
        statuses = sorted(a.status for a in answers)
        assert statuses == [200] * 10 + [429] * 5
        rejected = [a.body for a in answers if a.status == 429]
        assert all(b == {**BUSY, "message": "concurrency limit exceeded"} for b in rejected)
        assert fake.stats.max_in_flight == 15
        assert fake.stats.rejected_429 == 5
        assert fake.stats.by_status == {200: 10, 429: 5}
        assert fake.stats.in_flight == 0
        assert len(fake.relations("Campaigns", "1001", "Leads")) == 10


async def test_client_within_limit_never_sees_429(http: aiohttp.ClientSession) -> None:
    # In-flight drops before the answer leaves, so a client semaphore of N is enough.
    async with FakeZoho(org_concurrency=5, latency=0.005) as fake:
        gate = asyncio.Semaphore(5)

        async def one(i: int) -> int:
            async with gate:
                return (await call(http, fake, "PUT", REL, {"data": items(1, 3000 + i)})).status

        assert set(await asyncio.gather(*(one(i) for i in range(60)))) == {200}
        assert fake.stats.max_in_flight == 5


async def test_credits(http: aiohttp.ClientSession) -> None:
    async with FakeZoho(credits=2) as fake:
        answer = await call(http, fake, "PUT", REL, {"data": items(1)}, token="dead")
        assert (answer.status, answer.headers["X-API-CREDITS-REMAINING"]) == (401, "2")
        remaining = []
        for _ in range(2):
            answer = await call(http, fake, "PUT", REL, {"data": items(1)})
            assert answer.status == 200
            remaining.append(answer.headers["X-API-CREDITS-REMAINING"])
        assert remaining == ["1", "0"]
        answer = await call(http, fake, "PUT", REL, {"data": items(1, 4000)})
        assert answer.status == 429
        assert answer.body == {
            **BUSY,
            "message": "You have exceeded the API credits limit for the day",
        }
        assert answer.headers["X-API-CREDITS-REMAINING"] == "0"
        assert "4000" not in fake.relations("Campaigns", "1001", "Leads")
        assert fake.stats.rejected_429 == 0
        fake.credits = 1
        assert (await call(http, fake, "PUT", REL, {"data": items(1)})).status == 200


async def test_auth_rejects_missing_and_unknown_tokens(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    invalid = {
        "code": "INVALID_TOKEN",
        "details": {},
        "message": "invalid oauth token",
        "status": "error",
    }
    answer = await call(http, fake_zoho, "PUT", REL, {"data": items(1)}, token="nope")
    assert (answer.status, answer.body) == (401, invalid)
    async with http.put(fake_zoho.url + REL, json={"data": items(1)}) as resp:
        assert resp.status == 401
    bearer = {"Authorization": f"Bearer {fake_zoho.access_token}"}
    async with http.put(fake_zoho.url + REL, json={"data": items(1)}, headers=bearer) as resp:
        assert resp.status == 401
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {}
    assert [r.token_ok for r in fake_zoho.requests] == [False, False, False]
    assert "X-API-CREDITS-REMAINING" not in answer.headers


async def test_token_dies_after_requests_and_refresh_mints_new(http: aiohttp.ClientSession) -> None:
    async with FakeZoho(token_ttl_requests=2, token_ttl_seconds=120) as fake:
        first = fake.access_token
        for _ in range(2):
            assert (await call(http, fake, "GET", REL)).status == 204
        assert (await call(http, fake, "GET", REL)).status == 401
        answer = await refresh(http, fake)
        assert answer == {
            "access_token": answer["access_token"],
            "expires_in": 120,
            "api_domain": fake.url,
            "token_type": "Bearer",
        }
        assert answer["access_token"] != first
        assert fake.access_token == answer["access_token"]
        assert (await call(http, fake, "GET", REL)).status == 204
        assert (await call(http, fake, "GET", REL, token=first)).status == 401
        assert fake.stats.refreshes == 1
        assert fake.stats.refresh_requests == 1
        assert fake.stats.requests == 5  # the token endpoint is not an API call


async def test_token_dies_after_seconds_and_old_tokens_survive_refresh(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeZoho(token_ttl_seconds=0.3) as fake:
        first = fake.access_token
        second = (await refresh(http, fake))["access_token"]
        assert (await call(http, fake, "GET", REL, token=first)).status == 204
        assert (await call(http, fake, "GET", REL, token=second)).status == 204
        await asyncio.sleep(0.35)
        assert (await call(http, fake, "GET", REL, token=second)).status == 401


async def test_at_most_15_tokens_alive(fake_zoho: FakeZoho, http: aiohttp.ClientSession) -> None:
    first = fake_zoho.access_token
    minted = [(await refresh(http, fake_zoho))["access_token"] for _ in range(15)]
    assert (await call(http, fake_zoho, "GET", REL, token=first)).status == 401
    assert (await call(http, fake_zoho, "GET", REL, token=minted[0])).status == 204
    fake_zoho.expire_tokens()
    assert (await call(http, fake_zoho, "GET", REL)).status == 401


async def test_refresh_errors_and_limit(http: aiohttp.ClientSession) -> None:
    async with FakeZoho(refresh_limit=2, client_id="cid", refresh_token="rt") as fake:
        assert await refresh(http, fake, client_id="other") == {"error": "invalid_client"}
        assert await refresh(http, fake, client_secret="other") == {"error": "invalid_client"}
        assert await refresh(http, fake, grant_type="authorization_code") == {
            "error": "invalid_client"
        }
        assert await refresh(http, fake, refresh_token="other") == {"error": "invalid_code"}
        assert "access_token" in await refresh(http, fake)
        # Parameters in the query string are accepted too, as Zoho does.
        params = {
            "grant_type": "refresh_token",
            "client_id": "cid",
            "client_secret": fake.client_secret,
            "refresh_token": "rt",
        }
        async with http.post(f"{fake.url}/oauth/v2/token", params=params) as resp:
            assert "access_token" in await resp.json()
        denied = await refresh(http, fake)
        assert denied["error"] == "Access Denied"
        assert "access_token" not in denied
        assert (fake.stats.refreshes, fake.stats.refresh_requests) == (2, 7)
        assert fake.stats.requests == 0


# --- faults ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("500", 500, "INTERNAL_ERROR"),
        ("429", 429, "TOO_MANY_REQUESTS"),
        ("credits", 429, "TOO_MANY_REQUESTS"),
        ("401", 401, "INVALID_TOKEN"),
    ],
)
async def test_injected_errors_apply_nothing(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession, kind: str, status: int, code: str
) -> None:
    fake_zoho.inject(kind)
    answer = await call(http, fake_zoho, "PUT", REL, {"data": items(1)})
    assert answer.status == status
    assert answer.body["code"] == code
    assert set(answer.body) == {"code", "details", "message", "status"}
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {}
    if kind == "credits":
        assert answer.headers["X-API-CREDITS-REMAINING"] == "0"
        assert "credits" in answer.body["message"]
    if kind == "429":
        assert answer.body["message"] == "concurrency limit exceeded"
        assert fake_zoho.stats.rejected_429 == 1
    assert fake_zoho.requests[0].fault == kind
    # Consumed: the next call goes through.
    assert (await call(http, fake_zoho, "PUT", REL, {"data": items(1)})).status == 200


async def test_not_json_is_an_html_502(fake_zoho: FakeZoho, http: aiohttp.ClientSession) -> None:
    fake_zoho.inject("not_json")
    async with http.put(
        fake_zoho.url + REL, json={"data": items(1)}, headers=auth(fake_zoho)
    ) as resp:
        assert resp.status == 502
        assert resp.content_type == "text/html"
        assert await resp.text() == "<html>Bad Gateway</html>"
        with pytest.raises(aiohttp.ContentTypeError):
            await resp.json()
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {}


async def test_truncated_json_is_applied_and_cut(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    full = await call(http, fake_zoho, "PUT", REL, {"data": items(3)})
    fake_zoho.inject("truncated_json")
    cut = await call(http, fake_zoho, "PUT", REL, {"data": items(3)})
    assert cut.status == 200
    assert cut.headers["Content-Type"].startswith("application/json")
    assert cut.raw == full.raw[: len(full.raw) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.raw)
    assert len(fake_zoho.relations("Campaigns", "1001", "Leads")) == 3
    assert fake_zoho.requests[1].status == 200


async def test_reset_before_drops_connection_and_applies_nothing(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    # aiohttp replays an idempotent request once after a disconnect: inject twice.
    fake_zoho.inject("reset_before", times=2)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, fake_zoho, "PUT", REL, {"data": items(1)})
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {}
    assert fake_zoho.stats.dropped == 2
    assert [r.status for r in fake_zoho.requests] == [None, None]
    assert (await call(http, fake_zoho, "PUT", REL, {"data": items(1)})).status == 200


async def test_reset_after_applies_then_drops(
    fake_zoho: FakeZoho, http: aiohttp.ClientSession
) -> None:
    fake_zoho.inject("reset_after", times=2)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, fake_zoho, "DELETE", REL, params={"ids": "1"})
    fake_zoho.inject("reset_after", times=2)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, fake_zoho, "PUT", REL, {"data": [{"id": "2001", "S": "lost"}]})
    assert fake_zoho.relations("Campaigns", "1001", "Leads") == {"2001": {"S": "lost"}}
    assert fake_zoho.stats.dropped == 4
    assert fake_zoho.stats.by_status == {}


async def test_slow_applies_then_answers_late(http: aiohttp.ClientSession) -> None:
    async with FakeZoho(faults=Faults(slow_seconds=30.0)) as fake:
        fake.inject("slow")
        with pytest.raises(asyncio.TimeoutError):
            await call(http, fake, "PUT", REL, {"data": items(1)}, timeout=0.2)
        assert set(fake.relations("Campaigns", "1001", "Leads")) == {"2000"}
        assert fake.stats.in_flight == 1  # still held; close() releases it at once
    assert fake.stats.in_flight == 0


async def test_slow_answer_arrives_after_slow_seconds(http: aiohttp.ClientSession) -> None:
    async with FakeZoho(faults=Faults(slow_seconds=0.2)) as fake:
        fake.inject("slow")
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert (await call(http, fake, "PUT", REL, {"data": items(1)})).status == 200
        assert loop.time() - started >= 0.2


async def test_random_faults_follow_probabilities_and_seed(http: aiohttp.ClientSession) -> None:
    async def statuses(seed: int) -> list[int]:
        faults = Faults(error_5xx=0.3, extra_429=0.3)
        async with FakeZoho(faults=faults, seed=seed) as fake:
            got = [(await call(http, fake, "GET", REL)).status for _ in range(40)]
            fake.faults = Faults()
            assert (await call(http, fake, "GET", REL)).status == 204
            return got

    first = await statuses(7)
    assert first == await statuses(7)
    assert {500, 429, 204} <= set(first)
    async with FakeZoho(faults=Faults(error_5xx=1.0)) as fake:
        fake.inject("401")  # injected faults come first
        assert (await call(http, fake, "GET", REL)).status == 401
        assert (await call(http, fake, "GET", REL)).status == 500


@pytest.mark.parametrize(
    ("field", "kind", "outcome"),
    [
        ("error_5xx", "500", 500),
        ("extra_429", "429", 429),
        ("not_json", "not_json", 502),
        ("truncated_json", "truncated_json", 200),
        ("slow", "slow", 200),
        ("reset_before", "reset_before", "dropped"),
        ("reset_after", "reset_after", "dropped"),
    ],
)
async def test_each_random_fault_field_hits_its_kind(
    http: aiohttp.ClientSession, field: str, kind: str, outcome: int | str
) -> None:
    faults = Faults(**{field: 1.0}, slow_seconds=0.01)
    async with FakeZoho(faults=faults) as fake:
        try:
            got: int | str = (await call(http, fake, "PUT", REL, {"data": items(1)})).status
        except aiohttp.ServerDisconnectedError:
            got = "dropped"
        assert got == outcome
        assert {r.fault for r in fake.requests} == {kind}
        applied = kind in {"reset_after", "truncated_json", "slow"}
        assert bool(fake.relations("Campaigns", "1001", "Leads")) is applied


def test_faults_and_inject_are_validated() -> None:
    with pytest.raises(ValueError, match="probability"):
        Faults(error_5xx=1.5)
    with pytest.raises(ValueError, match="sum"):
        Faults(error_5xx=0.6, slow=0.6)
    with pytest.raises(ValueError, match="org_concurrency"):
        FakeZoho(org_concurrency=0)
    with pytest.raises(ValueError, match="unknown fault kind"):
        FakeZoho().inject("boom")


# --- stats, log, lifecycle ---------------------------------------------------------------


async def test_stats_log_and_reset(http: aiohttp.ClientSession) -> None:
    async with FakeZoho(log_requests=False) as fake:
        await call(http, fake, "PUT", REL, {"data": items(3)})
        await call(http, fake, "DELETE", REL, params={"ids": "2000,2001"})
        assert fake.requests == []
        stats = fake.stats
        assert (stats.requests, stats.puts, stats.deletes, stats.items) == (2, 1, 1, 5)
        assert stats.by_status == {200: 2}
        fake.reset_stats()
        assert stats is fake.stats
        assert (stats.requests, stats.items, stats.by_status, stats.max_in_flight) == (0, 0, {}, 0)
    fake2 = FakeZoho()
    await fake2.start()
    try:
        await call(http, fake2, "PUT", REL, {"data": items(1)}, params={"a": "b"})
        (record,) = fake2.requests
        assert (record.method, record.path, record.query) == ("PUT", REL, {"a": "b"})
        assert (record.status, record.token_ok, record.external) == (200, True, None)
        assert record.body == {"data": items(1)}
    finally:
        await fake2.close()
        await fake2.close()  # idempotent


async def test_standalone_cli_prints_port_and_stops_on_sigterm(http: aiohttp.ClientSession) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    args = ["--port", "0", "--latency", "0", "--org-concurrency", "3", "--access-token", "T0"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "zcrm_related_async.testing",
        *args,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.removeprefix("listening on ")
        assert not url.endswith(":0")
        headers = {"Authorization": "Zoho-oauthtoken T0"}
        async with http.put(url + REL, json={"data": items(1)}, headers=headers) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
