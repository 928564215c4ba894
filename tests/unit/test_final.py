"""What the journal keeps as final: what Zoho said about the record; anything else is sent again."""

from __future__ import annotations

import pytest

from zcrm_related_async import Link, Result
from zcrm_related_async._cli.final import is_final

OP = Link("Campaigns", "1", "Leads", "2")


def result(status: str, code: str, http_status: int | None) -> Result:
    return Result(OP, status, code, "…", {}, http_status, 1)


@pytest.mark.parametrize(
    ("status", "code", "http_status"),
    [
        ("success", "SUCCESS", 200),
        ("success", "SUCCESS", 201),
        ("error", "INVALID_DATA", 207),  # one record of a partly failed call
        ("error", "INVALID_DATA", 400),
        ("error", "DUPLICATE_DATA", 202),
        ("error", "NO_PERMISSION", 403),
        ("error", "INVALID_URL_PATTERN", 404),
        ("error", "ALREADY_MODIFIED", 412),
    ],
)
def test_zohos_verdicts_on_the_records_are_final(status: str, code: str, http_status: int) -> None:
    assert is_final(result(status, code, http_status))


@pytest.mark.parametrize(
    ("code", "http_status"),
    [
        ("CONNECTION_ERROR", None),
        ("TIMEOUT", None),
        ("LIMITER_UNAVAILABLE", None),
        ("NOT_ATTEMPTED", None),
        ("CANCELLED", None),
        ("AUTH_FAILED", None),
        ("INTERNAL_ERROR", 500),
        ("SERVICE_UNAVAILABLE", 503),
        ("UNREADABLE_RESPONSE", 502),
        ("UNREADABLE_RESPONSE", 200),  # a body cut short
        ("NO_RESULT", 200),
        ("TOO_MANY_REQUESTS", 429),
        ("API_CREDITS_EXHAUSTED", 429),
        ("INVALID_TOKEN", 401),
        ("OAUTH_SCOPE_MISMATCH", 401),
        ("REQUEST_TIMEOUT", 408),
        ("A_CODE_OF_OURS_FROM_THE_FUTURE", None),
    ],
)
def test_transient_and_unknown_outcomes_are_not_final(code: str, http_status: int | None) -> None:
    assert not is_final(result("error", code, http_status))
