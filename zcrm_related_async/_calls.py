"""Sending one chunk: token, place, slot, request, verdict, retry. The only retry loop there is.

A slot of the org's limit is held for the HTTP request alone: waiting out a backoff or a token
refresh holds none, so other chunks keep the org busy meanwhile. Before each request the job's
gate says whether it may still spend a credit (credits not spent, budget not reached).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any, Protocol

import aiohttp
import attrs
import backoff
from backoff.types import Details

from ._auth import Auth
from ._batching import Chunk
from ._config import BACKOFF_BASE, BACKOFF_CAP, RETRY_AFTER_CAP
from ._exceptions import AuthError, LimiterUnavailableError
from ._limiter import AdaptiveWindow, Limiter
from ._merge import ChunkPart, Failed
from ._outage import OutageGate, OutageGaveUp, transient
from ._report import (
    API_CREDITS_EXHAUSTED,
    AUTH_FAILED,
    LIMITER_UNAVAILABLE,
    NOT_SENT_CREDITS,
)
from ._retry import CREDITS_HEADER, Verdict, classify, parse_retry_after, retry_wait
from ._transport import RawResponse, TransportError, send
from ._wire import Parsed, WholeCall, build_request, parse_response

log = logging.getLogger("zcrm_related_async")

#: Replays with a token another caller refreshed meanwhile (no refresh of our own).
_MAX_CATCH_UPS = 3


class Gate(Protocol):
    """The job's say on each request."""

    def admit(self) -> Failed | None:
        """``None``: send (one credit is spent); otherwise why the job sends nothing more."""


@attrs.frozen
class CallOutcome:
    """What became of one chunk after all its tries."""

    part: ChunkPart
    attempts: int
    credits_exhausted: bool


class _NotSent(Exception):
    def __init__(self, outcome: Failed) -> None:
        super().__init__(outcome.code)
        self.outcome = outcome


class _Held(Exception):
    """outage gate: it closed while this try waited for a slot: back to the gate."""


class _TryAgain(Exception):
    def __init__(
        self, outcome: Parsed | Failed, http_status: int | None, retry_after: float | None
    ):
        super().__init__(_describe(outcome))
        self.outcome = outcome
        self.http_status = http_status
        self.retry_after = retry_after


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
    #: requests sent so far
    calls: int = 0
    #: outage gate: the client's, shared by every chunk (None: no gate)
    outage: OutageGate | None = None

    def _waits(self) -> Generator[float, Any, None]:
        # backoff primes the generator with send(None), then sends each _TryAgain.
        error = yield 0.0
        retry = 0
        while True:
            retry += 1
            after = error.retry_after if isinstance(error, _TryAgain) else None
            error = yield retry_wait(
                retry,
                after,
                base=self.backoff_base,
                cap=self.backoff_cap,
                retry_after_cap=RETRY_AFTER_CAP,
                random=self.random,
            )

    async def _request(
        self,
        chunk: Chunk,
        gate: Gate,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        probe: bool = False,
    ) -> RawResponse:
        """One request under a place in the window and a slot of the limiter."""
        epoch = await self.window.acquire() if self.window else 0
        throttled: bool | None = None
        try:
            async with self.limiter.slot():
                if not probe and self.outage is not None and not self.outage.open:
                    raise _Held  # outage gate: closed while this try waited for its slot
                stop = gate.admit()
                if stop is not None:
                    raise _NotSent(stop)
                chunk.attempts += 1
                self.calls += 1
                raw = await send(
                    self.session(),
                    method,
                    url,
                    headers,
                    body,
                    aiohttp.ClientTimeout(total=self.timeout),
                )
            throttled = raw.status == 429
        finally:
            if self.window:
                self.window.release(epoch, throttled)
        # Let the call waiting for this slot go out before this one's answer is read: reading
        # it takes a while, and the org's slot would sit idle meanwhile.
        await asyncio.sleep(0)
        return raw

    async def send(self, chunk: Chunk, gate: Gate) -> CallOutcome:
        """Carry ``chunk`` through its tries."""
        request = build_request(self.version, chunk)
        url = self.api_domain + request.path
        headers = {"Content-Type": "application/json"} if request.body is not None else {}
        if request.external:
            headers["X-EXTERNAL"] = request.external
        exhausted = False
        last: tuple[Parsed | Failed, int | None] | None = None
        # outage gate: seconds this chunk waited at it (not retrying), and whether its try
        # in flight is the gate's probe
        held = 0.0
        probe = False
        started = time.monotonic()

        def settle(outcome: Parsed | Failed | None, status: int | None) -> bool:
            """outage gate: tell it how the try ended; True if the failure is not counted."""
            nonlocal probe
            was_probe, probe = probe, False
            if self.outage is None:
                return False
            failure = transient(outcome, status) if outcome is not None else None
            if failure is None:
                self.outage.answered(was_probe)
                return False
            return self.outage.failed(chunk, failure, was_probe)

        async def attempt() -> tuple[Parsed, int]:
            nonlocal exhausted, last, held, probe
            refreshed = False
            catch_ups = 0
            while True:
                if self.outage is not None and not self.outage.open:  # outage gate
                    waited = time.monotonic()
                    probe = await self.outage.enter()
                    held += time.monotonic() - waited
                token = await self.auth.token(self.session(), self.accounts_url, self.timeout)
                headers["Authorization"] = f"Zoho-oauthtoken {token}"
                try:
                    raw = await self._request(
                        chunk, gate, request.method, url, headers, request.body, probe
                    )
                except _Held:  # outage gate
                    continue
                except TransportError as exc:
                    last = (Failed(exc.code, exc.message), None)
                    if settle(last[0], None):  # outage gate: wait for Zoho, no try spent
                        continue
                    raise _TryAgain(last[0], None, None) from None
                except LimiterUnavailableError as exc:  # nothing was sent: try again later
                    unavailable = Failed(LIMITER_UNAVAILABLE, str(exc))
                    if settle(unavailable, None):  # outage gate
                        continue
                    raise _TryAgain(unavailable, None, None) from None
                self._note_credits(raw.headers)
                parsed = parse_response(raw.body, chunk)
                verdict = classify(raw.status, parsed, raw.headers)
                if verdict is Verdict.RETRY:
                    last = (parsed, raw.status)
                    if settle(parsed, raw.status):  # outage gate: wait for Zoho, no try spent
                        continue
                    after = parse_retry_after(raw.headers.get("Retry-After"), time.time())
                    raise _TryAgain(parsed, raw.status, after)
                settle(None, raw.status)  # outage gate: Zoho answered
                if verdict is Verdict.REFRESH_TOKEN:
                    if not self.auth.is_current(token) and catch_ups < _MAX_CATCH_UPS:
                        catch_ups += 1  # another caller refreshed meanwhile: use its token
                        continue
                    if not refreshed and await self.auth.invalidate(token):
                        refreshed = True  # refresh once (for everyone), replay once
                        continue
                exhausted = verdict is Verdict.CREDITS_EXHAUSTED
                return parsed, raw.status

        retrying = backoff.on_exception(
            self._waits,
            _TryAgain,
            max_tries=self.max_tries,
            # outage gate: time waiting at the gate is not retrying
            giveup=lambda _: time.monotonic() - started - held >= self.max_retry_time,
            jitter=None,
            logger=None,
            on_backoff=_log_backoff(request.method, request.path),
        )(attempt)
        outcome: Parsed | Failed
        status: int | None
        try:
            outcome, status = await retrying()
        except _TryAgain as gave_up:
            outcome, status = gave_up.outcome, gave_up.http_status
        except AuthError as exc:
            outcome, status = Failed(AUTH_FAILED, str(exc)), None
        except _NotSent as stopped:
            # Tried before and stopped now: the last answer is the truth; never tried: not sent.
            outcome, status = last if last is not None else (stopped.outcome, None)
        except OutageGaveUp as down:  # outage gate: Zoho down for max_outage
            outcome, status = down.outcome(last)
        finally:
            if probe and self.outage is not None:  # outage gate: the probe ended unanswered
                self.outage.abandoned()
        if exhausted and isinstance(outcome, WholeCall):
            outcome = Failed(API_CREDITS_EXHAUSTED, outcome.answer.message or NOT_SENT_CREDITS)
        part = ChunkPart(chunk, outcome, status, chunk.attempts)
        return CallOutcome(part, chunk.attempts, exhausted)

    def _note_credits(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get(CREDITS_HEADER)
        if remaining is not None:
            with contextlib.suppress(ValueError):  # a header we cannot read tells nothing
                self.credits_remaining = int(float(remaining))


def _log_backoff(method: str, path: str) -> Callable[[Details], None]:
    def on_backoff(details: Details) -> None:
        error = details.get("exception")
        why = str(error) if isinstance(error, _TryAgain) else "?"
        status = error.http_status if isinstance(error, _TryAgain) else None
        log.info(
            "retrying %s %s after %s (HTTP %s), try %d, waiting %.2fs",
            method,
            path.split("?", 1)[0],
            why,
            status,
            details["tries"] + 1,
            details["wait"],
        )

    return on_backoff


def _describe(outcome: Parsed | Failed) -> str:
    if isinstance(outcome, WholeCall):
        return outcome.answer.code or "an error object"
    if isinstance(outcome, Failed):
        return outcome.code
    return "an unreadable answer"
