"""A FastAPI app whose handlers share one client, made at start-up and closed at shutdown.

    python examples/fastapi_app.py                   # starts it, sends it a few requests, stops
    uvicorn --app-dir examples fastapi_app:app       # serves it on :8000 (the examples extra)

    curl -X POST localhost:8000/campaigns/3652397000000000001/members \\
         -H 'content-type: application/json' -d '{"lead_ids": ["4876876000000000001"]}'
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from _local_zoho import zoho_settings
from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel

from zcrm_related_async import AsyncClient, InvalidOperationError


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start-up: one client for every request. Shutdown: close it."""
    async with zoho_settings() as settings, AsyncClient(**settings) as zoho:
        app.state.zoho = zoho
        yield


app = FastAPI(lifespan=lifespan)


def zoho_client(request: Request) -> AsyncClient:
    zoho: AsyncClient = request.app.state.zoho
    return zoho


Zoho = Annotated[AsyncClient, Depends(zoho_client)]


class Members(BaseModel):
    lead_ids: list[str]
    status: str = "Active"


@app.post("/campaigns/{campaign_id}/members")
async def add_members(campaign_id: str, members: Members, zoho: Zoho) -> dict[str, Any]:
    """Link leads to a campaign with a member status."""
    related = [{"id": lead, "Member_Status": members.status} for lead in members.lead_ids]
    try:
        report = await zoho.link("Campaigns", campaign_id, "Leads", related)
    except InvalidOperationError as error:  # bad ids: nothing was sent
        raise HTTPException(status_code=400, detail=str(error)) from None
    failed = [{"id": r.op.related_id, "code": r.code} for r in report.failures()]  # type: ignore[union-attr]
    return {"linked": report.succeeded, "failed": failed}


async def main() -> None:
    """Start the app as a server would (its lifespan), send it a few requests, stop it."""
    async with app.router.lifespan_context(app):  # start-up now, shutdown on leaving
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:

            async def post(campaign: int) -> None:
                leads = range(campaign * 10, campaign * 10 + 10)
                ids = [str(4876876000000000000 + n) for n in leads]
                url = f"/campaigns/{3652397000000000000 + campaign}/members"
                response = await http.post(url, json={"lead_ids": ids})
                print(response.status_code, response.json())

            await asyncio.gather(*(post(c) for c in range(4)))  # concurrent requests
            bad = await http.post("/campaigns/1/members", json={"lead_ids": ["x"]})
            print(bad.status_code, bad.json())


if __name__ == "__main__":
    asyncio.run(main())
