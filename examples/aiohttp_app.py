"""An aiohttp web app whose handlers share one client, made at start-up and closed at shutdown.

    python examples/aiohttp_app.py            # serves, sends itself a few requests, stops
    python examples/aiohttp_app.py --serve    # serves on http://127.0.0.1:8080 until Ctrl-C

    curl -X POST localhost:8080/campaigns/3652397000000000001/members \\
         -d '{"lead_ids": ["4876876000000000001"], "status": "Active"}'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from _local_zoho import zoho_settings
from aiohttp import web

from zcrm_related_async import AsyncClient, InvalidOperationError

ZOHO = web.AppKey("zoho", AsyncClient)


async def zoho_client(app: web.Application) -> AsyncIterator[None]:
    """Start-up: one client for every request. Shutdown: close it."""
    async with contextlib.AsyncExitStack() as stack:
        settings = await stack.enter_async_context(zoho_settings())
        app[ZOHO] = await stack.enter_async_context(AsyncClient(**settings))
        yield


async def add_members(request: web.Request) -> web.Response:
    """``POST /campaigns/{campaign_id}/members`` with ``{"lead_ids": [...], "status": "..."}``."""
    body = await request.json()
    members = [{"id": i, "Member_Status": body.get("status", "Active")} for i in body["lead_ids"]]
    try:
        report = await request.app[ZOHO].link(
            "Campaigns", request.match_info["campaign_id"], "Leads", members
        )
    except InvalidOperationError as error:  # bad ids: nothing was sent
        return web.json_response({"error": str(error)}, status=400)
    failed = [{"id": r.op.related_id, "code": r.code} for r in report.failures()]  # type: ignore[union-attr]
    return web.json_response({"linked": report.succeeded, "failed": failed})


def make_app() -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(zoho_client)
    app.router.add_post("/campaigns/{campaign_id}/members", add_members)
    return app


async def try_it(base: str) -> None:
    """A few concurrent requests, as browsers or other services would send them."""
    async with aiohttp.ClientSession() as http:

        async def post(campaign: int, leads: range) -> None:
            ids = [str(4876876000000000000 + n) for n in leads]
            url = f"{base}/campaigns/{3652397000000000000 + campaign}/members"
            async with http.post(url, json={"lead_ids": ids}) as response:
                print(response.status, await response.json())

        await asyncio.gather(*(post(c, range(c * 10, c * 10 + 10)) for c in range(4)))
        async with http.post(f"{base}/campaigns/1/members", json={"lead_ids": ["x"]}) as bad:
            print(bad.status, await bad.json())


async def main(serve: bool, port: int) -> None:
    runner = web.AppRunner(make_app())
    await runner.setup()  # runs the start-up half of zoho_client
    site = web.TCPSite(runner, "127.0.0.1", port if serve else 0)
    await site.start()
    try:
        if serve:
            print(f"serving on {site.name}; Ctrl-C to stop")
            await asyncio.Event().wait()
        else:
            host, bound = runner.addresses[0][:2]
            await try_it(f"http://{host}:{bound}")
    finally:
        await runner.cleanup()  # shutdown: the client is closed here


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.serve, args.port))
