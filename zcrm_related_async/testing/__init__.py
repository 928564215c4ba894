"""An in-process fake Zoho CRM server, for tests, demos and benchmarks.

:class:`FakeZoho` serves Zoho CRM's related-records and update-records APIs (every
version from ``v2`` to ``v8``), the metadata reads other clients make first
(``settings/related_lists``, ``settings/fields``: Zoho's official SDK links against it too)
and the OAuth refresh endpoint over real HTTP, on ``aiohttp.web``, with real in-memory
state. Its answers have Zoho's shapes and statuses, and it reproduces Zoho's limits
(concurrency, API credits, 100 items a call, token expiry, refresh throttling) plus faults
on demand, so a client can be tested end to end::

    import aiohttp
    from zcrm_related_async.testing import FakeZoho, Faults

    async def test_link() -> None:
        async with FakeZoho(org_concurrency=10, latency=0.01) as fake:
            fake.missing_ids.add("666")
            fake.inject("429")  # the next API call is rejected, whatever happens
            async with aiohttp.ClientSession() as http:
                url = f"{fake.url}/crm/v8/Campaigns/1001/Leads"
                headers = {"Authorization": f"Zoho-oauthtoken {fake.access_token}"}
                body = {"data": [{"id": "2001", "Member_Status": "Sent"}, {"id": "666"}]}
                async with http.put(url, json=body, headers=headers) as resp:
                    assert resp.status == 429
                async with http.put(url, json=body, headers=headers) as resp:
                    assert resp.status == 207  # one success, one INVALID_DATA
            assert fake.relations("Campaigns", "1001", "Leads") == {
                "2001": {"Member_Status": "Sent"}
            }
            assert fake.stats.rejected_429 == 1

Pytest users get a ready ``fake_zoho`` fixture with
``pytest_plugins = ["zcrm_related_async.testing.pytest_plugin"]``; a standalone server runs
with ``python -m zcrm_related_async.testing --port 8000``.
"""

from ._fake import FakeZoho
from ._models import FakeStats, Faults, RequestRecord
from ._outage import Outage

__all__ = ["FakeStats", "FakeZoho", "Faults", "Outage", "RequestRecord"]
