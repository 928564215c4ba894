"""get_related against the fake Zoho: pages, fields, retries, failures, and the fake's shape."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ClientFactory
from tests.integration.test_sync_client import ThreadedFake
from zcrm_related_async import Client, InvalidOperationError, RelatedReadError
from zcrm_related_async.testing import FakeZoho

FAST = {"backoff_base": 0.01, "backoff_cap": 0.05}
OAS = Path(__file__).resolve().parents[3] / "shared" / "zoho-oas"
OAS = OAS if OAS.is_dir() else Path("/work/shared/zoho-oas")


def gets(fake: FakeZoho) -> int:
    stats = fake.stats
    return stats.requests - stats.puts - stats.deletes


def seed(fake: FakeZoho, n: int, parent: str = "1001") -> None:
    for i in range(n):
        fake.add_relation("Campaigns", parent, "Leads", str(5000 + i), {"Member_Status": f"s{i}"})


async def test_reads_every_page_of_200(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    seed(fake_zoho, 450)
    zoho = make_client()
    got = [
        r async for r in zoho.get_related("Campaigns", "1001", "Leads", fields=["Member_Status"])
    ]
    assert got == [{"id": str(5000 + i), "Member_Status": f"s{i}"} for i in range(450)]
    assert gets(fake_zoho) == 3
    queries = [r.query for r in fake_zoho.requests]
    assert [q["page"] for q in queries] == ["1", "2", "3"]
    assert {q["per_page"] for q in queries} == {"200"}
    assert {q["fields"] for q in queries} == {"id,Member_Status"}
    assert zoho.calls == 3


async def test_an_exact_page_and_an_empty_list(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client()
    assert [r async for r in zoho.get_related("Campaigns", "1001", "Leads")] == []
    assert fake_zoho.requests[-1].status == 204
    seed(fake_zoho, 200)
    got = [r async for r in zoho.get_related("Campaigns", "1001", "Leads")]
    # Only the ids asked for by default: the fake honours fields as Zoho does.
    assert got == [{"id": str(5000 + i)} for i in range(200)]
    assert gets(fake_zoho) == 2  # the empty read, then one page (more_records false)


async def test_a_page_is_retried_and_the_token_refreshed(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    seed(fake_zoho, 250)
    fake_zoho.inject("500")
    fake_zoho.inject("429")
    fake_zoho.inject("truncated_json")
    zoho = make_client(max_tries=4, **FAST)
    got = [r["id"] async for r in zoho.get_related("Campaigns", "1001", "Leads")]
    assert got == [str(5000 + i) for i in range(250)]
    assert zoho.stats().retries == 3


async def test_a_page_that_keeps_failing_raises(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    seed(fake_zoho, 250)
    zoho = make_client(max_tries=2, **FAST)
    seen: list[str] = []

    async def read() -> None:
        async for record in zoho.get_related("Campaigns", "1001", "Leads"):
            if not seen:
                fake_zoho.inject("500", times=2)  # page 2 fails twice: its tries run out
            seen.append(record["id"])

    with pytest.raises(RelatedReadError) as caught:
        await read()
    error = caught.value
    assert len(seen) == 200
    assert (error.page, error.code, error.http_status, error.attempts) == (
        2,
        "INTERNAL_ERROR",
        500,
        2,
    )
    assert "Campaigns/1001/Leads page 2" in str(error)
    assert fake_zoho.access_token not in str(error)


async def test_zoho_refusal_raises_at_once(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    fake_zoho.missing_ids = {"1001"}
    zoho = make_client(max_tries=3, **FAST)
    with pytest.raises(RelatedReadError, match="INVALID_DATA") as caught:
        [r async for r in zoho.get_related("Campaigns", "1001", "Leads")]
    assert (caught.value.attempts, caught.value.http_status) == (1, 400)
    with pytest.raises(InvalidOperationError, match="external"):
        zoho.get_related("Campaigns", "1001", "Leads", external="Bad")


async def test_bad_arguments_raise_before_any_request(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client()
    with pytest.raises(InvalidOperationError, match="fields"):
        zoho.get_related("Campaigns", "1001", "Leads", fields="Member_Status")
    with pytest.raises(InvalidOperationError, match="fields"):
        zoho.get_related("Campaigns", "1001", "Leads", fields=["a,b"])
    with pytest.raises(InvalidOperationError, match="module"):
        zoho.get_related("Camp aigns", "1001", "Leads")
    with pytest.raises(InvalidOperationError, match="record_id"):
        zoho.get_related("Campaigns", "x/y", "Leads")
    assert fake_zoho.stats.requests == 0


@pytest.fixture
def threaded_fake() -> Iterator[FakeZoho]:
    server = ThreadedFake()
    yield server.fake
    server.close()


def test_blocking_client_returns_a_list(threaded_fake: FakeZoho) -> None:
    fake_zoho = threaded_fake
    seed(fake_zoho, 3)
    with Client(api_domain=fake_zoho.url, access_token=fake_zoho.access_token) as zoho:
        got = zoho.get_related("Campaigns", "1001", "Leads", fields=["Member_Status"])
    assert got == [{"id": str(5000 + i), "Member_Status": f"s{i}"} for i in range(3)]


# --- the fake's answer against Zoho's own spec ------------------------------------------


def _spec() -> tuple[dict[str, Any], dict[str, Any]]:
    related = json.loads((OAS / "related_records.json").read_text())
    record = json.loads((OAS / "record.json").read_text())
    get = related["paths"]["/crm/v8/{module_api_name}/{record_id}/{related_list_api_name}"]["get"]
    params = {p["$ref"].rsplit("/", 1)[1] for p in get["parameters"]}
    assert {"page", "per_page", "fields"} <= params
    wrapper = related["components"]["schemas"]["Response_Wrapper"]
    return wrapper, record["components"]["schemas"]["Info"]


_TYPES = {"integer": int, "boolean": bool, "string": str}


@pytest.mark.parametrize(("n", "page", "more"), [(450, "1", True), (450, "3", False)])
async def test_the_fake_answers_in_zohos_shape(
    fake_zoho: FakeZoho, n: int, page: str, more: bool
) -> None:
    wrapper, info_schema = _spec()
    seed(fake_zoho, n)
    url = f"{fake_zoho.url}/crm/v8/Campaigns/1001/Leads"
    headers = {"Authorization": f"Zoho-oauthtoken {fake_zoho.access_token}"}
    params = {"fields": "Member_Status", "page": page, "per_page": "500"}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers, params=params) as r:
        assert r.status == 200
        body = await r.json()
    assert set(body) <= set(wrapper["properties"])
    assert all(isinstance(item, dict) and isinstance(item["id"], str) for item in body["data"])
    info = body["info"]
    assert {"per_page", "count", "page", "more_records"} <= set(info)
    for key, value in info.items():
        assert isinstance(value, _TYPES[info_schema["properties"][key]["type"]]), key
    assert info["per_page"] == 200  # Zoho's cap, whatever was asked
    assert info["more_records"] is more
    assert info["count"] == len(body["data"]) == (200 if more else 50)
    assert info["page"] == int(page)
    assert set(body["data"][0]) == {"id", "Member_Status"}


async def test_follows_next_page_token_past_2000(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    seed(fake_zoho, 2_450)
    zoho = make_client()
    got = [r["id"] async for r in zoho.get_related("Campaigns", "1001", "Leads")]
    assert got == [str(5000 + i) for i in range(2_450)]
    queries = [r.query for r in fake_zoho.requests]
    assert len(queries) == 13
    assert [q.get("page") for q in queries[:10]] == [str(p) for p in range(1, 11)]
    # From the 2,000th record on the fake gives tokens, and the client sends them back.
    assert [q.get("page_token") for q in queries[10:]] == [
        "fake-page-2000",
        "fake-page-2200",
        "fake-page-2400",
    ]
    assert all("page" not in q for q in queries[10:])


async def test_many_parents_at_once_share_the_limit(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    for parent in ("1", "2", "3", "4"):
        seed(fake_zoho, 450, parent)
    zoho = make_client(max_concurrency=2)

    async def read(parent: str) -> int:
        return len([r async for r in zoho.get_related("Campaigns", parent, "Leads")])

    assert await asyncio.gather(*map(read, "1234")) == [450] * 4
    assert gets(fake_zoho) == 12
    assert fake_zoho.stats.max_in_flight <= 2


async def test_spent_credits_stop_the_read_at_once(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    seed(fake_zoho, 10)
    fake_zoho.inject("credits")
    zoho = make_client(max_tries=5, **FAST)
    with pytest.raises(RelatedReadError, match="API_CREDITS_EXHAUSTED") as caught:
        [r async for r in zoho.get_related("Campaigns", "1001", "Leads")]
    assert (caught.value.attempts, caught.value.http_status) == (1, 429)


async def test_reads_ride_out_an_outage_at_the_clients_gate(make_client: ClientFactory) -> None:
    async with FakeZoho(latency=0.005) as fake:
        for parent in ("1", "2", "3", "4"):
            seed(fake, 450, parent)
        outage = fake.outage("500", 1.5, after_requests=4)
        # max_tries=2: without the gate, a read in the middle of a 1.5 s outage would fail
        zoho = make_client(fake, max_tries=2)

        async def read(parent: str) -> int:
            return len([r async for r in zoho.get_related("Campaigns", parent, "Leads")])

        assert await asyncio.gather(*map(read, "1234")) == [450] * 4
        assert outage.began is not None
        assert zoho._sender.outage is not None
        assert zoho._sender.outage.state.outages == 1
        assert zoho.stats().outage_wait_seconds > 0
