"""Pytest plugin: a ``fake_zoho`` fixture.

Enable it in a ``conftest.py``::

    pytest_plugins = ["zcrm_related_async.testing.pytest_plugin"]

It needs pytest-asyncio (the package's ``test`` extra) and works in its auto mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from ._fake import FakeZoho


@pytest_asyncio.fixture
async def fake_zoho() -> AsyncIterator[FakeZoho]:
    """A started :class:`FakeZoho` with default settings, closed after the test."""
    async with FakeZoho() as fake:
        yield fake
