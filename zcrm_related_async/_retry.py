"""What to do with an answer, and how long to wait before trying again. Pure functions.

Worth retrying: 429 for concurrency, 408, 5xx, connection errors, timeouts and bodies that
cannot be read. Never: other 4xx (the same request gets the same answer). A 429 that says the
day's API credits are spent stops the job (waiting hours helps nobody). A 401 for an expired
token is answered by a refresh (once for everyone) and a replay with the new token (at most
three a try, see ``_calls``), never for ``OAUTH_SCOPE_MISMATCH``.
"""

from __future__ import annotations

import datetime
import email.utils
import enum
from collections.abc import Callable, Mapping

import attrs

from ._wire import Parsed, PerRecord, Unreadable

#: Zoho's codes for a token that is expired or unknown (a refresh helps).
TOKEN_EXPIRED_CODES = frozenset({"INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE"})
CREDITS_HEADER = "X-API-CREDITS-REMAINING"


class Verdict(enum.Enum):
    DONE = "done"  # the answer stands, per record or for the whole call
    RETRY = "retry"
    REFRESH_TOKEN = "refresh_token"
    CREDITS_EXHAUSTED = "credits_exhausted"


def _retryable_status(status: int) -> bool:
    return status in (408, 429) or status >= 500


def classify(status: int, parsed: Parsed, headers: Mapping[str, str]) -> Verdict:
    """The verdict on one HTTP answer."""
    if isinstance(parsed, PerRecord):
        return Verdict.DONE  # Zoho processed the call: whatever the status, the records say
    if isinstance(parsed, Unreadable):
        if status == 401:
            # The token was refused even if the body (INVALID_TOKEN, most likely) was cut on
            # the way: refresh and replay, as for a readable INVALID_TOKEN. Found by
            # the chaos run: a truncated 401 otherwise failed a whole chunk at its first try.
            return Verdict.REFRESH_TOKEN
        if status == 429 and credits_exhausted("", headers):
            return Verdict.CREDITS_EXHAUSTED
        return Verdict.RETRY if _retryable_status(status) or status < 400 else Verdict.DONE
    code = parsed.answer.code
    if status == 429 or code == "TOO_MANY_REQUESTS":
        if credits_exhausted(parsed.answer.message, headers):
            return Verdict.CREDITS_EXHAUSTED
        return Verdict.RETRY
    if code in TOKEN_EXPIRED_CODES:
        return Verdict.REFRESH_TOKEN
    return Verdict.RETRY if _retryable_status(status) else Verdict.DONE


def credits_exhausted(message: str, headers: Mapping[str, str]) -> bool:
    """Tell a spent daily credit allowance from a concurrency 429.

    Zoho documents no distinct code, so read ``X-API-CREDITS-REMAINING`` when present and the
    message otherwise (*unconfirmed* wording: "credit", "for the day", "per day", "daily").
    """
    remaining = headers.get(CREDITS_HEADER)
    if remaining is not None:
        try:
            return float(remaining) <= 0
        except ValueError:
            pass
    text = message.lower()
    if "concurren" in text:
        return False
    return any(word in text for word in ("credit", "for the day", "per day", "daily"))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if usable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # HTTP dates are GMT, whatever the local time zone
            when = when.replace(tzinfo=datetime.timezone.utc)
        seconds = when.timestamp() - now
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is no answer


def retry_wait(
    retry_number: int,
    retry_after: float | None,
    *,
    base: float,
    cap: float,
    retry_after_cap: float,
    random: Callable[[], float],
) -> float:
    """Seconds before retry number ``retry_number`` (1 for the first retry).

    ``Retry-After`` wins (capped); otherwise exponential backoff with "equal jitter": half the
    ceiling fixed, half random, so clients that failed together spread out but never hammer.
    """
    if retry_after is not None:
        return min(retry_after, retry_after_cap)
    ceiling = min(cap, base * 2.0 ** min(retry_number - 1, 64))  # 2.0**1100 overflows
    return ceiling / 2 + random() * ceiling / 2


def parse_credits_remaining(value: str | None) -> int | None:
    """``X-API-CREDITS-REMAINING`` as a whole number, if it reads as one.

    Read defensively: it comes off the network, and ``int(float("1e999"))`` raises
    ``OverflowError`` (found by trying it), ``"nan"`` is no number at all.
    """
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number)


@attrs.define
class RetryBudget:
    """One chunk's tries: how many it made, since when, and whether another may follow. Pure.

    ``next_wait`` is asked after each failed try that says nothing about the records (a 5xx,
    a 429 for concurrency, no answer at all): the seconds to wait before the next try, or
    ``None`` when the chunk has had its ``max_tries`` or ``max_time`` (then the last failure
    is its outcome). A wait never runs past ``max_time``.
    """

    max_tries: int
    max_time: float
    started: float
    base: float
    cap: float
    retry_after_cap: float
    random: Callable[[], float]
    tries: int = 0

    def next_wait(self, now: float, retry_after: float | None) -> float | None:
        elapsed = now - self.started
        if self.tries >= self.max_tries or elapsed >= self.max_time:
            return None
        wait = retry_wait(
            self.tries,
            retry_after,
            base=self.base,
            cap=self.cap,
            retry_after_cap=self.retry_after_cap,
            random=self.random,
        )
        return max(0.0, min(wait, self.max_time - elapsed))
