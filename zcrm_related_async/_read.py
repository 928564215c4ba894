"""Reading a related list: each page through the tries every call has (``ChunkSender.carry``:
the outage gate, the window, the limiter, token replays, the retry budget).

A page that still fails after its tries raises :class:`RelatedReadError`: a partial list is
never handed out as if it were whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from ._batching import Chunk
from ._calls import ChunkSender
from ._exceptions import (
    AuthError,
    ClientClosedError,
    InvalidOperationError,
    RelatedReadError,
)
from ._merge import Failed
from ._ops import Delink, parse_external
from ._pages import Page, page_path, parse_page
from ._report import API_CREDITS_EXHAUSTED, NOT_SENT_CREDITS, UNREADABLE_RESPONSE
from ._retry import Verdict, classify
from ._sets import Reader
from ._stats import RequestCount
from ._transport import RawResponse
from ._wire import Parsed, Request, Unreadable, WholeCall


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


def reader(
    sender: ChunkSender, module: str, record_id: str, related_list: str, external: str | None
) -> Reader:
    """What ``set_related`` reads one parent's list with: ``"id"`` and the fields it asks."""

    def read(fields: tuple[str, ...], count: RequestCount) -> AsyncIterator[dict[str, Any]]:
        return read_related(
            sender, module, record_id, related_list, ("id", *fields), external, count
        )

    return read


async def _read_page(
    sender: ChunkSender,
    path: str,
    external: str | None,
    where: tuple[str, str, str, int],
    count: RequestCount,
) -> Page:
    """One page through the tries every call has (``ChunkSender.carry``): while Zoho is down
    the read waits at the outage gate, spending no try."""
    chunk = Chunk(("read", *where))
    request = Request("GET", path, None, external)  # path: already percent-encoded
    return await sender.carry(chunk, _ReadGate(count), request, _PageAnswers(where))


class _PageAnswers:
    """A page's read: a :class:`Page`, or :class:`RelatedReadError` (or the client's own
    :class:`AuthError`, :class:`ClientClosedError`): a partial list is never handed out."""

    def __init__(self, where: tuple[str, str, str, int]) -> None:
        self.where = where

    def parse(self, chunk: Chunk, raw: RawResponse) -> Page | Parsed:
        return parse_page(raw.status, raw.body)

    def verdict(self, raw: RawResponse, parsed: Page | Parsed) -> Verdict:
        if isinstance(parsed, Page):
            return Verdict.DONE
        return classify(raw.status, parsed, raw.headers)

    def final(self, chunk: Chunk, parsed: Page | Parsed, status: int, verdict: Verdict) -> Page:
        if isinstance(parsed, Page):
            return parsed
        if verdict is Verdict.CREDITS_EXHAUSTED:  # retrying is pointless until tomorrow
            spent = Failed(API_CREDITS_EXHAUSTED, NOT_SENT_CREDITS.split(": ", 1)[1])
            raise _failed(self.where, spent, status, chunk.attempts)
        raise _failed(self.where, parsed, status, chunk.attempts)

    def failed(self, chunk: Chunk, outcome: Parsed | Failed, status: int | None) -> Page:
        raise _failed(self.where, outcome, status, chunk.attempts)

    def refused(
        self,
        chunk: Chunk,
        error: AuthError | ClientClosedError,
        last: tuple[Parsed | Failed, int | None] | None,
    ) -> Page:
        raise error


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
