"""What one chunk's call ends in: a :class:`CallOutcome`, the chunk's part of the report and,
when the job must send nothing more, the :class:`Stop` that says why. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from ._batching import Chunk
from ._exceptions import AuthError, ClientClosedError, CreditsExhaustedError, ZohoError
from ._merge import ChunkPart, Failed
from ._report import (
    API_CREDITS_EXHAUSTED,
    AUTH_FAILED,
    NOT_ATTEMPTED,
    NOT_SENT_CREDITS,
    REQUEST_TOO_LARGE,
    Report,
)
from ._retry import Verdict, classify
from ._wire import Parsed, PerRecord, WholeCall, parse_response

if TYPE_CHECKING:
    from ._transport import RawResponse

_TOO_LARGE = Failed(REQUEST_TOO_LARGE, "Zoho refused the call as too large (HTTP 413)")


@attrs.frozen
class Stop:
    """Why a job sends nothing more: ``failed`` is the outcome of what it does not send, and
    the job ends by raising ``error(message, report)``."""

    failed: Failed
    error: Callable[[str, Report], ZohoError]
    message: str


@attrs.frozen
class CallOutcome:
    """What became of one chunk after all its tries; ``stop``, if set, stops the whole job."""

    part: ChunkPart
    stop: Stop | None = None


_CREDITS_SPENT = Stop(
    Failed(API_CREDITS_EXHAUSTED, NOT_SENT_CREDITS),
    CreditsExhaustedError,
    "Zoho says the org's API credits for the day are spent",
)


def _closed(error: ClientClosedError) -> Stop:
    return Stop(Failed(NOT_ATTEMPTED, f"not sent: {error}"), ClientClosedError, str(error))


class ChunkAnswers:
    """A chunk's call: every end is a :class:`CallOutcome`, never an exception."""

    def parse(self, chunk: Chunk, raw: RawResponse) -> Parsed:
        return parse_response(raw.body, chunk)

    def verdict(self, raw: RawResponse, parsed: Parsed) -> Verdict:
        return classify(raw.status, parsed, raw.headers)

    def final(self, chunk: Chunk, parsed: Parsed, status: int, verdict: Verdict) -> CallOutcome:
        if verdict is Verdict.CREDITS_EXHAUSTED:
            message = parsed.answer.message if isinstance(parsed, WholeCall) else ""
            failed = Failed(API_CREDITS_EXHAUSTED, message or NOT_SENT_CREDITS)
            return _done(chunk, failed, status, _CREDITS_SPENT)
        if status == 413 and not isinstance(parsed, PerRecord):
            return _done(chunk, _TOO_LARGE, status)
        return _done(chunk, parsed, status)

    def failed(self, chunk: Chunk, outcome: Parsed | Failed, status: int | None) -> CallOutcome:
        return _done(chunk, outcome, status)

    def refused(
        self,
        chunk: Chunk,
        error: AuthError | ClientClosedError,
        last: tuple[Parsed | Failed, int | None] | None,
    ) -> CallOutcome:
        if isinstance(error, AuthError):
            return _done(chunk, Failed(AUTH_FAILED, str(error)), None)
        stop = _closed(error)
        # Tried before: the last answer is the truth; never tried: not sent.
        outcome, status = last if last is not None else (stop.failed, None)
        return _done(chunk, outcome, status, stop)


CHUNK_ANSWERS = ChunkAnswers()


def _done(
    chunk: Chunk, outcome: Parsed | Failed, status: int | None, stop: Stop | None = None
) -> CallOutcome:
    return CallOutcome(ChunkPart(chunk, outcome, status, chunk.attempts), stop)
