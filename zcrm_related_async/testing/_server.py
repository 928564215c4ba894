"""HTTP layer of the fake: routing, faults, concurrency, credits, auth and the token endpoint.

The public conveniences (inspection, injection, context manager) are in :mod:`._fake`.

Runs on aiohttp's low-level :class:`aiohttp.web.Server` (no router, no middlewares, no
access log) because benchmarks push thousands of calls a second through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Iterable
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from . import _results as r
from ._api import NOT_JSON, ZohoApi, parse_body
from ._auth import ZOHO_REFRESH_LIMIT, ZOHO_REFRESH_WINDOW, Accounts, TokenStore
from ._models import BEFORE_APPLY, FakeStats, Faults, RequestRecord
from ._outage import Outages
from ._state import CrmState

_JSON = "application/json;charset=utf-8"
_HTML = "text/html"
_CREDITS_HEADER = "X-API-CREDITS-REMAINING"
_AUTH_PREFIX = "Zoho-oauthtoken "
_TOKEN_PATH = "/oauth/v2/token"
# How long close() lets in-flight handlers finish before aiohttp cancels them.
_SHUTDOWN_TIMEOUT = 1.0

# Answers given before anything is applied, encoded once.
_NOT_FOUND = r.dumps(r.NOT_FOUND)
_EARLY: dict[str, tuple[int, bytes, str]] = {
    "500": (500, r.dumps(r.INTERNAL_ERROR), _JSON),
    "not_json": (502, b"<html>Bad Gateway</html>", _HTML),
    "429": (429, r.dumps(r.TOO_MANY_REQUESTS), _JSON),
    "credits": (429, r.dumps(r.CREDITS_EXHAUSTED), _JSON),
    "401": (401, r.dumps(r.INVALID_TOKEN), _JSON),
}

_DROPPED = (0, b"", _JSON)  # reset_before: no answer at all


class _Dropped(web.StreamResponse):
    """A non-answer: closes the connection, so the client sees it drop (lost response)."""

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        transport = request.transport
        if transport is not None:
            transport.close()
        # aiohttp takes a ConnectionError from prepare() for a client that went away: it
        # writes nothing, logs nothing and ends that connection quietly.
        raise ConnectionResetError("connection dropped by FakeZoho")


class ZohoServer:
    """The HTTP engine of :class:`~zcrm_related_async.testing.FakeZoho` (see there)."""

    def __init__(
        self,
        *,
        org_concurrency: int | None = 10,
        latency: float = 0.0,
        token_ttl_requests: int | None = None,
        token_ttl_seconds: float = 3600.0,
        refresh_limit: int | None = None,
        refresh_window: float = 600.0,
        missing_ids: Iterable[str] = (),
        modules: Iterable[str] | None = None,
        faults: Faults | None = None,
        seed: int = 0,
        log_requests: bool = True,
        credits: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str = "fake-client-id",
        client_secret: str = "fake-client-secret",
        refresh_token: str = "fake-refresh-token",
        access_token: str | None = None,
        zoho_token_rules: bool = False,
        update_concurrency: int | None = None,
    ) -> None:
        if zoho_token_rules and refresh_limit is None:
            refresh_limit, refresh_window = ZOHO_REFRESH_LIMIT, ZOHO_REFRESH_WINDOW
        if org_concurrency is not None and org_concurrency < 1:
            raise ValueError("org_concurrency must be >= 1 or None")
        if latency < 0 or token_ttl_seconds <= 0 or refresh_window <= 0:
            raise ValueError("latency must be >= 0, token_ttl_seconds and refresh_window > 0")
        if token_ttl_requests is not None and token_ttl_requests < 1:
            raise ValueError("token_ttl_requests must be >= 1 or None")
        self.org_concurrency = org_concurrency
        #: Zoho's sub-concurrency limit: Update Records calls of more than 10 records in flight
        #: beyond this get 429 ``TOO_MANY_REQUESTS`` (None: no such limit)
        self.update_concurrency = update_concurrency
        self.latency = latency
        self.log_requests = log_requests
        #: API credits left (None = unlimited); each authenticated API call spends one.
        self.credits = credits
        self.host = host
        self.port = port
        #: Every API call, in arrival order, while ``log_requests`` is true.
        self.requests: list[RequestRecord] = []
        self._state = CrmState(missing_ids)
        self._api = ZohoApi(self._state, modules)
        self._tokens = TokenStore(token_ttl_requests, token_ttl_seconds)
        self._accounts = Accounts(
            client_id, client_secret, refresh_token, self._tokens, refresh_limit, refresh_window
        )
        self._initial_token = access_token
        self._stats = FakeStats()
        self._rng = random.Random(seed)
        self._injected: deque[str] = deque()
        self._outages = Outages()  # outage simulation (see _outage)
        self._faults = Faults()
        self._fault_table: tuple[tuple[float, str], ...] = ()
        self.faults = faults if faults is not None else Faults()
        self._runner: web.ServerRunner | None = None
        self._url: str | None = None
        self._closing = asyncio.Event()

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one) and mint the first token."""
        if self._runner is not None:
            raise RuntimeError("FakeZoho is already started")
        self._closing = asyncio.Event()
        runner = web.ServerRunner(
            web.Server(self._handle, access_log=None), shutdown_timeout=_SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=1024)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._url = f"http://{host}:{port}"
        if not self._tokens.newest:
            self._tokens.mint(self._initial_token)

    async def close(self) -> None:
        """Stop listening; calls held by the ``slow`` fault are released first."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing.set()
        await runner.cleanup()

    @property
    def faults(self) -> Faults:
        """Random fault probabilities; assign a new :class:`Faults` any time."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        table: list[tuple[float, str]] = []
        total = 0.0
        for probability, kind in faults.table():
            total += probability
            table.append((total, kind))
        self._faults = faults
        self._fault_table = tuple(table)

    # --- HTTP -----------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        parts = request.rel_url.parts
        if len(parts) > 2 and parts[1] == "crm":
            return await self._api_call(request, parts[2:])
        if request.rel_url.path == _TOKEN_PATH:
            return await self._token_endpoint(request)
        return web.Response(status=404, body=_NOT_FOUND, headers={"Content-Type": _JSON})

    async def _api_call(
        self, request: web.BaseRequest, segments: tuple[str, ...]
    ) -> web.StreamResponse:
        stats = self._stats
        stats.requests += 1
        method = request.method
        if method == "PUT":
            stats.puts += 1
        elif method == "DELETE":
            stats.deletes += 1
        stats.in_flight += 1
        if stats.in_flight > stats.max_in_flight:
            stats.max_in_flight = stats.in_flight
        heavy = False
        try:
            # An Update Records call (PUT /crm/{version}/{module}) of more than 10 records
            # counts towards Zoho's sub-concurrency limit as well.
            heavy = method == "PUT" and len(segments) == 2 and _records(await request.read()) > 10
            if heavy:
                stats.heavy_updates_in_flight += 1
                if stats.heavy_updates_in_flight > stats.max_heavy_updates_in_flight:
                    stats.max_heavy_updates_in_flight = stats.heavy_updates_in_flight
            return await self._serve(request, method, segments, heavy)
        finally:
            stats.in_flight -= 1
            if heavy:
                stats.heavy_updates_in_flight -= 1

    def _pick_fault(self) -> str | None:
        if self._injected:
            return self._injected.popleft()
        if self._fault_table:
            draw = self._rng.random()
            for threshold, kind in self._fault_table:
                if draw < threshold:
                    return kind
        return None

    async def _serve(
        self, request: web.BaseRequest, method: str, segments: tuple[str, ...], heavy: bool
    ) -> web.StreamResponse:
        stats = self._stats
        # Latency is a deadline from arrival, as a real server's round trip: the fake's own
        # work (serialised on one core) happens within it, instead of queueing after it.
        due = asyncio.get_running_loop().time() + self.latency
        headers = request.headers
        raw = await request.read()
        auth = headers.get("Authorization")
        token = auth[len(_AUTH_PREFIX) :] if auth and auth.startswith(_AUTH_PREFIX) else None
        body: Any = None
        parsed = False
        record: RequestRecord | None = None
        if self.log_requests:
            body, parsed = parse_body(raw), True
            record = RequestRecord(
                method=method,
                path=request.rel_url.path,
                query=dict(request.query),
                external=headers.get("X-EXTERNAL"),
                body=None if body is NOT_JSON else body,
                token_ok=self._tokens.peek(token),
            )
            self.requests.append(record)

        # Decide the outcome on arrival, in Zoho's order of checks.
        # An outage in force answers every call alike (see _outage); otherwise random faults.
        fault = (
            self._outages.fault(asyncio.get_running_loop().time(), stats.requests)
            or self._pick_fault()
        )
        early = fault if fault in BEFORE_APPLY else None
        if record is not None:
            record.fault = fault
        if early is None:
            early = self._admit(token, record, heavy)
        if early == "429":
            stats.rejected_429 += 1

        credits_header: str | None = None
        if early is None:
            if not parsed:
                body = parse_body(raw)
            status, payload, items = self._api.handle(
                method, segments, request.query, headers.get("X-EXTERNAL"), body
            )
            stats.items += items
            content_type = _JSON
        else:
            status, payload, content_type = _EARLY.get(early, _DROPPED)
            if early == "credits":
                credits_header = "0"

        # Every API call is answered `latency` after it arrived, rejected ones too: they stay
        # in flight meanwhile.
        wait = due - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)
        if early == "reset_before":
            return self._drop(record)

        if fault == "reset_after":
            return self._drop(record)
        if fault == "truncated_json":
            payload = payload[: len(payload) // 2]
        elif fault == "slow":
            await self._slow()
        return self._answer(status, payload, content_type, record, credits_header)

    def _admit(self, token: str | None, record: RequestRecord | None, heavy: bool) -> str | None:
        """Concurrency, then credits, then auth: the early answer's kind, or None to go on.

        A credit is spent only by a call that passes auth.
        """
        if self.org_concurrency is not None and self._stats.in_flight > self.org_concurrency:
            return "429"
        if (
            heavy
            and self.update_concurrency is not None
            and self._stats.heavy_updates_in_flight > self.update_concurrency
        ):
            return "429"
        if self.credits is not None and self.credits <= 0:
            return "credits"
        token_ok = self._tokens.use(token)
        if record is not None:
            record.token_ok = token_ok
        if not token_ok:
            return "401"
        if self.credits is not None:
            self.credits -= 1
        return None

    async def _slow(self) -> None:
        # Wake early when the fake closes, so close() does not wait for slow_seconds.
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._closing.wait(), self._faults.slow_seconds)

    def _drop(self, record: RequestRecord | None) -> web.StreamResponse:
        self._stats.dropped += 1
        if record is not None:
            record.status = None
        return _Dropped()

    def _answer(
        self,
        status: int,
        payload: bytes,
        content_type: str,
        record: RequestRecord | None,
        credits_header: str | None,
    ) -> web.Response:
        by_status = self._stats.by_status
        by_status[status] = by_status.get(status, 0) + 1
        if record is not None:
            record.status = status
        headers: dict[str, str] = {} if status == 204 else {"Content-Type": content_type}
        if credits_header is None and self.credits is not None:
            credits_header = str(self.credits)
        if credits_header is not None:
            headers[_CREDITS_HEADER] = credits_header
        return web.Response(status=status, body=payload or None, headers=headers)

    async def _token_endpoint(self, request: web.BaseRequest) -> web.Response:
        """``POST /oauth/v2/token`` (refresh grant); parameters in the form or the query."""
        self._stats.refresh_requests += 1
        params = dict(request.query)
        if request.method == "POST":
            for name, value in (await request.post()).items():
                if isinstance(value, str):
                    params[name] = value
        else:
            params["grant_type"] = ""  # the token endpoint takes POST only
        answer = self._accounts.refresh(params, self._url or "")
        if "access_token" in answer:
            self._stats.refreshes += 1
        return web.Response(status=200, body=r.dumps(answer), headers={"Content-Type": _JSON})


def _records(raw: bytes) -> int:
    """How many records a request body carries (0 if it is no ``data`` list)."""
    body = parse_body(raw)
    data = body.get("data") if isinstance(body, dict) else None
    return len(data) if isinstance(data, list) else 0
