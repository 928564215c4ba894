"""Sending one chunk: token, place, slot, request, verdict, retry. The only retry loop there is.

A slot of the org's limit is held for the HTTP request alone: waiting out a backoff or a token
refresh holds none, so other chunks keep the org busy meanwhile. Before each request the job's
gate says whether it may still spend a credit (credits not spent, budget not reached).

Each failed try is one of two kinds. *Transient*: the answer says nothing about the records
(``Verdict.RETRY``: a 5xx, a concurrency 429, a lost or unreadable answer, no slot from a shared
limiter); the chunk waits (``RetryBudget``) and tries again, and only when its tries run out
does the last failure become its outcome. *Final*: Zoho's answer stands for the records.

A page's read of a related list goes through the same loop (``ChunkSender.carry``); only
what its answers mean and what its tries end in differ (``Answers``: ``_call_outcome`` for a
chunk, ``_read`` for a page).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol, TypeVar, cast

import aiohttp
import attrs
from yarl import URL

from ._auth import Auth
from ._batching import Chunk
from ._call_outcome import CHUNK_ANSWERS
from ._call_outcome import CallOutcome as CallOutcome  # the scheduler's and coalescer's
from ._call_outcome import Stop as Stop
from ._config import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    HEAVY_UPDATE_CONCURRENCY,
    HEAVY_UPDATE_RECORDS,
    RETRY_AFTER_CAP,
)
from ._exceptions import AuthError, ClientClosedError, LimiterUnavailableError
from ._limiter import AdaptiveWindow, Limiter, LocalLimiter
from ._merge import Failed
from ._ops import UpdateRecord
from ._outage import OutageGate, OutageGaveUp, transient
from ._report import LIMITER_UNAVAILABLE
from ._retry import (
    CREDITS_HEADER,
    RetryBudget,
    Verdict,
    parse_credits_remaining,
    parse_retry_after,
)
from ._stats import ClientCounters, RequestCount
from ._transport import RawResponse, TransportError, send, url
from ._wire import Parsed, Request, WholeCall, build_request

log = logging.getLogger("zcrm_related_async")

#: Replays of one try after Zoho rejected its token, each with a token not rejected before in
#: that try. More than one: in a fleet sharing a token, a replay may be the request that finds
#: the next token dead (each death is refreshed once for everyone, so this bounds refreshes).
_MAX_TOKEN_REPLAYS = 3


class Gate(Protocol):
    """The job's say on each request, and its own count of them."""

    count: RequestCount

    def admit(self) -> Failed | None:
        """``None``: send; otherwise why the job sends nothing more."""


A = TypeVar("A")
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Answers(Protocol[A, T_co]):
    """What one kind of request makes of Zoho's answers (``A``, parsed) and of how its tries
    ended (``T_co``): the one part a chunk's call and a page's read do not share."""

    def parse(self, chunk: Chunk, raw: RawResponse) -> A:
        """One answer, read."""

    def verdict(self, raw: RawResponse, parsed: A) -> Verdict:
        """What the answer calls for (``RETRY`` only for an error answer, a ``Parsed``)."""

    def final(self, chunk: Chunk, parsed: A, status: int, verdict: Verdict) -> T_co:
        """Zoho's answer stands."""

    def failed(self, chunk: Chunk, outcome: Parsed | Failed, status: int | None) -> T_co:
        """The tries ran out, Zoho stayed down, or the job sends nothing more."""

    def refused(
        self,
        chunk: Chunk,
        error: AuthError | ClientClosedError,
        last: tuple[Parsed | Failed, int | None] | None,
    ) -> T_co:
        """No token could be had, or the client closed; ``last``: the last transient failure."""


class _Held(Exception):
    """The outage gate closed while this try waited for its slot: back to the gate."""


class _NotSent(Exception):
    def __init__(self, outcome: Failed) -> None:
        super().__init__(outcome.code)
        self.outcome = outcome


@attrs.define
class ChunkSender:
    """Everything one call needs; shared by every chunk of a client."""

    session: Callable[[], aiohttp.ClientSession]
    api_domain: str
    accounts_url: str
    version: str
    auth: Auth
    limiter: Limiter
    window: AdaptiveWindow | None
    timeout: float
    max_tries: int
    max_retry_time: float
    backoff_base: float = BACKOFF_BASE
    backoff_cap: float = BACKOFF_CAP
    random: Callable[[], float] = random.random
    #: the last ``X-API-CREDITS-REMAINING`` Zoho sent, if it ever did
    credits_remaining: int | None = None
    counters: ClientCounters = attrs.Factory(ClientCounters)
    #: the client's outage gate, shared by every chunk (``None``: no gate): passed before each
    #: try; while Zoho is down, chunks wait at it instead of spending their tries
    outage: OutageGate | None = None
    #: Zoho's sub-concurrency limit for Update Records calls of more than 10 records: they
    #: take a slot of this first, so they run 10 at a time while links keep every org slot
    heavy_updates: Limiter = attrs.Factory(lambda: LocalLimiter(HEAVY_UPDATE_CONCURRENCY))
    #: ``timeout`` as aiohttp takes it, built once
    _timeout: aiohttp.ClientTimeout = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._timeout = aiohttp.ClientTimeout(self.timeout)

    async def _request(
        self,
        chunk: Chunk,
        gate: Gate,
        method: str,
        target: URL,
        headers: dict[str, str],
        body: bytes | None,
        probe: bool = False,
    ) -> tuple[str, RawResponse]:
        """One request under a place in the window and a slot of the limiter (and, for an
        update of more than 10 records, a slot of ``heavy_updates`` before both, so that
        updates waiting for one hold no place links could use); returns the access token it
        was sent with and the answer."""
        # (a read of related records carries no operations: it is never a heavy update)
        if len(chunk.ops) > HEAVY_UPDATE_RECORDS and type(chunk.ops[0]) is UpdateRecord:
            self.session()  # a closed client: raise before waiting for a slot
            async with self.heavy_updates.slot():
                return await self._request_in_window(
                    chunk, gate, method, target, headers, body, probe, True
                )
        return await self._request_in_window(
            chunk, gate, method, target, headers, body, probe, False
        )

    async def _request_in_window(
        self,
        chunk: Chunk,
        gate: Gate,
        method: str,
        target: URL,
        headers: dict[str, str],
        body: bytes | None,
        probe: bool,
        heavy: bool,
    ) -> tuple[str, RawResponse]:
        session = self.session()  # raises ClientClosedError: nothing is sent then
        waiting = time.monotonic()
        epoch = await self.window.acquire() if self.window else 0
        throttled: bool | None = None
        try:
            async with self.limiter.slot():
                self.counters.slot_wait += time.monotonic() - waiting
                if not probe and self.outage is not None and not self.outage.open:
                    raise _Held  # the gate closed while this try waited for its slot
                # The token is read once the slot is ours: one read before a long wait for a
                # slot may have died meanwhile (in a fleet, others spend it and refresh it).
                token = await self.auth.token()
                # Again, now: a session the user passed may have closed while this try waited
                # (no await from here to the request, so it cannot close in between).
                session = self.session()
                stop = gate.admit()
                if stop is not None:
                    raise _NotSent(stop)
                chunk.attempts += 1  # from here on, the call may reach Zoho
                try:
                    headers["Authorization"] = f"Zoho-oauthtoken {token}"
                    raw = await send(session, method, target, headers, body, self._timeout)
                except TransportError as exc:
                    self._count(chunk, gate, None, exc.connected)
                    raise
                self._count(chunk, gate, raw.status, True)
            # A 429 to a heavy update may be the sub-concurrency limit's, which says nothing
            # about the org's limit: the window (which links share) learns only from others.
            throttled = None if heavy and raw.status == 429 else raw.status == 429
        finally:
            if self.window:
                self.window.release(epoch, throttled)
        # Let the call waiting for this slot go out before this one's answer is read: reading
        # it takes a while, and the org's slot would sit idle meanwhile.
        await asyncio.sleep(0)
        return token, raw

    def _count(self, chunk: Chunk, gate: Gate, status: int | None, connected: bool) -> None:
        """The one place a try is counted: for the client, the job and the chunk."""
        for count in (self.counters.requests, gate.count):
            count.tries += 1
            if not connected:
                count.not_connected += 1
        if not connected:
            chunk.unconnected += 1
        if status is not None:
            self.counters.by_status[status] += 1

    def send(self, chunk: Chunk, gate: Gate) -> Coroutine[Any, Any, CallOutcome]:
        """Carry ``chunk`` through its tries; the coroutine returns its outcome, never raises
        but for cancellation (or a bug, which the job's unit of work turns into
        ``CLIENT_ERROR``). Not itself a coroutine: one frame a chunk, not two, on a hot path."""
        return self.carry(chunk, gate, build_request(self.version, chunk), CHUNK_ANSWERS)

    async def carry(self, chunk: Chunk, gate: Gate, request: Request, answers: Answers[A, T]) -> T:
        """Carry one request through its tries: the outage gate before each, a token replay
        after each refusal of the token, a wait (``RetryBudget``) after each transient
        failure. ``answers`` reads each answer and turns how the tries ended into ``T``.

        The one try loop there is: a chunk's call and a page's read both go through it."""
        target = url(self.api_domain + request.path)
        headers = {"Content-Type": "application/json"} if request.body is not None else {}
        if request.external:
            headers["X-EXTERNAL"] = request.external
        tries = RetryBudget(
            self.max_tries,
            self.max_retry_time,
            time.monotonic(),
            self.backoff_base,
            self.backoff_cap,
            RETRY_AFTER_CAP,
            self.random,
        )
        last: tuple[Parsed | Failed, int | None] | None = None  # the last transient failure
        replays = 0
        rejected: set[str] = set()  # tokens Zoho refused during this try
        held = 0.0  # seconds spent waiting at the outage gate: not retrying, not counted
        probe = False  # whether the try under way is the outage gate's probe
        try:
            while True:
                retry_after: float | None = None
                if self.outage is not None and not self.outage.open:
                    waited = time.monotonic()
                    try:
                        probe = await self.outage.enter()
                    except OutageGaveUp as down:  # Zoho down for max_outage: give up
                        return answers.failed(chunk, *down.outcome(last))
                    finally:
                        waited = time.monotonic() - waited
                        held += waited
                        self.counters.outage_wait += waited
                try:
                    token, raw = await self._request(
                        chunk, gate, request.method, target, headers, request.body, probe
                    )
                except _Held:  # the gate closed while this try waited for a slot
                    continue
                except TransportError as exc:
                    last = (Failed(exc.code, exc.message), None)
                except LimiterUnavailableError as exc:  # nothing was sent: try again later
                    last = (Failed(LIMITER_UNAVAILABLE, str(exc)), None)
                except _NotSent as stopped:
                    # Tried before and stopped now: the last answer is the truth; never tried:
                    # not sent.
                    outcome, status = last if last is not None else (stopped.outcome, None)
                    return answers.failed(chunk, outcome, status)
                except (AuthError, ClientClosedError) as error:
                    return answers.refused(chunk, error, last)
                else:
                    self._note_credits(raw.headers)
                    parsed = answers.parse(chunk, raw)
                    verdict = answers.verdict(raw, parsed)
                    if verdict is not Verdict.RETRY:
                        self._settle(chunk, None, raw.status, probe)  # Zoho answered
                        probe = False
                    if verdict is Verdict.REFRESH_TOKEN and replays < _MAX_TOKEN_REPLAYS:
                        rejected.add(token)
                        # The auth refreshes once for everyone (or hands out the token another
                        # caller refreshed meanwhile), outside any slot; replay with a new one.
                        try:
                            fresh = (
                                await self.auth.invalidate(token)
                                and await self.auth.token() not in rejected
                            )
                        except AuthError as error:
                            return answers.refused(chunk, error, None)
                        if fresh:
                            replays += 1
                            continue
                    if verdict is not Verdict.RETRY:
                        return answers.final(chunk, parsed, raw.status, verdict)
                    if raw.status == 429:
                        self.counters.throttled += 1
                    # Only an error answer is ever worth retrying, and those are all Parsed.
                    last = (cast(Parsed, parsed), raw.status)
                    retry_after = parse_retry_after(raw.headers.get("Retry-After"), time.time())
                # A transient failure: while Zoho is down it costs no try (wait at the gate).
                not_counted = self._settle(chunk, last[0], last[1], probe)
                probe = False
                if not_counted:
                    continue
                tries.tries += 1
                wait = tries.next_wait(time.monotonic() - held, retry_after)
                if wait is None:  # the tries ran out: the last transient failure is the outcome
                    return answers.failed(chunk, *last)
                self.counters.retries += 1
                replays = 0
                rejected.clear()
                _log_retry(request.method, request.path, last, tries.tries + 1, wait)
                await asyncio.sleep(wait)
        finally:
            if probe and self.outage is not None:  # the probe ended without an answer
                self.outage.abandoned()

    def _settle(
        self, chunk: Chunk, outcome: Parsed | Failed | None, status: int | None, probe: bool
    ) -> bool:
        """Tell the outage gate how a try ended; True if its failure is not counted against
        the chunk's tries (Zoho is down: the chunk waits at the gate instead)."""
        if self.outage is None:
            return False
        failure = transient(outcome, status) if outcome is not None else None
        if failure is None:
            self.outage.answered(probe)
            return False
        return self.outage.failed(chunk, failure, probe)

    def _note_credits(self, headers: Mapping[str, str]) -> None:
        remaining = parse_credits_remaining(headers.get(CREDITS_HEADER))
        if remaining is not None:
            self.credits_remaining = remaining


def _log_retry(
    method: str, path: str, last: tuple[Parsed | Failed, int | None], attempt: int, wait: float
) -> None:
    outcome, status = last
    log.info(
        "retrying %s %s after %s (HTTP %s), try %d, waiting %.2fs",
        method,
        path.split("?", 1)[0],
        _describe(outcome),
        status,
        attempt,
        wait,
    )


def _describe(outcome: Parsed | Failed) -> str:
    if isinstance(outcome, WholeCall):
        return outcome.answer.code or "an error object"
    if isinstance(outcome, Failed):
        return outcome.code
    return "an unreadable answer"
