"""Shared fixtures: the fake Zoho server (the package's own pytest plugin) and clients on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from zcrm_related_async import AsyncClient
from zcrm_related_async.testing import FakeZoho

pytest_plugins = ["zcrm_related_async.testing.pytest_plugin"]

ClientFactory = Callable[..., AsyncClient]


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
