"""Access tokens: a fixed one, one from the user's own callable, or one refreshed from a
refresh token, once for every concurrent caller.

Zoho mints at most 10 access tokens per refresh token per 10 minutes and keeps at most 15 alive
(https://www.zoho.com/crm/developer/docs/api/v8/refresh.html), so a refresh is single-flight:
the first caller that finds the token stale refreshes it, every other caller waits for that
answer (the :class:`TokenCache` decides who, in one process or across a fleet). A failed
refresh is remembered for a cool-down instead of being retried in a loop.
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
    DEFAULT_MAX_RETRY_TIME,
    DEFAULT_TIMEOUT,
    REFRESH_FAILURE_COOLDOWN,
    REFRESH_MAX_TRIES,
    check_base_url,
)
from ._exceptions import AuthError, ConfigurationError, TokenRefreshError
from ._token_cache import MemoryTokenCache, Mint, TokenCache
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
    """Where access tokens come from. Subclass it for a token store of your own: two methods,
    no HTTP session involved (the client sends the token; you only hand it out)."""

    @abc.abstractmethod
    async def token(self) -> str:
        """A valid access token (fetch or refresh it here if need be)."""

    @abc.abstractmethod
    async def invalidate(self, token: str) -> bool:
        """Zoho rejected ``token``; return True if asking :meth:`token` again may help."""


class StaticTokenAuth(Auth):
    """An access token the caller manages; when Zoho rejects it, the records say so."""

    def __init__(self, access_token: str) -> None:
        token = _usable(access_token)
        if token is None:
            raise ConfigurationError(
                "access_token: expected a non-empty str of visible ASCII characters"
            )
        self._token = token

    async def token(self) -> str:
        return self._token

    async def invalidate(self, token: str) -> bool:
        return False

    def __repr__(self) -> str:
        return "StaticTokenAuth(access_token=<hidden>)"


class _CachedAuth(Auth):
    """Keeps a token in a :class:`TokenCache` until it is near expiry or Zoho rejects it;
    fetches the next one once for every caller sharing the cache."""

    def __init__(self, cache: TokenCache | None) -> None:
        if cache is None:
            cache = MemoryTokenCache()
        elif not isinstance(cache, TokenCache):
            raise ConfigurationError("cache: expected a TokenCache (get() and refresh())")
        self.cache = cache
        self._rejected: str | None = None  # the last token Zoho rejected here
        self._failure: tuple[float, AuthError] | None = None
        #: how many tokens this object fetched (for observability and tests)
        self.fetches = 0

    async def token(self) -> str:
        return await self._current(self._fetch, DEFAULT_MAX_RETRY_TIME)

    async def _current(self, fetch: Mint, max_wait: float) -> str:
        cached = await self.cache.get()
        if cached is not None and cached.fresh() and cached.value != self._rejected:
            return cached.value

        async def mint() -> tuple[str, float]:
            failure = self._failure
            if failure is not None and time.monotonic() < failure[0]:
                raise type(failure[1])(str(failure[1]))  # in its cool-down: do not ask again
            try:
                answer = await fetch()
            except AuthError as error:
                self._failure = (time.monotonic() + REFRESH_FAILURE_COOLDOWN, error)
                raise
            self.fetches += 1
            self._failure = None
            if answer[0] == self._rejected:
                # The source has nothing newer: use it until the next 401 says otherwise,
                # rather than asking it again on every call.
                self._rejected = None
            return answer

        stale = cached.value if cached is not None else None
        return (await self.cache.refresh(stale, mint, max_wait)).value

    async def invalidate(self, token: str) -> bool:
        # Compared with the cached token at the next token(): if someone refreshed meanwhile,
        # the new token is used as it is; otherwise one caller refreshes for everyone.
        self._rejected = token
        return True

    @abc.abstractmethod
    async def _fetch(self) -> tuple[str, float]:
        """A new token and its lifetime in seconds."""


class CallableAuth(_CachedAuth):
    """Tokens from the caller's callable (sync or async), asked again when Zoho rejects one."""

    def __init__(self, source: TokenSource, lifetime: float = 3000.0) -> None:
        super().__init__(None)
        if not callable(source):
            raise ConfigurationError("auth: expected an Auth, or a callable returning a token")
        self._source = source
        self._lifetime = lifetime

    async def _fetch(self) -> tuple[str, float]:
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

    ``accounts_url`` defaults to the accounts server of the client's data centre. ``cache``
    (a :class:`TokenCache`; default: this object's own, in memory) holds the access token:
    give every process that uses this refresh token the same ``RedisTokenCache`` and they
    share one token, refreshed by one of them at a time within Zoho's budget.

    A client hands this object its HTTP session, accounts server and timeouts through
    :meth:`bind`; used on its own, :meth:`token` makes a session per refresh and needs
    ``accounts_url``. It keeps nothing bound to an event loop, so one object may serve
    successive ``asyncio.run()`` jobs.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        accounts_url: str | None = None,
        cache: TokenCache | None = None,
    ) -> None:
        super().__init__(cache)
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

    def bind(
        self,
        session: aiohttp.ClientSession | Callable[[], aiohttp.ClientSession],
        accounts_url: str,
        timeout: float = DEFAULT_TIMEOUT,
        max_wait: float = DEFAULT_MAX_RETRY_TIME,
    ) -> Auth:
        """This auth as a client uses it: refreshes go over ``session`` (or the session a
        callable returns) to ``accounts_url`` (unless this object names its own), each
        request within ``timeout`` seconds; waiting for another caller's refresh or for the
        refresh budget lasts at most ``max_wait`` seconds. The token and cache are shared
        with this object and every other binding of it."""
        get_session = session if callable(session) else lambda: session
        return _BoundRefresh(self, get_session, accounts_url, timeout, max_wait)

    async def _fetch(self) -> tuple[str, float]:
        if self.accounts_url is None:
            raise TokenRefreshError(
                "RefreshTokenAuth.token() outside a client needs accounts_url= "
                "(or use it through AsyncClient(auth=...))"
            )
        async with aiohttp.ClientSession() as session:
            return await self._post(session, self.accounts_url, DEFAULT_TIMEOUT)

    async def _post(
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


class _BoundRefresh(Auth):
    """A :class:`RefreshTokenAuth` with one client's session and settings."""

    def __init__(
        self,
        auth: RefreshTokenAuth,
        session: Callable[[], aiohttp.ClientSession],
        accounts_url: str,
        timeout: float,
        max_wait: float,
    ) -> None:
        self.auth = auth
        self._session = session
        self._accounts_url = accounts_url
        self._timeout = timeout
        self._max_wait = max_wait

    async def token(self) -> str:
        return await self.auth._current(self._fetch, self._max_wait)

    async def _fetch(self) -> tuple[str, float]:
        return await self.auth._post(self._session(), self._accounts_url, self._timeout)

    async def invalidate(self, token: str) -> bool:
        return await self.auth.invalidate(token)

    def __repr__(self) -> str:
        return repr(self.auth)


def bind_auth(
    auth: Auth,
    session: Callable[[], aiohttp.ClientSession],
    accounts_url: str,
    timeout: float,
    max_wait: float,
) -> Auth:
    """The :class:`Auth` a client's calls use: ``auth`` itself, or bound to the client."""
    if isinstance(auth, RefreshTokenAuth):
        return auth.bind(session, accounts_url, timeout, max_wait)
    return auth
