"""One HTTP request over aiohttp, as plain data: the only place that touches the network
for API calls."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import aiohttp
import attrs
from yarl import URL

from ._report import CONNECTION_ERROR, TIMEOUT
from ._version import __version__


@attrs.frozen
class RawResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class TransportError(Exception):
    """No answer: ``code`` is ``TIMEOUT`` or ``CONNECTION_ERROR``. ``connected`` is False when
    the connection itself failed (refused, DNS): then nothing was sent, and nothing applied."""

    def __init__(self, code: str, message: str, connected: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.connected = connected


def new_session(max_concurrency: int) -> aiohttp.ClientSession:
    """The session a client makes for itself when the user passes none."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max(100, max_concurrency * 2)),
        # Zoho's API sets no cookie we need: a jar would be searched on every request
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": f"zcrm-related-async/{__version__}"},
    )


def url(text: str) -> URL:
    """``text`` (already percent-encoded) as the URL aiohttp takes without parsing it again:
    built once per call, not once per try."""
    return URL(text, encoded=True)


async def send(
    session: aiohttp.ClientSession,
    method: str,
    target: URL,
    headers: Mapping[str, str],
    body: bytes | None,
    timeout: aiohttp.ClientTimeout,
) -> RawResponse:
    """Send one request and read the whole answer; connection trouble -> TransportError."""
    try:
        async with session.request(
            method, target, headers=headers, data=body, timeout=timeout
        ) as response:
            return RawResponse(response.status, response.headers, await response.read())
    except aiohttp.ClientConnectorError as exc:  # before any byte of the request went out
        raise TransportError(
            CONNECTION_ERROR, f"could not connect: {type(exc).__name__}", connected=False
        ) from None
    except asyncio.TimeoutError:
        raise TransportError(TIMEOUT, f"no answer within {timeout.total}s") from None
    except (aiohttp.ClientError, OSError) as exc:
        # The type says enough; aiohttp's own text may quote request details.
        raise TransportError(CONNECTION_ERROR, f"connection failed: {type(exc).__name__}") from None
