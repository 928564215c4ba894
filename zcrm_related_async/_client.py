"""The asyncio client: settings, session ownership and the user-facing methods."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Collection, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

import aiohttp

from ._auth import Auth, CallableAuth, StaticTokenAuth, TokenSource
from ._batching import Batcher
from ._calls import ChunkSender
from ._coalesce import Coalescer
from ._config import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    DEFAULT_LINGER,
    DEFAULT_MAX_BUFFERED,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_OUTAGE,
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_MAX_TRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    MAX_CHUNK_SIZE,
    check_base_url,
    check_version,
    default_accounts_url,
    resolve_api_domain,
)
from ._exceptions import ConfigurationError, CreditsExhaustedError, InvalidOperationError
from ._job import Job
from ._limiter import AdaptiveWindow, Limiter, LocalLimiter
from ._merge import Part
from ._ops import Delink, Link, Operation, UpdateRecord, parse_external
from ._outage import OutageGate
from ._report import Report, Result
from ._scheduler import Operations, ResultSink, Scheduler, check_operations
from ._version import __version__

Related = Iterable["str | Mapping[str, Any]"]


def _positive(name: str, value: object, kind: type = float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigurationError(f"{name}: expected a number > 0, got {value!r}")
    if kind is int and not isinstance(value, int):
        raise ConfigurationError(f"{name}: expected a whole number, got {value!r}")


class AsyncClient:
    """Link, update and delink any number of related records, batched, concurrent, retried.

    Use it as ``async with AsyncClient(...) as zoho:``. ``api_domain`` (any host, no path, such
    as ``https://www.zohoapis.eu`` or ``http://127.0.0.1:8000``) wins over ``data_center`` and
    ``environment``; ``version`` is one of v2, v2.1, v3, v4, v5, v6, v7, v8. Give
    ``access_token`` or ``auth`` (a :class:`RefreshTokenAuth`, any :class:`Auth`, or a callable
    returning a token). At most ``max_concurrency`` calls are in
    flight for every caller of this client together (pass one ``limiter`` to several clients
    to share it). A ``session`` you pass is used and left open; one the client makes, it closes.

    Retries: a chunk makes at most ``max_tries`` requests within ``max_retry_time`` seconds,
    waiting ``backoff_base`` seconds doubling up to ``backoff_cap`` (with jitter) between them,
    or what a ``Retry-After`` header asks. Every request times out after ``timeout`` seconds.

    Outages: when calls fail across the board for reasons that say nothing about the records
    (5xx, dropped connections, timeouts), every caller of this client waits while one probe
    call at a time checks whether Zoho is back (see ``_outage_state``), for at most
    ``max_outage`` seconds; tries failing meanwhile are not counted against ``max_tries``.
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
        self.api_domain = resolve_api_domain(api_domain, data_center, environment)
        self.version = check_version(version)
        if accounts_url is None:
            accounts_url = default_accounts_url(data_center)
        accounts_url = check_base_url(accounts_url, "accounts_url")
        if (access_token is None) == (auth is None):
            raise ConfigurationError("give exactly one of access_token= or auth=")
        if (
            isinstance(chunk_size, bool)
            or not isinstance(chunk_size, int)
            or not (1 <= chunk_size <= MAX_CHUNK_SIZE)
        ):
            raise ConfigurationError(f"chunk_size: expected 1 to 100, got {chunk_size!r}")
        _positive("timeout", timeout)
        _positive("max_tries", max_tries, int)
        _positive("max_retry_time", max_retry_time)
        _positive("backoff_base", backoff_base)
        _positive("backoff_cap", backoff_cap)
        _positive("max_buffered", max_buffered, int)
        _positive("max_outage", max_outage)
        if isinstance(linger, bool) or not isinstance(linger, (int, float)) or linger < 0:
            raise ConfigurationError(f"linger: expected seconds >= 0, got {linger!r}")
        if session is not None and not isinstance(session, aiohttp.ClientSession):
            raise ConfigurationError("session: expected an aiohttp.ClientSession")
        self.auth: Auth
        if access_token is not None:
            self.auth = StaticTokenAuth(access_token)
        elif isinstance(auth, Auth):
            self.auth = auth
        else:
            self.auth = CallableAuth(auth)  # type: ignore[arg-type]
        self.limiter: Limiter = limiter if limiter is not None else LocalLimiter(max_concurrency)
        self.max_concurrency = getattr(self.limiter, "limit", max_concurrency)
        self.chunk_size = chunk_size
        self._max_buffered = max_buffered
        self._session = session
        self._owns_session = session is None
        self._sender = ChunkSender(
            session=self._get_session,
            api_domain=self.api_domain,
            accounts_url=accounts_url,
            version=self.version,
            auth=self.auth,
            limiter=self.limiter,
            window=AdaptiveWindow(self.max_concurrency) if adaptive_concurrency else None,
            timeout=float(timeout),
            max_tries=max_tries,
            max_retry_time=float(max_retry_time),
            backoff_base=float(backoff_base),
            backoff_cap=float(backoff_cap),
            outage=OutageGate(float(max_outage)),  # outage gate: one per client
        )
        self._coalescer = (
            Coalescer(self._sender.send, chunk_size, float(linger)) if linger > 0 else None
        )

    def __repr__(self) -> str:
        return (
            f"AsyncClient(api_domain={self.api_domain!r}, version={self.version!r}, "
            f"max_concurrency={self.max_concurrency}, auth={self.auth!r})"
        )

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owns_session and self._session.closed):
            connector = aiohttp.TCPConnector(limit=max(100, self.max_concurrency * 2))
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": f"zcrm-related-async/{__version__}"},
            )
            self._owns_session = True
        return self._session

    async def __aenter__(self) -> AsyncClient:
        self._get_session()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def calls(self) -> int:
        """HTTP requests this client has sent so far, for every caller (each spends a credit)."""
        return self._sender.calls

    @property
    def credits_remaining(self) -> int | None:
        """The org's API credits left, as Zoho last said (``X-API-CREDITS-REMAINING``)."""
        return self._sender.credits_remaining

    async def close(self) -> None:
        """Send what waits in linger pools, then close the HTTP session if this client made
        it (a session you passed stays open)."""
        if self._sender.outage is not None:  # outage gate: what waits for Zoho gives up
            self._sender.outage.close()
        if self._coalescer is not None:
            await self._coalescer.close()
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def run(self, ops: Operations, *, credit_budget: int | None = None) -> Report:
        """Carry out any number of :class:`Link`, :class:`Delink` and :class:`UpdateRecord`
        operations, mixed, over any number of parent records; the input may be a (async)
        generator and is read as a stream. Returns one result per operation, in input order.

        Raises :class:`InvalidOperationError` for bad input (before any call when ``ops`` is a
        list or tuple) and :class:`CreditsExhaustedError` when the org's credits run out.
        With ``credit_budget``, the job makes at most that many requests (each spends an API
        credit); operations it could not send then report ``NOT_ATTEMPTED``.
        """
        return await self.start(ops, credit_budget=credit_budget)

    def start(self, ops: Operations, *, credit_budget: int | None = None) -> Job:
        """Start ``run(ops)`` in the background and return its :class:`Job` (await it for the
        report, or cancel it and still get a report for every operation)."""
        _budget(credit_budget)
        check_operations(ops)
        return Job(lambda sink: self._scheduler(sink, credit_budget), ops)

    async def stream(
        self, ops: Operations, *, credit_budget: int | None = None
    ) -> AsyncGenerator[tuple[int, Result], None]:
        """Like :meth:`run`, but yield ``(input position, result)`` as calls complete, keeping
        nothing: for jobs too large to hold a report of. Spent credits are not raised here;
        the remaining operations come out with the code ``API_CREDITS_EXHAUSTED``."""
        queue: asyncio.Queue[tuple[int, Result] | None] = asyncio.Queue()
        _budget(credit_budget)
        check_operations(ops)

        def sink(part: Part, where: Iterable[tuple[int, int]]) -> None:
            for index, position in where:
                queue.put_nowait((index, part.result(position)))

        scheduler = self._scheduler(sink, credit_budget)
        task = asyncio.get_running_loop().create_task(scheduler.run(ops))
        task.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (item := await queue.get()) is not None:
                yield item
            await task
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def _scheduler(self, sink: ResultSink, credit_budget: int | None = None) -> Scheduler:
        batcher = Batcher(self.chunk_size, self._max_buffered)
        return Scheduler(
            batcher, self._sender.send, 2 * self.max_concurrency + 2, sink, credit_budget
        )

    async def _small(self, ops: Iterable[Operation]) -> Report:
        """Fewer records than a chunk share calls with other callers (see ``_coalesce``)."""
        if self._coalescer is None or not isinstance(ops, list):
            return await self.run(ops)
        if not 0 < len(ops) < self.chunk_size:
            return await self.run(ops)
        shared = await self._coalescer.submit(ops)
        report = Report(shared.results, shared.calls)
        if shared.credits_exhausted:
            raise CreditsExhaustedError(
                "Zoho says the org's API credits for the day are spent", report
            )
        return report

    async def link(
        self,
        module: str,
        record_id: str,
        related_list: str,
        related: Related,
        *,
        external: str | None = None,
    ) -> Report:
        """Relate records to one parent record, or update those relations' fields.

        ``related`` holds ids (``"3652397000000327001"``) and/or dicts with ``"id"`` (or the
        related external field) and the relation's fields (``{"id": ..., "Member_Status":
        "Active"}``).
        """
        key = _related_key(external, module)

        def make(item: str | Mapping[str, Any]) -> Link:
            related_id, fields = _split(item, key)
            return Link(module, record_id, related_list, related_id, fields, external)

        return await self._small(_build(related, make))

    async def delink(
        self,
        module: str,
        record_id: str,
        related_list: str,
        related: Related,
        *,
        external: str | None = None,
    ) -> Report:
        """Remove the relations between one parent record and the given related records."""
        key = _related_key(external, module)

        def make(item: str | Mapping[str, Any]) -> Delink:
            related_id, _ = _split(item, key)
            return Delink(module, record_id, related_list, related_id, external)

        return await self._small(_build(related, make))

    async def update_records(
        self,
        module: str,
        records: Iterable[Mapping[str, Any]],
        *,
        trigger: list[str] | None = None,
        apply_layout_rules: bool = False,
        external: str | None = None,
    ) -> Report:
        """Update records of one module: each a dict with ``"id"`` and the fields to set.

        ``trigger=None`` (the default) leaves Zoho's automation as it is; pass ``[]`` to run
        none, or a subset such as ``["workflow"]``.
        """
        ext = parse_external(external, module) if isinstance(external, str) else None
        key = (ext.parent_field if ext else None) or "id"

        def make(record: Mapping[str, Any]) -> UpdateRecord:
            record_id, fields = _split(record, key, need_fields=True)
            return UpdateRecord(
                module, record_id, fields or {}, external, trigger, apply_layout_rules
            )

        return await self._small(_build(records, make))


def _budget(credit_budget: int | None) -> None:
    if credit_budget is not None and (
        isinstance(credit_budget, bool) or not isinstance(credit_budget, int) or credit_budget < 0
    ):
        raise ConfigurationError(f"credit_budget: expected an int >= 0, got {credit_budget!r}")


def _related_key(external: str | None, module: str) -> str:
    ext = parse_external(external, module) if isinstance(external, str) else None
    return (ext.related_field if ext else None) or "id"


def _split(item: object, key: str, need_fields: bool = False) -> tuple[str, dict[str, Any] | None]:
    """``"123"`` or ``{"id": "123", **fields}`` -> ``("123", fields)``."""
    if isinstance(item, str) and not need_fields:
        return item, None
    if not isinstance(item, Mapping):
        wanted = f"a dict with {key!r}" if need_fields else f"an id (str) or a dict with {key!r}"
        raise InvalidOperationError("item", f"expected {wanted}, got {type(item).__name__}")
    if key not in item:
        raise InvalidOperationError(key, f"missing: each item needs {key!r}")
    fields = {k: v for k, v in item.items() if k != key}
    return item[key], fields or None


def _build(items: Iterable[Any], make: Any) -> Iterable[Operation]:
    """Operations from the items: all at once (so a bad item raises before any call) when they
    are a collection, lazily when they are a stream."""

    def each() -> Iterator[Operation]:
        for index, item in enumerate(items):
            try:
                yield make(item)
            except InvalidOperationError as error:
                raise error.at(index) from None

    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise InvalidOperationError(
            "items", f"expected a list of items, got {type(items).__name__}"
        )
    return list(each()) if isinstance(items, Collection) else each()
