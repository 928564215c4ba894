"""Sending one chunk: token, slot, request, verdict, retry. The only retry loop there is.

A slot of the org's limit is held for the HTTP request alone: waiting out a backoff or a token
refresh holds none, so other chunks keep the org busy meanwhile.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import aiohttp
import attrs
import backoff
from backoff.types import Details

from ._auth import Auth
from ._batching import Chunk
from ._config import BACKOFF_BASE, BACKOFF_CAP, RETRY_AFTER_CAP
from ._exceptions import AuthError
from ._limiter import Limiter
from ._merge import Failed, chunk_results
from ._report import API_CREDITS_EXHAUSTED, AUTH_FAILED, NOT_SENT_CREDITS, Result
from ._retry import Verdict, classify, parse_retry_after, retry_wait
from ._transport import TransportError, send
from ._wire import Parsed, WholeCall, build_request, parse_response

log = logging.getLogger("zcrm_related_async")


@attrs.frozen
class CallOutcome:
    """What became of one chunk after all its tries."""

    results: Iterator[tuple[int, Result]]
    attempts: int
    credits_exhausted: bool


_MAX_CATCH_UPS = 3


class _NotSent(Exception):
    """The job stopped (API credits spent) before this chunk's next request."""


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
    timeout: float
    max_tries: int
    max_retry_time: float
    backoff_base: float = BACKOFF_BASE
    backoff_cap: float = BACKOFF_CAP
    random: Callable[[], float] = random.random

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

    async def send(self, chunk: Chunk, stopped: Callable[[], bool]) -> CallOutcome:
        """Carry ``chunk`` through its tries; ``stopped()`` true means send nothing more."""
        request = build_request(self.version, chunk)
        url = self.api_domain + request.path
        headers = {"Content-Type": "application/json"} if request.body is not None else {}
        if request.external:
            headers["X-EXTERNAL"] = request.external
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        attempts = 0
        exhausted = False

        async def attempt() -> tuple[Parsed, int]:
            nonlocal attempts, exhausted
            refreshed = False
            catch_ups = 0
            while True:
                token = await self.auth.token(self.session(), self.accounts_url, self.timeout)
                async with self.limiter.slot():
                    if stopped():
                        raise _NotSent
                    attempts += 1
                    chunk.attempts = attempts
                    try:
                        raw = await send(
                            self.session(),
                            request.method,
                            url,
                            {**headers, "Authorization": f"Zoho-oauthtoken {token}"},
                            request.body,
                            timeout,
                        )
                    except TransportError as exc:
                        raise _TryAgain(Failed(exc.code, exc.message), None, None) from None
                parsed = parse_response(raw.body, chunk)
                verdict = classify(raw.status, parsed, raw.headers)
                if verdict is Verdict.RETRY:
                    after = parse_retry_after(raw.headers.get("Retry-After"), time.time())
                    raise _TryAgain(parsed, raw.status, after)
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
            max_time=self.max_retry_time,
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
        except _NotSent:
            outcome, status = Failed(API_CREDITS_EXHAUSTED, NOT_SENT_CREDITS), None
        if exhausted and isinstance(outcome, WholeCall):
            outcome = Failed(API_CREDITS_EXHAUSTED, outcome.answer.message or NOT_SENT_CREDITS)
        return CallOutcome(chunk_results(chunk, outcome, status, attempts), attempts, exhausted)


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
