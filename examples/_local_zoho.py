"""Where the examples send their calls.

With ``ZOHO_API_DOMAIN`` set (say ``https://www.zohoapis.eu``) they talk to Zoho CRM, with
``ZOHO_ACCESS_TOKEN``, or ``ZOHO_CLIENT_ID`` + ``ZOHO_CLIENT_SECRET`` + ``ZOHO_REFRESH_TOKEN``
(+ ``ZOHO_ACCOUNTS_URL``). Without it they start the fake Zoho CRM of
``zcrm_related_async.testing`` right here, so every example runs as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from zcrm_related_async import RefreshTokenAuth
from zcrm_related_async.testing import FakeZoho

Settings = dict[str, Any]


def settings_from_environment() -> Settings | None:
    """Client arguments for the real Zoho CRM, or None when ``ZOHO_API_DOMAIN`` is unset."""
    domain = os.environ.get("ZOHO_API_DOMAIN")
    if not domain:
        return None
    if os.environ.get("ZOHO_ACCESS_TOKEN"):
        return {"api_domain": domain, "access_token": os.environ["ZOHO_ACCESS_TOKEN"]}
    auth = RefreshTokenAuth(
        os.environ["ZOHO_CLIENT_ID"],
        os.environ["ZOHO_CLIENT_SECRET"],
        os.environ["ZOHO_REFRESH_TOKEN"],
        accounts_url=os.environ.get("ZOHO_ACCOUNTS_URL"),
    )
    return {"api_domain": domain, "auth": auth}


@contextlib.asynccontextmanager
async def zoho_settings() -> AsyncIterator[Settings]:
    """Client arguments, for asyncio code: a fake Zoho on this loop unless the environment
    names a real one."""
    found = settings_from_environment()
    if found is not None:
        yield found
        return
    async with FakeZoho(latency=0.02) as fake:
        fake.missing_ids.add("4876876000000000013")  # so the examples show a failure too
        print(f"(ZOHO_API_DOMAIN is not set: using a fake Zoho CRM at {fake.url})")
        yield {"api_domain": fake.url, "access_token": fake.access_token}


@contextlib.contextmanager
def zoho_settings_blocking() -> Iterator[Settings]:
    """Client arguments, for blocking code: the fake Zoho, if needed, runs in a thread."""
    found = settings_from_environment()
    if found is not None:
        yield found
        return
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    serving = zoho_settings()
    try:
        yield asyncio.run_coroutine_threadsafe(serving.__aenter__(), loop).result()
    finally:
        asyncio.run_coroutine_threadsafe(serving.__aexit__(None, None, None), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
