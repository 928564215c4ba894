"""``parse_token_response``: what the accounts server answers to ``POST /oauth/v2/token``."""

from __future__ import annotations

import json

import pytest

from tests.unit.builders import body, sample
from zcrm_related_async import RefreshThrottledError, TokenRefreshError
from zcrm_related_async._wire import TokenAnswer, TransientRefreshError, parse_token_response

TOKEN = json.loads(sample("token_ok.json"))["access_token"]


def test_normal_answer() -> None:
    answer = parse_token_response(200, sample("token_ok.json"))
    assert answer == TokenAnswer(TOKEN, 3600.0, "https://www.zohoapis.eu")


def test_expires_in_sec_wins_and_milliseconds_expires_in_is_ignored() -> None:
    answer = parse_token_response(200, sample("token_expires_in_sec.json"))
    assert answer.expires_in == 3600.0
    assert answer.api_domain == "https://www.zohoapis.com"


@pytest.mark.parametrize(
    ("doc", "expires_in"),
    [
        ({"expires_in": 1800}, 1800.0),
        ({"expires_in": 59.5}, 59.5),
        ({"expires_in_sec": 120, "expires_in": 120000}, 120.0),
        ({"expires_in_sec": "3600", "expires_in": 900}, 900.0),
        ({}, 3600.0),
        ({"expires_in": 0}, 3600.0),
        ({"expires_in": -5}, 3600.0),
        ({"expires_in": "soon"}, 3600.0),
    ],
)
def test_lifetime_is_read_from_expires_in_sec_first_then_expires_in(
    doc: dict[str, object], expires_in: float
) -> None:
    answer = parse_token_response(200, body({"access_token": "t", **doc}))
    assert answer.expires_in == expires_in


@pytest.mark.parametrize("domain", [None, 5, ["https://x"]])
def test_api_domain_that_is_not_a_str_is_dropped(domain: object) -> None:
    doc = {"access_token": "t", "expires_in": 3600, "api_domain": domain}
    assert parse_token_response(200, body(doc)).api_domain is None


@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize(
    "raw",
    [
        sample("token_access_denied.json"),
        b'{"error":"Access Denied"}',
        b'{"error":" access denied "}',
    ],
)
def test_access_denied_means_refreshes_are_throttled(status: int, raw: bytes) -> None:
    with pytest.raises(RefreshThrottledError, match="throttle"):
        parse_token_response(status, raw)


@pytest.mark.parametrize(
    ("status", "raw"),
    [
        (200, sample("token_invalid_client.json")),
        (400, b'{"error":"invalid_client"}'),
        (200, b'{"error":"invalid_code"}'),
        (401, b'{"error":"invalid_client_secret"}'),
    ],
)
def test_refused_refresh_is_a_token_refresh_error_not_transient(status: int, raw: bytes) -> None:
    with pytest.raises(TokenRefreshError) as caught:
        parse_token_response(status, raw)
    assert type(caught.value) is TokenRefreshError
    assert json.loads(raw)["error"] in str(caught.value)


@pytest.mark.parametrize(
    ("status", "raw"),
    [
        (502, sample("gateway_502.html")),
        (200, sample("gateway_502.html")),
        (500, b'{"error":"internal error"}'),
        (503, b""),
        (200, b"[]"),
        (200, b'"token"'),
        (200, b'{"access_token'),
        (200, b"[" * 100_000 + b"]" * 100_000),
    ],
)
def test_5xx_or_non_json_answer_is_transient(status: int, raw: bytes) -> None:
    with pytest.raises(TransientRefreshError):
        parse_token_response(status, raw)


@pytest.mark.parametrize(
    "doc",
    [
        {"expires_in": 3600, "api_domain": "https://www.zohoapis.com"},
        {"access_token": "", "expires_in": 3600},
        {"access_token": None},
        {"access_token": 12345},
    ],
)
def test_missing_access_token_is_a_token_refresh_error(doc: dict[str, object]) -> None:
    with pytest.raises(TokenRefreshError, match="without a token"):
        parse_token_response(200, body(doc))


def test_repr_of_token_answer_does_not_show_the_token() -> None:
    answer = parse_token_response(200, sample("token_ok.json"))
    assert answer.access_token == TOKEN
    assert TOKEN not in repr(answer)
    assert TOKEN not in str(answer)
    assert "3600" in repr(answer)


def test_refresh_error_messages_are_clipped() -> None:
    with pytest.raises(TokenRefreshError) as caught:
        parse_token_response(400, body({"error": "x" * 10_000}))
    assert len(str(caught.value)) < 300
