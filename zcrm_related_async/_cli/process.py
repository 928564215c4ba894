"""What the command's process wraps a job in: signal handlers (a graceful stop), and an HTTP
session that counts the API calls the job makes (each spends one of the org's API credits)."""

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


class GracefulStop:
    """SIGTERM (what a deploy sends) and the first SIGINT call ``stop()``: read no more input
    and let the calls in flight finish; ``grace`` seconds later, or at a second signal,
    ``abort()`` stops everything at once.

    The exit code is then ``128 + the first signal``: 130 for SIGINT, 143 for SIGTERM.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        grace: float,
        stop: Callable[[], None],
        abort: Callable[[], None],
    ) -> None:
        self._loop = loop
        self._grace = grace
        self._stop = stop
        self._abort = abort
        self._timer: asyncio.TimerHandle | None = None
        #: the first signal received, if any
        self.signal: int | None = None

    def __call__(self, sig: int) -> None:
        if self.signal is not None:
            self.abort()
            return
        self.signal = sig
        self._stop()
        self._timer = self._loop.call_later(self._grace, self.abort)

    def abort(self) -> None:
        self.cancel_timer()
        self._abort()

    def cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def exit_code(self) -> int:
        return 128 + (self.signal or signal.SIGINT)


@contextlib.contextmanager
def signals_call(loop: asyncio.AbstractEventLoop, handler: Callable[[int], None]) -> Iterator[None]:
    """SIGINT and SIGTERM call ``handler(signal number)`` on the loop while the job runs
    (where the loop can take them: in the main thread, not on Windows)."""
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
