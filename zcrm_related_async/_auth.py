"""Access tokens: a fixed one, one from the user's own callable, or one refreshed from a
refresh token, once for every concurrent caller.

Zoho mints at most 10 access tokens per refresh token per 10 minutes and keeps at most 15 alive
(https://www.zoho.com/crm/developer/docs/api/v8/refresh.html), so a refresh is single-flight:
the first caller that finds the token stale refreshes it, every other caller waits for that
answer. A failed refresh is remembered for a cool-down instead of being retried in a loop.
"""

from __future__ import annotations

import abc
import asyncio
import inspect
import re
import time
from collections.abc import Awaitable, Callable

import aiohttp
import backoff

from ._config import (
    REFRESH_FAILURE_COOLDOWN,
    REFRESH_MAX_TRIES,
    TOKEN_REFRESH_MARGIN,
    check_base_url,
)
from ._exceptions import AuthError, ConfigurationError, TokenRefreshError
from ._wire import TransientRefreshError, parse_token_response

TokenSource = Callable[[], "str | Awaitable[str]"]

# A token travels in the Authorization header, where a CR or LF would inject headers (aiohttp
# then raises a ValueError in the middle of the job); Zoho's tokens are visible ASCII
# ("1000.3f2e..."), so anything else is refused where it enters, without echoing it.
_TOKEN = re.compile(r"[\x21-\x7e]+")


def _usable(token: object) -> str | None:
    """``token`` without surrounding whitespace, if it can travel in a header."""
    if not isinstance(token, str):
        return None
    token = token.strip()
    return token if _TOKEN.fullmatch(token) else None


class Auth(abc.ABC):
    """Where access tokens come from. Subclass it for a token store of your own."""

    @abc.abstractmethod
    async def token(self, session: aiohttp.ClientSession, accounts_url: str, timeout: float) -> str:
        """A valid access token (may refresh it, over ``session``, within ``timeout``)."""

    @abc.abstractmethod
    async def invalidate(self, token: str) -> bool:
        """Zoho rejected ``token``; return True if asking :meth:`token` again may help."""

    def is_current(self, token: str) -> bool:
        """False if a newer token than ``token`` exists already (then no refresh is needed)."""
        return True


class StaticTokenAuth(Auth):
    """An access token the caller manages; when Zoho rejects it, the records say so."""

    def __init__(self, access_token: str) -> None:
        token = _usable(access_token)
        if token is None:
            raise ConfigurationError(
                "access_token: expected a non-empty str of visible ASCII characters"
            )
        self._token = token

    async def token(self, session: aiohttp.ClientSession, accounts_url: str, timeout: float) -> str:
        return self._token

    async def invalidate(self, token: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticTokenAuth(access_token=<hidden>)"


class _CachedAuth(Auth):
    """Caches a token until it expires or Zoho rejects it; fetches a new one single-flight."""

    def __init__(self) -> None:
        self._token: str | None = None
        self._fresh_until = 0.0
        self._lock = asyncio.Lock()
        self._failure: tuple[float, AuthError] | None = None
        #: how many tokens were fetched (for observability and tests)
        self.fetches = 0

    async def token(self, session: aiohttp.ClientSession, accounts_url: str, timeout: float) -> str:
        token = self._token
        if token is not None and time.monotonic() < self._fresh_until:
            return token
        async with self._lock:
            token = self._token
            if token is not None and time.monotonic() < self._fresh_until:
                return token  # another caller refreshed while this one waited
            if self._failure is not None and time.monotonic() < self._failure[0]:
                error = self._failure[1]
                raise type(error)(str(error))
            try:
                token, lifetime = await self._fetch(session, accounts_url, timeout)
            except AuthError as error:
                self._failure = (time.monotonic() + REFRESH_FAILURE_COOLDOWN, error)
                raise
            self.fetches += 1
            self._failure = None
            self._token = token
            margin = min(TOKEN_REFRESH_MARGIN, lifetime / 10)
            self._fresh_until = time.monotonic() + lifetime - margin
            return token

    async def invalidate(self, token: str) -> bool:
        if token == self._token:
            self._fresh_until = 0.0  # stale: the next caller refreshes (once, for everyone)
        return True

    def is_current(self, token: str) -> bool:
        return token == self._token

    @abc.abstractmethod
    async def _fetch(
        self, session: aiohttp.ClientSession, accounts_url: str, timeout: float
    ) -> tuple[str, float]:
        """A new token and its lifetime in seconds."""


class CallableAuth(_CachedAuth):
    """Tokens from the caller's callable (sync or async), asked again when Zoho rejects one."""

    def __init__(self, source: TokenSource, lifetime: float = 3000.0) -> None:
        super().__init__()
        if not callable(source):
            raise ConfigurationError("auth: expected an Auth, or a callable returning a token")
        self._source = source
        self._lifetime = lifetime

    async def _fetch(
        self, session: aiohttp.ClientSession, accounts_url: str, timeout: float
    ) -> tuple[str, float]:
        try:
            token = self._source()
            if inspect.isawaitable(token):
                token = await token
        except Exception as exc:
            raise AuthError(f"the token callable raised {type(exc).__name__}") from None
        usable = _usable(token)
        if usable is None:
            raise AuthError("the token callable returned no token of visible ASCII characters")
        return usable, self._lifetime

    def __repr__(self) -> str:
        # Only the callable's name: the repr of a functools.partial (or of a bound method's
        # object) could show the secrets it was built with.
        name = getattr(self._source, "__qualname__", None) or type(self._source).__name__
        return f"CallableAuth({name})"


class RefreshTokenAuth(_CachedAuth):
    """OAuth refresh-token flow (self client or server-based apps).

    ``accounts_url`` defaults to the accounts server of the client's data centre.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        accounts_url: str | None = None,
    ) -> None:
        super().__init__()
        for name, value in (
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("refresh_token", refresh_token),
        ):
            if not isinstance(value, str) or not value.strip():
                raise ConfigurationError(f"{name}: expected a non-empty str")
        self.client_id = client_id.strip()
        self._client_secret = client_secret.strip()
        self._refresh_token = refresh_token.strip()
        self.accounts_url = (
            None if accounts_url is None else check_base_url(accounts_url, "accounts_url")
        )

    @property
    def refreshes(self) -> int:
        """Access tokens minted by this object so far."""
        return self.fetches

    async def _fetch(
        self, session: aiohttp.ClientSession, accounts_url: str, timeout: float
    ) -> tuple[str, float]:
        base = self.accounts_url or accounts_url
        try:
            # The client's accounts_url is checked when it is made; this guards the secrets
            # against any other way in (a subclass, an Auth shared with another client).
            check_base_url(base, "accounts_url")
        except ConfigurationError as exc:
            raise TokenRefreshError(str(exc)) from None
        url = f"{base}/oauth/v2/token"
        form = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token,
        }

        @backoff.on_exception(
            backoff.expo, TransientRefreshError, max_tries=REFRESH_MAX_TRIES, logger=None
        )
        async def post() -> tuple[str, float]:
            try:
                async with session.post(
                    url, data=form, timeout=aiohttp.ClientTimeout(total=timeout)
                ) as response:
                    body = await response.read()
                    status = response.status
            except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                raise TransientRefreshError(
                    f"could not reach the accounts server: {type(exc).__name__}"
                ) from None
            answer = parse_token_response(status, body)
            token = _usable(answer.access_token)
            if token is None:
                raise TokenRefreshError("the accounts server answered with an unusable token")
            return token, answer.expires_in

        try:
            return await post()
        except TokenRefreshError:
            raise
        except Exception as exc:  # never let a refresh crash the job
            raise TokenRefreshError(f"token refresh failed: {type(exc).__name__}") from None

    def __repr__(self) -> str:
        shown = self.client_id[:9] + "..." if len(self.client_id) > 12 else self.client_id
        return f"RefreshTokenAuth(client_id={shown!r}, accounts_url={self.accounts_url!r})"
