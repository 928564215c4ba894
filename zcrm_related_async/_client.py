"""The asyncio client: settings, session ownership and the user-facing methods."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

import aiohttp

from ._aimd import slots
from ._arguments import Related, budget, check_settings, delinks, links, updates
from ._auth import Auth, CallableAuth, StaticTokenAuth, TokenSource, bind_auth
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
    DEFAULT_MAX_REMOVE,
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_MAX_TRIES,
    DEFAULT_STREAM_LIMIT,
    DEFAULT_TIMEOUT,
    DEFAULT_VERSION,
    MAX_CHUNK_SIZE,
    check_base_url,
    check_version,
    default_accounts_url,
    resolve_api_domain,
)
from ._exceptions import (
    ClientClosedError,
    ConfigurationError,
)
from ._job import Job, ResultStream
from ._limiter import AdaptiveWindow, Limiter, LocalLimiter
from ._ops import Operation
from ._outage import OutageGate
from ._outbox import Outbox
from ._read import check_read, read_related, reader
from ._report import Report
from ._scheduler import Operations, Scheduler, check_operations
from ._sets import set_related
from ._stats import ClientStats
from ._transport import new_session


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
        check_settings(
            access_token=access_token,
            auth=auth,
            chunk_size=chunk_size,
            timeout=timeout,
            max_tries=max_tries,
            max_retry_time=max_retry_time,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_buffered=max_buffered,
            max_outage=max_outage,
            linger=linger,
        )
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
        self._closed = False
        self._jobs: set[Job] = set()
        self._sender = ChunkSender(
            session=self._get_session,
            api_domain=self.api_domain,
            accounts_url=accounts_url,
            version=self.version,
            auth=bind_auth(
                self.auth, self._get_session, accounts_url, float(timeout), float(max_retry_time)
            ),
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
            Coalescer(self._sender.send, chunk_size, float(linger), self._sender.counters.by_code)
            if linger > 0
            else None
        )

    def __repr__(self) -> str:
        return (
            f"AsyncClient(api_domain={self.api_domain!r}, version={self.version!r}, "
            f"max_concurrency={self.max_concurrency}, auth={self.auth!r})"
        )

    def _get_session(self) -> aiohttp.ClientSession:
        """The session for the next request; never a new one behind the user's back."""
        self._check_open()
        if self._session is None:
            self._session = new_session(self.max_concurrency)
        return self._session

    def _check_open(self) -> None:
        """Refuse use of a closed client, or of a closed session the user passed, at once."""
        if self._closed:
            raise ClientClosedError("this AsyncClient is closed")
        session = self._session
        if session is not None and session.closed:
            if self._owns_session:  # closed by someone else than close(): still closed
                raise ClientClosedError("this AsyncClient's own session was closed")
            raise ClientClosedError(
                "the aiohttp.ClientSession passed as session= is closed; pass an open one"
            )

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
        """HTTP requests this client has sent so far that may have reached Zoho, for every
        caller (each may spend an API credit); tries that never connected are not counted."""
        return self._sender.counters.requests.sent

    @property
    def credits_remaining(self) -> int | None:
        """The org's API credits left, as Zoho last said (``X-API-CREDITS-REMAINING``)."""
        return self._sender.credits_remaining

    def stats(self) -> ClientStats:
        """A snapshot of what this client has done so far (see :class:`ClientStats`)."""
        window = self._sender.window
        return ClientStats.of(
            self._sender.counters,
            slots(window.window) if window is not None else None,
            self._sender.credits_remaining,
        )

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called; a closed client refuses every use."""
        return self._closed

    async def close(self) -> None:
        """Close the client: send what waits in linger pools, end every job still running
        (each raises :class:`ClientClosedError` carrying its complete report; a stream raises
        it after its last result), then close the HTTP session if this client made it (a
        session you passed stays open). Any later use raises :class:`ClientClosedError`.
        Closing twice is harmless."""
        if self._closed:
            return
        if self._sender.outage is not None:  # outage gate: what waits for Zoho gives up
            self._sender.outage.close()
        if self._coalescer is not None:
            await self._coalescer.close()
        self._closed = True
        jobs = list(self._jobs)
        for job in jobs:
            job.close()
        for job in jobs:
            await job.wait()
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def run(self, ops: Operations, *, credit_budget: int | None = None) -> Report:
        """Carry out any number of :class:`Link`, :class:`Delink` and :class:`UpdateRecord`
        operations, mixed, over any number of parent records; the input may be a (async)
        generator and is read as a stream. Returns one result per operation, in input order.

        Raises :class:`InvalidOperationError` for bad input (before any call when ``ops`` is a
        list or tuple) and :class:`CreditsExhaustedError` when the org's credits run out; an
        exception raised after the job started sending carries ``report`` (see
        :class:`Job`). With ``credit_budget``, the job makes at most that many requests (each
        spends an API credit); operations it could not send then report ``NOT_ATTEMPTED``.
        """
        return await self.start(ops, credit_budget=credit_budget)

    def start(self, ops: Operations, *, credit_budget: int | None = None) -> Job:
        """Start ``run(ops)`` in the background and return its :class:`Job` (await it for the
        report; cancel or stop it and still get a report for every operation)."""
        return self._job(ops, credit_budget, None)

    def stream(
        self,
        ops: Operations,
        *,
        credit_budget: int | None = None,
        max_waiting: int = DEFAULT_STREAM_LIMIT,
    ) -> ResultStream:
        """Like :meth:`run`, but yield ``(input position, result)`` as calls complete, keeping
        nothing: for jobs too large to hold a report of. Results waiting for the consumer
        plus those of the calls under way stay within ``max_waiting`` (at least a chunk): a
        slow consumer slows the job. Spent credits are not raised here; the remaining
        operations come out with the code ``API_CREDITS_EXHAUSTED``."""
        if isinstance(max_waiting, bool) or not isinstance(max_waiting, int) or max_waiting < 1:
            raise ConfigurationError(f"max_waiting: expected an int >= 1, got {max_waiting!r}")
        return ResultStream(self._job(ops, credit_budget, max(max_waiting, self.chunk_size)))

    def _job(self, ops: Operations, credit_budget: int | None, stream_limit: int | None) -> Job:
        budget(credit_budget)
        check_operations(ops)
        self._check_open()
        self._get_session()  # made now, in the caller's loop, not by a call in flight
        tally = self._sender.counters.by_code

        def scheduler(outbox: Outbox) -> Scheduler:
            batcher = Batcher(self.chunk_size, self._max_buffered)
            return Scheduler(
                batcher,
                self._sender.send,
                2 * self.max_concurrency + 2,
                outbox,
                credit_budget,
                tally,
            )

        job = Job(scheduler, ops, stream_limit=stream_limit)
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        return job

    async def _small(self, ops: Iterable[Operation]) -> Report:
        """Fewer records than a chunk share calls with other callers (see ``_coalesce``)."""
        self._check_open()
        if self._coalescer is None or not isinstance(ops, list):
            return await self.run(ops)
        if not 0 < len(ops) < self.chunk_size:
            return await self.run(ops)
        self._get_session()
        shared = await self._coalescer.submit(ops)
        report = Report(shared.results, shared.calls)
        if shared.stop is not None:  # spent credits, a closed session: as run() would raise
            raise shared.stop.error(shared.stop.message, report)
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
        return await self._small(links(module, record_id, related_list, related, external))

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
        return await self._small(delinks(module, record_id, related_list, related, external))

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
        return await self._small(updates(module, records, trigger, apply_layout_rules, external))

    def get_related(
        self,
        module: str,
        record_id: str,
        related_list: str,
        *,
        fields: Sequence[str] | None = None,
        external: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Iterate over the records related to one parent: ``async for record in
        zoho.get_related("Campaigns", campaign_id, "Leads", fields=["Member_Status"])``.

        Each record is Zoho's dict: ``"id"`` and the ``fields`` asked for (Zoho may add a few
        of its own). Pages of 200 are read one after the other as you iterate, each under the
        client's limit, retries and token handling like every call; an empty list (Zoho's
        204) yields nothing. A page that still fails after its retries raises
        :class:`RelatedReadError` (and :class:`AuthError` when no token can be had). With
        ``external`` naming the parent's external field,
        ``record_id`` is that field's value. Bad arguments raise
        :class:`InvalidOperationError` at once, before any request.
        """
        wanted = check_read(module, record_id, related_list, fields, external)
        self._check_open()
        return read_related(self._sender, module, record_id, related_list, wanted, external)

    async def set_related(
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
        """Make one parent's related list exactly ``related``, sending only the difference.

        ``related`` holds the target items as :meth:`link` takes them (ids, or dicts with
        ``"id"`` and relation fields); it may be a generator. The current list is read once
        (with the fields the items name); then links go out for the records not in it,
        updates only where a field an item names differs from what Zoho holds, and delinks
        for the records the target leaves out (none when ``remove_others=False``), through
        :meth:`run`. The report holds one result per target item, in input order
        (Zoho's ``SUCCESS`` when linked or updated, ``UNCHANGED`` when nothing had to be
        sent), then one per record delinked; ``report.calls`` counts reads and changes.

        ``dry_run=True`` reads and sends nothing: each result says what the item would get
        (``WOULD_LINK``, ``WOULD_UPDATE``, ``UNCHANGED``, then ``WOULD_DELINK``), all with
        status ``"success"``.

        Safety: a plan that delinks more than ``max_remove`` of the current list (a float: a
        share, default 0.5; an int: a count) raises :class:`TooManyRemovalsError` before any
        change (a dry run too), and an empty target never empties a non-empty list. A read
        that fails raises :class:`RelatedReadError` before any change. Zoho reads and writes are
        not atomic: see the "Related sets" page for what a concurrent editor can cause.
        ``external`` may name the parent's external field only.
        """
        self._check_open()
        return await set_related(
            module,
            record_id,
            related_list,
            related,
            read=reader(self._sender, module, record_id, related_list, external),
            run=self.run,
            remove_others=remove_others,
            external=external,
            dry_run=dry_run,
            max_remove=max_remove,
        )
