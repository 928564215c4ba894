"""Secrets: the client secret, the refresh token and every access token stay out of logs (at
DEBUG, aiohttp's and backoff's loggers included), reprs, messages, tracebacks, reports and
URLs, whatever goes wrong; and no token or secret is sent over plain http but to loopback."""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from zcrm_related_async import (
    AsyncClient,
    AuthError,
    ConfigurationError,
    CreditsExhaustedError,
    Link,
    RefreshThrottledError,
    RefreshTokenAuth,
    Report,
    TokenRefreshError,
    ZohoError,
)
from zcrm_related_async.testing import FakeZoho, Faults

CLIENT_ID = "1000.CLIENTID42"
SECRET = "csecret-4f8a1d9e6b"
REFRESH = "1000.rtoken-7c2e5b31aa"
STATIC = "1000.statictoken-9d3f0e"
WRONG = "wrongsecret-0b1c5e"
FAST = {"backoff_base": 0.005, "backoff_cap": 0.02}


class Evidence:
    """Everything a secret could leak into, gathered as the test provokes each failure."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []
        #: every access token sent to the server, and every URL requested
        self.tokens: set[str] = set()
        self.urls: list[str] = []
        self.trace = aiohttp.TraceConfig()
        self.trace.on_request_start.append(self._on_request)

    async def _on_request(
        self, session: aiohttp.ClientSession, context: SimpleNamespace, params: Any
    ) -> None:
        self.urls.append(str(params.url))
        authorization = params.headers.get("Authorization", "")
        if authorization:
            self.tokens.add(authorization.removeprefix("Zoho-oauthtoken "))

    def add(self, where: str, *objects: object) -> None:
        for obj in objects:
            self.texts.append((where, repr(obj)))
            self.texts.append((where, str(obj)))

    def report(self, where: str, report: Report) -> None:
        self.add(where, report, report.summary(), list(report.results))
        for result in report.results:
            self.add(where, result.message, result.details, result)

    def error(self, where: str, error: BaseException) -> None:
        self.add(where, error, error.args)
        self.texts.append((where, "".join(traceback.format_exception(error))))

    async def failing(self, where: str, awaitable: Awaitable[object]) -> BaseException:
        try:
            await awaitable
        except Exception as error:
            self.error(where, error)
            return error
        raise AssertionError(f"{where}: expected an error")


@pytest_asyncio.fixture
async def evidence() -> AsyncIterator[Evidence]:
    yield Evidence()


@pytest_asyncio.fixture
async def session(evidence: Evidence) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(trace_configs=[evidence.trace]) as http:
        yield http


def fake_zoho(**options: Any) -> FakeZoho:
    return FakeZoho(
        client_id=CLIENT_ID,
        client_secret=SECRET,
        refresh_token=REFRESH,
        access_token=STATIC,
        **options,
    )


def links(parent: int, count: int) -> list[Link]:
    return [Link("Campaigns", str(parent), "Leads", str(5000 + i)) for i in range(count)]


async def test_no_secret_leaks_whatever_goes_wrong(
    evidence: Evidence, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: ours, aiohttp's, backoff's, asyncio's
    asyncio.get_running_loop().set_debug(True)
    faults = Faults(
        error_5xx=0.1, reset_before=0.05, reset_after=0.1, truncated_json=0.05, not_json=0.05
    )
    async with fake_zoho(token_ttl_requests=3, faults=faults, seed=5) as fake:
        fake.missing_ids.add("5003")
        auth = RefreshTokenAuth(CLIENT_ID, SECRET, REFRESH, fake.url)

        def client(**options: Any) -> AsyncClient:
            options.setdefault("auth", auth)
            made = AsyncClient(api_domain=fake.url, session=session, **{**FAST, **options})
            evidence.add("client repr", made, made.auth)
            return made

        # a faulty day: retries, lost answers, expiring tokens, timeouts, a missing record
        zoho = client(chunk_size=10, max_tries=3, timeout=0.3, linger=0)
        report = await zoho.run([op for p in range(1, 6) for op in links(p, 40)])
        evidence.report("faulty run", report)
        fake.faults = Faults(slow=1.0, slow_seconds=1.0)
        report = await client(timeout=0.1, max_tries=2, linger=0).run(links(9, 3))
        assert {r.code for r in report.results} == {"TIMEOUT"}
        evidence.report("timeouts", report)
        fake.faults = Faults()
        evidence.error("raise_for_failures", raised_for_failures(report))

        # 401s with a token the caller manages
        fake.inject("401", times=2)
        report = await client(auth=None, access_token=STATIC).run(links(10, 3))
        assert {r.code for r in report.results} == {"INVALID_TOKEN"}
        evidence.report("401", report)

        # exhausted credits stop the job with an exception carrying the report
        fake.inject("credits", times=5)
        error = await evidence.failing("credits", client(linger=0).run(links(11, 3)))
        assert isinstance(error, CreditsExhaustedError)
        evidence.report("credits report", error.report)

        # a wrong client secret: the records say AUTH_FAILED, token() raises
        wrong = RefreshTokenAuth(CLIENT_ID, WRONG, REFRESH, fake.url)
        report = await client(auth=wrong).run(links(12, 2))
        assert {r.code for r in report.results} == {"AUTH_FAILED"}
        evidence.report("wrong secret", report)
        fresh = RefreshTokenAuth(CLIENT_ID, WRONG, REFRESH, fake.url)
        error = await evidence.failing("wrong secret", fresh.bind(session, fake.url, 1.0).token())
        assert isinstance(error, TokenRefreshError)

        # an accounts server that does not answer
        gone = RefreshTokenAuth(CLIENT_ID, SECRET, REFRESH, "http://127.0.0.1:9")
        error = await evidence.failing("unreachable", gone.bind(session, fake.url, 0.5).token())
        assert isinstance(error, TokenRefreshError)

        # a token callable that fails, quoting a secret in its own error
        def vault() -> str:
            raise RuntimeError(f"vault refused {SECRET}")

        report = await client(auth=vault).run(links(13, 2))
        assert {r.code for r in report.results} == {"AUTH_FAILED"}
        evidence.report("callable", report)
        holder = client(auth=functools.partial(lambda secret: STATIC, SECRET))
        error = await evidence.failing("callable", client(auth=vault).auth.token())
        assert isinstance(error, AuthError)
        evidence.add("partial", holder, holder.auth)

    # refreshes throttled by the accounts server ("Access Denied")
    async with fake_zoho(refresh_limit=1) as fake:
        auth = RefreshTokenAuth(CLIENT_ID, SECRET, REFRESH, fake.url)
        zoho = AsyncClient(api_domain=fake.url, auth=auth, session=session, linger=0)
        assert (await zoho.run(links(1, 2))).succeeded == 2
        fake.expire_tokens()
        report = await zoho.run(links(2, 2))
        assert {r.code for r in report.results} == {"AUTH_FAILED"}
        evidence.report("throttled", report)
        throttled = RefreshTokenAuth(CLIENT_ID, SECRET, REFRESH, fake.url)
        error = await evidence.failing("throttled", throttled.bind(session, fake.url, 1.0).token())
        assert isinstance(error, RefreshThrottledError)

    # settings refused
    for bad in (
        lambda: AsyncClient(api_domain="http://zoho.example", access_token=STATIC),
        lambda: AsyncClient(api_domain="https://zoho.example", access_token=STATIC + "\r\nX: y"),
        lambda: RefreshTokenAuth(CLIENT_ID, SECRET, REFRESH, "http://accounts.example"),
    ):
        with pytest.raises(ConfigurationError) as caught:
            bad()
        evidence.error("settings", caught.value)

    logs = caplog.text
    evidence.texts.append(("logs", logs))
    evidence.texts.append(("log records", repr([r.__dict__ for r in caplog.records])))

    # the search could find something: it saw the tokens and the logs it searches
    assert len(evidence.tokens) >= 5  # the static token and refreshed ones
    assert "retrying" in logs
    secrets = {SECRET, REFRESH, WRONG} | evidence.tokens
    for secret in secrets:
        leaks = [where for where, text in evidence.texts if secret in text]
        assert leaks == [], f"a secret appears in {leaks}"
        assert not any(secret in url for url in evidence.urls)
    asyncio.get_running_loop().set_debug(False)


def raised_for_failures(report: Report) -> ZohoError:
    try:
        report.raise_for_failures()
    except ZohoError as error:
        return error
    raise AssertionError("the report has failures")


# --- plain http ----------------------------------------------------------------------------

NOT_LOOPBACK = [
    "http://www.zohoapis.com",
    "http://10.0.0.7:8000",
    "http://127.evil.example:8000",
    "http://127.0.0.1.nip.io",
    "http://localhost.evil.example",
    "http://127.0.0.1@evil.example",
    "http://127.1",  # would resolve to 127.0.0.1, but only an address is trusted as loopback
    "http://0x7f000001",
]
LOOPBACK = [
    "http://127.0.0.1:8000",
    "http://localhost:8000",
    "http://[::1]:8000",
    "http://127.9.9.9",
]


def refresh_auth(accounts_url: str | None = None) -> RefreshTokenAuth:
    return RefreshTokenAuth(CLIENT_ID, SECRET, REFRESH, accounts_url)


TOKEN_HOLDERS: list[Any] = [
    pytest.param(lambda url: AsyncClient(api_domain=url, access_token=STATIC), id="api_domain"),
    pytest.param(
        lambda url: AsyncClient(
            api_domain="https://zoho.example", auth=refresh_auth(), accounts_url=url
        ),
        id="client-accounts_url",
    ),
    pytest.param(refresh_auth, id="auth-accounts_url"),
]


@pytest.mark.parametrize("make", TOKEN_HOLDERS)
def test_plain_http_to_a_host_that_is_not_loopback_is_refused_when_made(
    make: Callable[[str], object],
) -> None:
    accepted, messages = [], []
    for url in NOT_LOOPBACK:
        try:
            make(url)
        except ConfigurationError as error:
            messages.append(str(error))
        else:
            accepted.append(url)
    assert accepted == []
    assert all("plain http" in m or "http(s) URL" in m for m in messages), messages
    assert not any(SECRET in m for m in messages)


@pytest.mark.parametrize("make", TOKEN_HOLDERS)
def test_plain_http_to_loopback_is_allowed(make: Callable[[str], object]) -> None:
    for url in LOOPBACK:
        make(url)


async def test_a_refresh_never_posts_the_secret_to_a_plain_http_accounts_server(
    evidence: Evidence, session: aiohttp.ClientSession
) -> None:
    # Whatever accounts URL a refresh is handed (here straight through Auth.token), the
    # secret does not leave over plain http to a host that is not loopback.
    auth = refresh_auth()
    with pytest.raises(TokenRefreshError, match="plain http") as caught:
        await auth.bind(session, "http://accounts.evil.example", 1.0).token()
    assert evidence.urls == []
    assert SECRET not in "".join(traceback.format_exception(caught.value))
