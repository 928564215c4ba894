"""The blocking client: the asyncio client on an event loop of its own, in a thread of its own.

Every thread that calls one :class:`Client` shares its one loop, so it shares one
:class:`AsyncClient` too: one limiter (the org's concurrency limit holds across threads), one
token refresh (Zoho mints at most 10 tokens per 10 minutes: a refresh per thread would burn
them) and one connection pool. No method ever starts or nests an event loop in the caller's
thread, so the client works the same from a script, from worker threads, and from code that
already runs a loop in its thread (Jupyter).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

import aiohttp

from ._arguments import Related
from ._auth import Auth, TokenSource
from ._client import AsyncClient
from ._config import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    DEFAULT_LINGER,
    DEFAULT_MAX_BUFFERED,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_OUTAGE,
    DEFAULT_MAX_REMOVE,
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_MAX_TRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    MAX_CHUNK_SIZE,
)
from ._exceptions import ClientClosedError, ConfigurationError
from ._limiter import Limiter
from ._report import Report
from ._scheduler import Operations
from ._stats import ClientStats

T = TypeVar("T")

# How long a waiting caller sleeps between checks for Ctrl-C; only Windows needs it (there a
# wait without a timeout cannot be interrupted), elsewhere the wait is woken at once.
_INTERRUPT_POLL = 0.25


class Client:
    """The blocking twin of :class:`AsyncClient`: same arguments, same methods, same report.

    ``with Client(...) as zoho: report = zoho.link(...)``. It runs one :class:`AsyncClient` on
    an event loop in a background thread it owns; each method hands its job to that loop and
    waits for the report. Call it from as many threads as you like: they share the client's
    concurrency limit, token refresh and connections. Ctrl-C while a method waits cancels
    that job (calls in flight are abandoned, nothing more is sent) and raises
    ``KeyboardInterrupt`` once it has stopped.

    ``session`` must stay ``None``: an ``aiohttp.ClientSession`` belongs to the loop it was
    made on, and this client's loop is its own. A generator (or async generator) passed to
    :meth:`run`, and a callable passed as ``auth``, run in the client's thread: they must not
    call this client themselves (that raises ``RuntimeError`` rather than deadlock), and a slow
    one slows every caller. :meth:`close` (or leaving the ``with`` block) cancels jobs still
    running in other threads, closes the HTTP session and ends the thread.
    """

    def __init__(
        self,
        *,
        api_domain: str | None = None,
        data_center: str = "us",
        environment: str = "production",
        version: str = DEFAULT_VERSION,
        access_token: str | None = None,
        auth: Auth | TokenSource | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        session: aiohttp.ClientSession | None = None,
        chunk_size: int = MAX_CHUNK_SIZE,
        timeout: float = DEFAULT_TIMEOUT,
        max_tries: int = DEFAULT_MAX_TRIES,
        max_retry_time: float = DEFAULT_MAX_RETRY_TIME,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        limiter: Limiter | None = None,
        accounts_url: str | None = None,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        adaptive_concurrency: bool = True,
        linger: float = DEFAULT_LINGER,
        max_outage: float = DEFAULT_MAX_OUTAGE,
    ) -> None:
        if session is not None:
            raise ConfigurationError(
                "session: a Client runs its own event loop, where a session made elsewhere "
                "cannot be used; leave it None (use AsyncClient to bring your own session)"
            )
        options: dict[str, Any] = {
            "api_domain": api_domain,
            "data_center": data_center,
            "environment": environment,
            "version": version,
            "access_token": access_token,
            "auth": auth,
            "max_concurrency": max_concurrency,
            "chunk_size": chunk_size,
            "timeout": timeout,
            "max_tries": max_tries,
            "max_retry_time": max_retry_time,
            "backoff_base": backoff_base,
            "backoff_cap": backoff_cap,
            "limiter": limiter,
            "accounts_url": accounts_url,
            "max_buffered": max_buffered,
            "adaptive_concurrency": adaptive_concurrency,
            "linger": linger,
            "max_outage": max_outage,
        }
        self._lock = threading.Lock()  # guards _closed against callers in other threads
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._calls: set[asyncio.Task[Any]] = set()
        self._thread = threading.Thread(target=self._serve, name="zcrm-related-client", daemon=True)
        self._thread.start()
        try:
            # Made inside the loop: whatever it binds to a loop binds to this one.
            self._async = self._wait(_make_client(options))
        except BaseException:
            self._stop_thread()
            raise

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<Client{state} {self._async!r}>" if hasattr(self, "_async") else "<Client>"

    @property
    def api_domain(self) -> str:
        """The API base URL the client talks to."""
        return self._async.api_domain

    @property
    def version(self) -> str:
        """The Zoho CRM API version, such as ``"v8"``."""
        return self._async.version

    @property
    def max_concurrency(self) -> int:
        """Calls in flight at once, for every thread using this client together."""
        return int(self._async.max_concurrency)

    @property
    def calls(self) -> int:
        """HTTP requests sent so far, from every thread (each spends an API credit)."""
        return self._async.calls

    @property
    def credits_remaining(self) -> int | None:
        """The org's API credits left, as Zoho last said (``X-API-CREDITS-REMAINING``)."""
        return self._async.credits_remaining

    def stats(self) -> ClientStats:
        """A snapshot of what the client has done so far: see :meth:`AsyncClient.stats`."""
        return self._async.stats()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """End jobs still running, close the HTTP session, end the client's thread.

        A call still waiting in another thread then raises :class:`ClientClosedError`
        carrying its job's complete report, as :meth:`AsyncClient.close` does; any later use
        raises it too.

        Closing twice is harmless. Raises ``RuntimeError`` when called from the client's own
        thread (from a generator or auth callable it runs), where it could only deadlock.
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError("a Client cannot be closed from its own thread")
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            _Call(self._loop, self._shutdown(), self._calls).wait()
        finally:
            self._stop_thread()

    async def _shutdown(self) -> None:
        running = [task for task in self._calls if task is not asyncio.current_task()]
        # The async client's close() ends its jobs: each raises ClientClosedError carrying its
        # report, which the waiting thread gets (cancelling them would lose the report).
        await self._async.close()
        await asyncio.gather(*running, return_exceptions=True)
        await self._loop.shutdown_asyncgens()

    def _stop_thread(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def run(self, ops: Operations, *, credit_budget: int | None = None) -> Report:
        """Carry out any number of :class:`Link`, :class:`Delink` and :class:`UpdateRecord`
        operations, mixed: see :meth:`AsyncClient.run`. A generator is read as a stream, in
        the client's own thread."""
        return self._wait(self._async.run(ops, credit_budget=credit_budget))

    def link(
        self,
        module: str,
        record_id: str,
        related_list: str,
        related: Related,
        *,
        external: str | None = None,
    ) -> Report:
        """Relate records to one parent record, or update those relations' fields: see
        :meth:`AsyncClient.link`."""
        return self._wait(
            self._async.link(module, record_id, related_list, related, external=external)
        )

    def delink(
        self,
        module: str,
        record_id: str,
        related_list: str,
        related: Related,
        *,
        external: str | None = None,
    ) -> Report:
        """Remove the relations between one parent record and the given related records."""
        return self._wait(
            self._async.delink(module, record_id, related_list, related, external=external)
        )

    def get_related(
        self,
        module: str,
        record_id: str,
        related_list: str,
        *,
        fields: Sequence[str] | None = None,
        external: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every record related to one parent, as a list (all pages read before it returns):
        see :meth:`AsyncClient.get_related`."""

        async def read() -> list[dict[str, Any]]:
            it = self._async.get_related(
                module, record_id, related_list, fields=fields, external=external
            )
            return [record async for record in it]

        return self._wait(read())

    def set_related(
        self,
        module: str,
        record_id: str,
        related_list: str,
        related: Related,
        *,
        remove_others: bool = True,
        external: str | None = None,
        dry_run: bool = False,
        max_remove: float = DEFAULT_MAX_REMOVE,
    ) -> Report:
        """Make one parent's related list exactly ``related``, sending only the difference:
        see :meth:`AsyncClient.set_related`."""
        return self._wait(
            self._async.set_related(
                module,
                record_id,
                related_list,
                related,
                remove_others=remove_others,
                external=external,
                dry_run=dry_run,
                max_remove=max_remove,
            )
        )

    def update_records(
        self,
        module: str,
        records: Iterable[Mapping[str, Any]],
        *,
        trigger: list[str] | None = None,
        apply_layout_rules: bool = False,
        external: str | None = None,
    ) -> Report:
        """Update records of one module: see :meth:`AsyncClient.update_records`."""
        return self._wait(
            self._async.update_records(
                module,
                records,
                trigger=trigger,
                apply_layout_rules=apply_layout_rules,
                external=external,
            )
        )

    def _wait(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the client's loop and block until it is done."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError(
                "a Client method was called from the client's own thread (from a generator or "
                "auth callable it runs); that would wait for itself forever"
            )
        with self._lock:
            if self._closed:
                coro.close()
                raise ClientClosedError("this Client is closed")
            call = _Call(self._loop, coro, self._calls)
        return call.wait()


class _Call(Generic[T]):
    """One coroutine run as a task on the client's loop, waited for from another thread.

    ``asyncio.run_coroutine_threadsafe`` is not enough here: cancelling its future returns at
    once, before the task has stopped, and an interrupted caller must not return while calls
    it started may still be sent.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, T],
        calls: set[asyncio.Task[Any]],
    ) -> None:
        self._loop = loop
        self._coro = coro
        self._calls = calls
        self._task: asyncio.Task[T] | None = None
        self._cancelled = False
        self._done = threading.Event()
        loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        if self._cancelled:  # interrupted before it began
            self._coro.close()
            self._done.set()
            return
        self._task = task = self._loop.create_task(self._coro)
        self._calls.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[T]) -> None:
        self._calls.discard(task)
        self._done.set()

    def _cancel(self) -> None:
        self._cancelled = True
        if self._task is not None:
            self._task.cancel()

    def wait(self) -> T:
        try:
            while not self._done.wait(_INTERRUPT_POLL):
                pass
        except BaseException:  # KeyboardInterrupt, most likely: stop the job, then re-raise
            self._loop.call_soon_threadsafe(self._cancel)
            self._done.wait()
            raise
        task = self._task
        if task is None or task.cancelled():
            raise ClientClosedError("the Client was closed before this call could finish")
        return task.result()


async def _make_client(options: dict[str, Any]) -> AsyncClient:
    return AsyncClient(**options)
