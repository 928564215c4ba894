"""Access tokens and the refresh throttle of the fake accounts server."""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

#: Zoho keeps at most this many access tokens of one refresh token alive; the next kills the oldest.
MAX_ALIVE = 15
#: Zoho's refresh throttle (``zoho_token_rules=True``): at most this many new access tokens
#: per refresh token per window of seconds; beyond, a 200 with ``"error": "Access Denied"``.
ZOHO_REFRESH_LIMIT = 10
ZOHO_REFRESH_WINDOW = 600.0


class _Token:
    __slots__ = ("expires_at", "uses")

    def __init__(self, expires_at: float) -> None:
        self.expires_at = expires_at
        self.uses = 0


class TokenStore:
    """Live access tokens: each dies after ``ttl_seconds`` or ``ttl_requests`` API calls."""

    __slots__ = ("_tokens", "killed", "newest", "ttl_requests", "ttl_seconds", "used_up")

    def __init__(self, ttl_requests: int | None, ttl_seconds: float) -> None:
        self.ttl_requests = ttl_requests
        self.ttl_seconds = ttl_seconds
        #: tokens that died of their ``ttl_requests`` uses, counted when the next is minted
        self.used_up = 0
        #: live tokens killed because a 16th was minted
        self.killed = 0
        # Insertion order is age order: the first key is the oldest token.
        self._tokens: dict[str, _Token] = {}
        self.newest = ""

    def mint(self, value: str | None = None) -> str:
        """Create a token (random unless ``value`` is given) and return it."""
        token = value if value is not None else secrets.token_hex(24)
        now = time.monotonic()
        if self.ttl_requests is not None:
            self.used_up += sum(1 for i in self._tokens.values() if i.uses >= self.ttl_requests)
        for old in [t for t, info in self._tokens.items() if not self._alive(info, now)]:
            del self._tokens[old]
        while len(self._tokens) >= MAX_ALIVE:
            del self._tokens[next(iter(self._tokens))]
            self.killed += 1
        self._tokens[token] = _Token(now + self.ttl_seconds)
        self.newest = token
        return token

    def _alive(self, info: _Token, now: float) -> bool:
        if now >= info.expires_at:
            return False
        return self.ttl_requests is None or info.uses < self.ttl_requests

    def peek(self, token: str | None) -> bool:
        """Whether ``token`` is alive now (without spending a use)."""
        info = self._tokens.get(token) if token else None
        return info is not None and self._alive(info, time.monotonic())

    def use(self, token: str | None) -> bool:
        """Authenticate one API call: spend a use of ``token`` if it is alive."""
        info = self._tokens.get(token) if token else None
        if info is None or not self._alive(info, time.monotonic()):
            return False
        info.uses += 1
        return True

    def expire_all(self) -> None:
        """Kill every access token (the next API call gets INVALID_TOKEN)."""
        self._tokens.clear()


class RefreshLimiter:
    """At most ``limit`` successful refreshes per sliding ``window`` seconds."""

    __slots__ = ("_times", "limit", "window")

    def __init__(self, limit: int | None, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        """Record a refresh and return True, or return False when over the limit."""
        if self.limit is None:
            return True
        now = time.monotonic()
        while self._times and now - self._times[0] >= self.window:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True


class Accounts:
    """The accounts server's refresh grant: credentials, throttle, token minting."""

    __slots__ = ("client_id", "client_secret", "limiter", "refresh_token", "tokens")

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        tokens: TokenStore,
        refresh_limit: int | None,
        refresh_window: float,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.tokens = tokens
        self.limiter = RefreshLimiter(refresh_limit, refresh_window)

    def refresh(self, params: Mapping[str, str], api_domain: str) -> dict[str, Any]:
        """Zoho's answer (always HTTP 200) to a refresh grant with these parameters."""
        if (
            params.get("grant_type") != "refresh_token"
            or params.get("client_id") != self.client_id
            or params.get("client_secret") != self.client_secret
        ):
            return {"error": "invalid_client"}
        if params.get("refresh_token") != self.refresh_token:
            return {"error": "invalid_code"}
        if not self.limiter.allow():
            return {
                "error_description": (
                    "You have made too many requests continuously."
                    " Please try again after some time."
                ),
                "error": "Access Denied",
                "status": "failure",
            }
        return {
            "access_token": self.tokens.mint(),
            "expires_in": int(self.tokens.ttl_seconds),
            "api_domain": api_domain,
            "token_type": "Bearer",
        }
