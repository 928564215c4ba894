"""A Redis client for the running event loop, for objects users keep at module level.

A ``redis.asyncio.Redis`` keeps connections bound to the event loop that opened them: used
from the next ``asyncio.run()`` it fails with "Event loop is closed". So an object made from a
URL opens one client per event loop, and closes it when that loop shuts down: an async
generator started on the loop holds it, and ``asyncio.run()`` (like any loop runner that calls
``loop.shutdown_asyncgens()``) finalises that generator before closing the loop. A client the
user passes stays theirs: it is used on its first loop only, and another loop gets a clear
error instead of a broken connection.

redis-py is imported only when such an object is made, so the package works without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ._exceptions import ConfigurationError

if TYPE_CHECKING:
    from redis.asyncio import Redis


class LoopClients:
    """``redis.asyncio.Redis`` clients per event loop: made from ``url``, or the one given."""

    def __init__(
        self,
        owner: str,
        url: str | None,
        client: Redis | None,
        socket_timeout: float,
        connect_timeout: float,
    ) -> None:
        if (url is None) == (client is None):
            raise ConfigurationError(f"{owner}: give exactly one of url or client=")
        try:
            import redis.asyncio
            import redis.exceptions
        except ImportError:
            raise ImportError(
                f"{owner} needs redis-py: pip install 'zcrm-related-async[redis]'"
            ) from None
        self._owner = owner
        self._url = url
        self._given = client
        self._given_loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
        self._socket_timeout = socket_timeout
        self._connect_timeout = connect_timeout
        self._made: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[Redis, AsyncGenerator[None, None]]
        ] = weakref.WeakKeyDictionary()
        self.errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        if client is not None:
            settings = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
            where = settings.get("path") or f"{settings.get('host')}:{settings.get('port')}"
            self.where = f"{where} (db {settings.get('db', 0)})" if settings else repr(client)
            self.given_read_timeout: float | None = settings.get("socket_timeout")
        else:
            assert url is not None
            self.where = without_password(url)
            self.given_read_timeout = None

    @property
    def owns_client(self) -> bool:
        return self._given is None

    def get(self) -> Redis:
        """The client to use on the running event loop."""
        loop = asyncio.get_running_loop()
        if self._given is not None:
            if self._given_loop is None:
                self._given_loop = weakref.ref(loop)
            elif self._given_loop() is not loop:
                raise ConfigurationError(
                    f"{self._owner}: the redis.asyncio.Redis client you passed belongs to "
                    "another event loop; pass url= instead (a client is then made per loop)"
                )
            return self._given
        made = self._made.get(loop)
        if made is None:
            import redis.asyncio

            assert self._url is not None
            client = redis.asyncio.Redis.from_url(
                self._url,
                socket_timeout=self._socket_timeout,
                socket_connect_timeout=self._connect_timeout,
            )
            keeper = _close_at_loop_shutdown(client)
            # Run to its yield here, so that the loop knows it and finalises it at shutdown.
            with contextlib.suppress(StopIteration):
                keeper.asend(None).send(None)
            made = self._made[loop] = (client, keeper)
        return made[0]

    async def aclose(self) -> None:
        """Close the client of the running loop, if this object made it."""
        made = self._made.pop(asyncio.get_running_loop(), None)
        if made is not None:
            client, keeper = made
            await keeper.aclose()
            await client.aclose()


async def _close_at_loop_shutdown(client: Any) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await client.aclose()


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))
