"""What the command's process wraps a job in: signal handlers, and an HTTP session that counts
the API calls the job makes (each spends one of the org's API credits)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

import aiohttp

from .._version import __version__


def counting_session(concurrency: int, count: Callable[[], None]) -> aiohttp.ClientSession:
    """A session for the client that calls ``count()`` as each API request starts (token
    refreshes go to the accounts server and are not counted)."""

    async def on_request_start(
        session: aiohttp.ClientSession, context: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        if "/crm/" in params.url.path:
            count()

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max(100, 2 * concurrency)),
        headers={"User-Agent": f"zcrm-related-async/{__version__} (cli)"},
        trace_configs=[trace],
    )


@contextlib.contextmanager
def signals_call(loop: asyncio.AbstractEventLoop, handler: Callable[[], None]) -> Iterator[None]:
    """SIGINT and SIGTERM call ``handler`` on the loop while the job runs (where the loop can
    take them: in the main thread, not on Windows)."""
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
