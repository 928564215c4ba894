"""Which outcomes are final: the journal keeps those, and the next run sends every other line
again. Decided by a positive rule (what Zoho said about the record), so a new transient code
is not final by default."""

from __future__ import annotations

from .._report import (
    API_CREDITS_EXHAUSTED,
    AUTH_FAILED,
    CANCELLED,
    CONNECTION_ERROR,
    LIMITER_UNAVAILABLE,
    NO_RESULT,
    NOT_ATTEMPTED,
    SUCCESS,
    TIMEOUT,
    UNREADABLE_RESPONSE,
    Result,
)

#: codes of this library's own that come with an HTTP status yet say nothing final
_OURS_WITH_A_STATUS = frozenset({UNREADABLE_RESPONSE, NO_RESULT})
#: codes that are never final, for the reader and the tests: ``is_final`` decides by what IS
#: final, so a code not listed here (a new one of ours) is not final either
NOT_FINAL = frozenset(
    {
        NOT_ATTEMPTED,
        CANCELLED,
        CONNECTION_ERROR,
        TIMEOUT,
        UNREADABLE_RESPONSE,
        NO_RESULT,
        LIMITER_UNAVAILABLE,
        API_CREDITS_EXHAUSTED,
        AUTH_FAILED,
        "INVALID_TOKEN",
        "INVALID_OAUTHTOKEN",
        "AUTHENTICATION_FAILURE",
        "OAUTH_SCOPE_MISMATCH",
        "INTERNAL_ERROR",
        "TOO_MANY_REQUESTS",
    }
)


def is_final(result: Result) -> bool:
    """Whether a line's outcome is final, so the journal keeps it and no run sends it again.

    Final is what Zoho said about the record or the call: a success, or an error Zoho answered
    with a 2xx or 4xx status (``INVALID_DATA``, ``NO_PERMISSION`` ...), but for 401 (the
    credentials, not the record: fix them and run again), 408 and 429. Everything else is sent
    again by the next run: no answer at all (connection errors, timeouts, an outage's give-up,
    the limiter unavailable, never sent, cancelled in flight), 5xx, 408 and 429 after their
    retries, spent credits, answers that could not be read. Every operation here is safe to
    repeat.
    """
    if result.status == SUCCESS:
        return True
    status = result.http_status
    if status is None or status >= 500 or status in (401, 408, 429):
        return False
    return result.code not in _OURS_WITH_A_STATUS and result.code != API_CREDITS_EXHAUSTED
