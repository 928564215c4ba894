"""Reading a related list: each page under the window, the limiter, the pause seam, the token
handling and the retry budget every call has (``ChunkSender._request`` sends it).

A page that still fails after its tries raises :class:`RelatedReadError`: a partial list is
never handed out as if it were whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ._batching import Chunk
from ._calls import ChunkSender, _Held
from ._config import RETRY_AFTER_CAP
from ._exceptions import (
    InvalidOperationError,
    LimiterUnavailableError,
    RelatedReadError,
)
from ._merge import Failed
from ._ops import Delink, parse_external
from ._outage import OutageGaveUp
from ._pages import Page, page_path, parse_page
from ._report import (
    API_CREDITS_EXHAUSTED,
    LIMITER_UNAVAILABLE,
    NOT_SENT_CREDITS,
    UNREADABLE_RESPONSE,
)
from ._retry import RetryBudget, Verdict, classify, parse_retry_after
from ._stats import RequestCount
from ._transport import TransportError
from ._transport import url as encoded_url
from ._wire import Parsed, Unreadable, WholeCall

_MAX_TOKEN_REPLAYS = 3


class _ReadGate:
    """A read is never held back by a job's budget: it belongs to no job."""

    def __init__(self, count: RequestCount) -> None:
        self.count = count

    def admit(self) -> None:
        return None


def check_read(
    module: str, record_id: str, related_list: str, fields: object, external: str | None
) -> tuple[str, ...]:
    """Check the arguments of a read before any request; returns the fields to ask for."""
    # A Delink names the same URL (module, parent, list, X-EXTERNAL) and checks all of it.
    Delink(module, record_id, related_list, "0", external)
    if fields is None:
        fields = ()
    if isinstance(fields, str) or not isinstance(fields, (list, tuple, set, frozenset)):
        raise InvalidOperationError("fields", "expected a list of field API names")
    for name in fields:
        if not isinstance(name, str) or not name or "," in name:
            raise InvalidOperationError("fields", f"not a field API name: {name!r}")
    ext = parse_external(external, module) if external else None
    key = (ext.related_field if ext else None) or "id"
    wanted = ["id"] + ([key] if key != "id" else [])
    return tuple(dict.fromkeys([*wanted, *fields]))


async def read_related(
    sender: ChunkSender,
    module: str,
    record_id: str,
    related_list: str,
    fields: Sequence[str],
    external: str | None,
    count: RequestCount | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Every record of the list, page after page; ``count`` (if given) counts the requests."""
    count = count if count is not None else RequestCount()
    page, token = 1, None
    while True:
        path = page_path(sender.version, module, record_id, related_list, fields, page, token)
        where = (module, record_id, related_list, page)
        got = await _read_page(sender, path, external, where, count)
        for record in got.records:
            yield record
        if not got.info.more_records or not got.records:
            return
        token = got.info.next_page_token
        page += 1


async def _read_page(
    sender: ChunkSender,
    path: str,
    external: str | None,
    where: tuple[str, str, str, int],
    count: RequestCount,
) -> Page:
    """One page through its tries, passing the client's outage gate before each (as
    ``ChunkSender.send`` does): while Zoho is down the read waits there, spending no try."""
    url = encoded_url(sender.api_domain + path)  # already percent-encoded by page_path
    headers = {"X-EXTERNAL": external} if external else {}
    chunk = Chunk(("read", *where))
    gate = _ReadGate(count)
    tries = RetryBudget(
        sender.max_tries,
        sender.max_retry_time,
        time.monotonic(),
        sender.backoff_base,
        sender.backoff_cap,
        RETRY_AFTER_CAP,
        sender.random,
    )
    replays = 0
    rejected: set[str] = set()
    last: tuple[Parsed | Failed, int | None] | None = None
    held = 0.0  # seconds waited at the outage gate: not counted against the retry time
    probe = False
    outage = sender.outage
    try:
        while True:
            retry_after: float | None = None
            if outage is not None and not outage.open:
                waited = time.monotonic()
                try:
                    probe = await outage.enter()
                except OutageGaveUp as down:
                    raise _failed(where, *down.outcome(last), chunk.attempts) from None
                finally:
                    waited = time.monotonic() - waited
                    held += waited
                    sender.counters.outage_wait += waited
            try:
                token, raw = await sender._request(
                    chunk, gate, "GET", url, dict(headers), None, probe
                )
            except _Held:  # the gate closed while this try waited for a slot
                continue
            except TransportError as exc:
                last = (Failed(exc.code, exc.message), None)
            except LimiterUnavailableError as exc:
                last = (Failed(LIMITER_UNAVAILABLE, str(exc)), None)
            else:
                sender._note_credits(raw.headers)
                parsed = parse_page(raw.status, raw.body)
                verdict = (
                    Verdict.DONE
                    if isinstance(parsed, Page)
                    else classify(raw.status, parsed, raw.headers)
                )
                if verdict is not Verdict.RETRY:
                    sender._settle(chunk, None, raw.status, probe)  # Zoho answered
                    probe = False
                if isinstance(parsed, Page):
                    return parsed
                if verdict is Verdict.REFRESH_TOKEN and replays < _MAX_TOKEN_REPLAYS:
                    rejected.add(token)
                    if (
                        await sender.auth.invalidate(token)
                        and await sender.auth.token() not in rejected
                    ):
                        replays += 1
                        continue
                if verdict is Verdict.CREDITS_EXHAUSTED:  # retrying is pointless until tomorrow
                    spent = Failed(API_CREDITS_EXHAUSTED, NOT_SENT_CREDITS.split(": ", 1)[1])
                    raise _failed(where, spent, raw.status, chunk.attempts)
                if verdict is not Verdict.RETRY:
                    raise _failed(where, parsed, raw.status, chunk.attempts)
                if raw.status == 429:
                    sender.counters.throttled += 1
                last = (parsed, raw.status)
                retry_after = parse_retry_after(raw.headers.get("Retry-After"), time.time())
            # A transient failure: while Zoho is down it costs no try (wait at the gate).
            outcome, status = last
            not_counted = sender._settle(chunk, outcome, status, probe)
            probe = False
            if not_counted:
                continue
            tries.tries += 1
            wait = tries.next_wait(time.monotonic() - held, retry_after)
            if wait is None:
                raise _failed(where, outcome, status, chunk.attempts)
            sender.counters.retries += 1
            replays = 0
            rejected.clear()
            await asyncio.sleep(wait)
    finally:
        if probe and outage is not None:  # the probe ended without an answer
            outage.abandoned()


def _failed(
    where: tuple[str, str, str, int], outcome: Parsed | Failed, status: int | None, attempts: int
) -> RelatedReadError:
    if isinstance(outcome, WholeCall):
        code, message = outcome.answer.code, outcome.answer.message
    elif isinstance(outcome, Failed):
        code, message = outcome.code, outcome.message
    elif isinstance(outcome, Unreadable):
        code, message = UNREADABLE_RESPONSE, outcome.reason
    else:
        code, message = "ERROR", "an answer of an unexpected shape"
    return RelatedReadError(*where, code, message, status, attempts=attempts)
