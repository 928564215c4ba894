"""``classify``, ``credits_exhausted``, ``parse_retry_after`` and ``retry_wait``."""

from __future__ import annotations

import calendar
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from multidict import CIMultiDict

from zcrm_related_async._retry import (
    CREDITS_HEADER,
    RetryBudget,
    Verdict,
    classify,
    credits_exhausted,
    parse_credits_remaining,
    parse_retry_after,
    retry_wait,
)
from zcrm_related_async._wire import Answer, Parsed, PerRecord, Unreadable, WholeCall


def whole(code: str, message: str = "m") -> WholeCall:
    return WholeCall(Answer("error", code, message, {}))


DATA = PerRecord([Answer("success", "SUCCESS", "relation added", {"id": "1"}), None])
UNREADABLE = Unreadable("not JSON (120 bytes)")
CONCURRENCY = "You have made too many requests. Please try again after some time."

CLASSIFY: list[Any] = [
    # a data list: Zoho processed the call, whatever the status
    *[
        pytest.param(s, DATA, {}, Verdict.DONE, id=f"data-{s}")
        for s in (200, 201, 202, 207, 400, 429, 500)
    ],
    # 429 for concurrency
    pytest.param(
        429, whole("TOO_MANY_REQUESTS", CONCURRENCY), {}, Verdict.RETRY, id="429-concurrency"
    ),
    pytest.param(429, whole("TOO_MANY_REQUESTS", ""), {}, Verdict.RETRY, id="429-no-message"),
    pytest.param(
        429,
        whole("TOO_MANY_REQUESTS", CONCURRENCY),
        {CREDITS_HEADER: "17"},
        Verdict.RETRY,
        id="429-credits-left",
    ),
    pytest.param(200, whole("TOO_MANY_REQUESTS", CONCURRENCY), {}, Verdict.RETRY, id="code-429"),
    # 429 for spent credits
    pytest.param(
        429,
        whole("TOO_MANY_REQUESTS", CONCURRENCY),
        {CREDITS_HEADER: "0"},
        Verdict.CREDITS_EXHAUSTED,
        id="429-credits-header-0",
    ),
    pytest.param(
        429,
        whole("TOO_MANY_REQUESTS", "You have exhausted your API credits for the day"),
        {},
        Verdict.CREDITS_EXHAUSTED,
        id="429-credits-message",
    ),
    # 5xx and 408
    *[
        pytest.param(s, whole("INTERNAL_ERROR"), {}, Verdict.RETRY, id=f"whole-{s}")
        for s in (500, 502, 503, 504)
    ],
    pytest.param(408, whole("REQUEST_TIMEOUT"), {}, Verdict.RETRY, id="408"),
    # other 4xx: the same request gets the same answer
    pytest.param(400, whole("INVALID_MODULE"), {}, Verdict.DONE, id="400-invalid-module"),
    pytest.param(400, whole("INVALID_DATA"), {}, Verdict.DONE, id="400-invalid-data"),
    pytest.param(403, whole("NO_PERMISSION"), {}, Verdict.DONE, id="403"),
    pytest.param(404, whole("INVALID_URL_PATTERN"), {}, Verdict.DONE, id="404"),
    pytest.param(412, whole("ALREADY_MODIFIED"), {}, Verdict.DONE, id="412"),
    pytest.param(401, whole("SOMETHING_ELSE"), {}, Verdict.DONE, id="401-unknown-code"),
    # expired token: refresh; scope mismatch: never
    *[
        pytest.param(401, whole(code), {}, Verdict.REFRESH_TOKEN, id=f"401-{code}")
        for code in ("INVALID_TOKEN", "INVALID_OAUTHTOKEN", "AUTHENTICATION_FAILURE")
    ],
    pytest.param(401, whole("OAUTH_SCOPE_MISMATCH"), {}, Verdict.DONE, id="401-scope-mismatch"),
    # a body that could not be read
    pytest.param(200, UNREADABLE, {}, Verdict.RETRY, id="unreadable-200"),
    pytest.param(502, UNREADABLE, {}, Verdict.RETRY, id="unreadable-502"),
    pytest.param(503, UNREADABLE, {}, Verdict.RETRY, id="unreadable-503"),
    pytest.param(408, UNREADABLE, {}, Verdict.RETRY, id="unreadable-408"),
    pytest.param(429, UNREADABLE, {}, Verdict.RETRY, id="unreadable-429"),
    pytest.param(404, UNREADABLE, {}, Verdict.DONE, id="unreadable-404"),
    pytest.param(400, UNREADABLE, {}, Verdict.DONE, id="unreadable-400"),
    # a refused token whose body was cut on the way: refresh once, as for INVALID_TOKEN
    pytest.param(401, UNREADABLE, {}, Verdict.REFRESH_TOKEN, id="unreadable-401"),
]


@pytest.mark.parametrize(("status", "parsed", "headers", "verdict"), CLASSIFY)
def test_classify(
    status: int, parsed: Parsed, headers: Mapping[str, str], verdict: Verdict
) -> None:
    assert classify(status, parsed, headers) is verdict


@pytest.mark.parametrize(
    "message",
    [
        "You have exhausted your API credits for the day",
        "API credit limit reached",
        "The API limit for the day has been exceeded",
        "Maximum number of API calls per day reached",
        "Daily API limit exceeded",
        "DAILY LIMIT EXCEEDED",
    ],
)
def test_credits_message_variants_unconfirmed(message: str) -> None:
    assert credits_exhausted(message, {})
    assert classify(429, whole("TOO_MANY_REQUESTS", message), {}) is Verdict.CREDITS_EXHAUSTED


@pytest.mark.parametrize(
    "message",
    [
        CONCURRENCY,
        "Concurrency limit exceeded",
        "too many concurrent requests for the day",  # concurrency wins over "for the day"
        "Rate limit exceeded",
        "",
    ],
)
def test_concurrency_message_variants_are_not_credits_unconfirmed(message: str) -> None:
    assert not credits_exhausted(message, {})
    assert classify(429, whole("TOO_MANY_REQUESTS", message), {}) is Verdict.RETRY


@pytest.mark.parametrize(
    ("remaining", "message", "exhausted"),
    [
        ("0", CONCURRENCY, True),
        ("0.0", CONCURRENCY, True),
        ("-1", CONCURRENCY, True),
        ("1", "You have exhausted your API credits", False),  # the header wins over the text
        ("250000", "daily", False),
        ("n/a", "daily limit exceeded", True),  # unreadable header: fall back to the message
        ("n/a", CONCURRENCY, False),
    ],
)
def test_credits_header_decides_when_readable(
    remaining: str, message: str, exhausted: bool
) -> None:
    assert credits_exhausted(message, {CREDITS_HEADER: remaining}) is exhausted


def test_credits_header_is_found_whatever_its_case_in_real_headers() -> None:
    headers = CIMultiDict({"x-api-credits-remaining": "0"})
    assert (
        classify(429, whole("TOO_MANY_REQUESTS", CONCURRENCY), headers) is Verdict.CREDITS_EXHAUSTED
    )


def test_unreadable_429_with_no_credits_left_fails_fast_unconfirmed() -> None:
    # Zoho's header says no credit is left: retrying the same call cannot succeed, even when
    # the body of the 429 could not be read.
    assert classify(429, UNREADABLE, {CREDITS_HEADER: "0"}) is Verdict.CREDITS_EXHAUSTED


def test_success_with_no_credits_left_is_still_done() -> None:
    assert classify(200, DATA, {CREDITS_HEADER: "0"}) is Verdict.DONE


# -- Retry-After -------------------------------------------------------------------------------

NOW = float(calendar.timegm((2015, 10, 21, 7, 27, 50, 0, 0, 0)))


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-5", 0.0),  # never a negative wait
        ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past
        ("Wed, 21 Oct 2015 09:28:00 +0200", 10.0),
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.fixture
def local_time_zone_new_york() -> Iterator[None]:
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.mark.usefixtures("local_time_zone_new_york")
@pytest.mark.parametrize(
    "value",
    [
        "Wed, 21 Oct 2015 07:28:00 GMT",
        # asctime(): an obsolete HTTP-date form recipients must accept (RFC 9110, 5.6.7); it
        # is GMT like the others, whatever the local time zone.
        "Wed Oct 21 07:28:00 2015",
    ],
)
def test_parse_retry_after_reads_http_dates_as_gmt_whatever_the_local_time_zone(value: str) -> None:
    assert time.timezone != 0  # the fixture did change the local time zone
    assert parse_retry_after(value, NOW) == 10.0


# -- waits -------------------------------------------------------------------------------------

WAIT: dict[str, float] = {"base": 0.5, "cap": 30.0, "retry_after_cap": 60.0}


def never() -> float:
    raise AssertionError("no jitter is drawn when Retry-After decides")


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [(5.0, 5.0), (0.0, 0.0), (60.0, 60.0), (120.0, 60.0), (float("inf"), 60.0)],
)
def test_retry_after_is_honoured_and_capped(retry_after: float, wait: float) -> None:
    assert retry_wait(3, retry_after, random=never, **WAIT) == wait


@pytest.mark.parametrize(
    ("retry_number", "ceiling"),
    [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (6, 16.0), (7, 30.0), (8, 30.0), (50, 30.0)],
)
def test_backoff_grows_exponentially_to_the_cap_with_equal_jitter(
    retry_number: int, ceiling: float
) -> None:
    low = retry_wait(retry_number, None, random=lambda: 0.0, **WAIT)
    high = retry_wait(retry_number, None, random=lambda: 1.0, **WAIT)
    mid = retry_wait(retry_number, None, random=lambda: 0.5, **WAIT)
    assert (low, mid, high) == (ceiling / 2, ceiling * 0.75, ceiling)


def test_backoff_stays_at_the_cap_for_very_many_retries() -> None:
    # 2.0 ** 1024 overflows a float: the ceiling must be capped before it is computed.
    assert retry_wait(1025, None, random=lambda: 1.0, **WAIT) == 30.0
    assert retry_wait(10_000, None, random=lambda: 0.0, **WAIT) == 15.0


def test_backoff_with_other_base_and_cap() -> None:
    waits = [
        retry_wait(n, None, base=2.0, cap=10.0, retry_after_cap=60.0, random=lambda: 1.0)
        for n in (1, 2, 3, 4)
    ]
    assert waits == [2.0, 4.0, 8.0, 10.0]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("995", 995),
        ("12.7", 12),
        ("0", 0),
        ("-3", -3),
        ("1e999", None),  # int(float(...)) raised OverflowError out of the job
        ("-1e999", None),
        ("inf", None),
        ("nan", None),
        ("", None),
        ("lots", None),
    ],
)
def test_credits_remaining_is_read_defensively(header: str | None, expected: int | None) -> None:
    assert parse_credits_remaining(header) == expected


def budget(**changes: float) -> RetryBudget:
    options: dict[str, Any] = {
        "max_tries": 3,
        "max_time": 10.0,
        "started": 100.0,
        "base": 1.0,
        "cap": 8.0,
        "retry_after_cap": 60.0,
        "random": lambda: 1.0,
    }
    options.update(changes)
    return RetryBudget(**options)


def test_a_retry_budget_waits_more_each_time_then_gives_up_after_max_tries() -> None:
    tries = budget()
    waits = []
    for _ in range(3):
        tries.tries += 1
        waits.append(tries.next_wait(100.0, None))
    assert waits == [1.0, 2.0, None]


def test_a_retry_budget_never_waits_past_max_time_and_then_gives_up() -> None:
    tries = budget(max_tries=10)
    tries.tries = 1
    assert tries.next_wait(109.5, None) == 0.5  # 1 s asked, 0.5 s left
    assert tries.next_wait(110.0, None) is None
    assert tries.next_wait(100.0, 30.0) == 10.0  # Retry-After, capped by the time left
