"""Shared fixtures: the fake Zoho server (the package's own pytest plugin) and clients on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from zcrm_related_async import AsyncClient, Link
from zcrm_related_async.testing import FakeZoho

# the fake Zoho server (fake_zoho) and a real redis-server (redis_server)
pytest_plugins = ["zcrm_related_async.testing.pytest_plugin", "tests.redis_server"]

ClientFactory = Callable[..., AsyncClient]


def campaign_links(parents: int, per_parent: int) -> list[Link]:
    """Leads 1000, 1001, ... linked to campaigns 1, 2, ... parent by parent."""
    return [
        Link("Campaigns", str(p + 1), "Leads", str(1000 + m))
        for p in range(parents)
        for m in range(per_parent)
    ]


def client_tasks() -> list[asyncio.Task[Any]]:
    """Tasks running the client's code (the fake server's handlers run in this loop too)."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        module = code.co_filename if code is not None else ""
        if "zcrm_related_async" in module and "testing" not in module:
            found.append(task)
    return [t for t in found if t is not asyncio.current_task()]


@pytest_asyncio.fixture
async def make_client(fake_zoho: FakeZoho) -> AsyncIterator[ClientFactory]:
    """Build clients on ``fake_zoho`` (or another fake passed as ``fake=``); all closed after."""
    made: list[AsyncClient] = []

    def make(fake: FakeZoho | None = None, **options: Any) -> AsyncClient:
        server = fake or fake_zoho
        options.setdefault("api_domain", server.url)
        if "auth" not in options:
            options.setdefault("access_token", server.access_token)
        options.setdefault("accounts_url", server.accounts_url)
        client = AsyncClient(**options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
