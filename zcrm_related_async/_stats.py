"""The one count of requests: what a client (and each job) sent, and what became of it. Pure.

Every try of every chunk is counted here and nowhere else (``ChunkSender._count`` is the only
caller). A try that never connected (refused, DNS) reached nobody: it spent no API credit and
cannot have been applied, so it is counted apart from the requests that may have reached Zoho.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import attrs


@attrs.define
class RequestCount:
    """Tries made, and how many of them never connected."""

    #: tries that took a slot and went to the transport
    tries: int = 0
    #: tries that never connected (nothing was sent, no credit spent)
    not_connected: int = 0

    @property
    def sent(self) -> int:
        """Requests that may have reached Zoho (each may have spent an API credit)."""
        return self.tries - self.not_connected


@attrs.define
class ClientCounters:
    """A client's running totals, updated as tries end (see :class:`ClientStats`)."""

    requests: RequestCount = attrs.Factory(RequestCount)
    by_status: Counter[int] = attrs.Factory(Counter)
    by_code: Counter[str] = attrs.Factory(Counter)
    retries: int = 0
    throttled: int = 0
    slot_wait: float = 0.0
    outage_wait: float = 0.0


@attrs.frozen
class ClientStats:
    """A snapshot of what a client has done so far, from :meth:`AsyncClient.stats`.

    - ``calls_sent``: HTTP requests that may have reached Zoho (each may spend an API credit);
      ``calls_not_connected``: tries that never connected (refused, DNS): nothing sent.
    - ``answers_by_status``: HTTP answers by status (no entry for a try without an answer).
    - ``results_by_code``: operations' outcomes by code (``SUCCESS``, ``INVALID_DATA``, our
      own such as ``TIMEOUT`` or ``NOT_ATTEMPTED``), one per operation a job finished.
    - ``retries``: tries after a chunk's first (waiting out a 5xx, a 429, a lost answer).
    - ``throttled``: 429 answers for concurrency (credits-exhausted 429s not included).
    - ``window``: calls the adaptive window lets in flight now (``None`` when it is off).
    - ``slot_wait_seconds``: time tries spent waiting for a place in the window and a slot
      of the limiter, summed over tries.
    - ``outage_wait_seconds``: time chunks spent waiting at the outage gate while Zoho was
      down, summed over chunks.
    - ``credits_remaining``: the last ``X-API-CREDITS-REMAINING`` Zoho sent, if any.
    """

    calls_sent: int
    calls_not_connected: int
    answers_by_status: Mapping[int, int]
    results_by_code: Mapping[str, int]
    retries: int
    throttled: int
    window: int | None
    slot_wait_seconds: float
    outage_wait_seconds: float
    credits_remaining: int | None

    @classmethod
    def of(
        cls, counters: ClientCounters, window: int | None, credits_remaining: int | None
    ) -> ClientStats:
        return cls(
            calls_sent=counters.requests.sent,
            calls_not_connected=counters.requests.not_connected,
            answers_by_status=dict(counters.by_status),
            results_by_code=dict(counters.by_code),
            retries=counters.retries,
            throttled=counters.throttled,
            window=window,
            slot_wait_seconds=counters.slot_wait,
            outage_wait_seconds=counters.outage_wait,
            credits_remaining=credits_remaining,
        )
