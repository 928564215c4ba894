"""The outage gate of one client, shared by every caller (the blocking ``Client`` included):
callers pass it before each request, and wait at it while Zoho is down.

The rules (what an outage is, the probes, ``max_outage``) are in ``_outage_state``; this is
the asyncio shell around them: waiting callers sleep until the next probe is due, the outage's
deadline passes, or a probe's end wakes them.

A lone ``link()`` in a web handler never trips the gate by itself (an outage takes failures
of two chunks or more); when a job of the same client has tripped it, the handler waits like
the job, at most until the outage has lasted ``max_outage``. A handler that must answer
sooner bounds its own wait with ``asyncio.timeout()``: cancellation is clean (nothing left in
flight, every record reported), and one client-wide deadline keeps one truth about whether
Zoho is up for all its callers.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from ._merge import Failed
from ._outage_state import Admit, OutageState, Phase, Transient
from ._report import UNREADABLE_RESPONSE
from ._wire import Parsed, Unreadable, WholeCall

log = logging.getLogger("zcrm_related_async")


class OutageGaveUp(Exception):
    """Zoho has been down for ``max_outage`` seconds: fail with the last transient outcome."""

    def __init__(self, last: Transient | None, max_outage: float) -> None:
        self.last = last or Transient("CONNECTION_ERROR", "Zoho did not answer")
        self.max_outage = max_outage
        super().__init__(self.last.message)

    def outcome(
        self, own: tuple[Parsed | Failed, int | None] | None
    ) -> tuple[Parsed | Failed, int | None]:
        """What a chunk's records fail with: Zoho's own last answer to it, else its last
        failure (or the client's, if it was never tried), saying the job gave up."""
        last = self.last
        if own is not None:
            answer, status = own
            if not isinstance(answer, Failed):
                return own
            last = Transient(answer.code, answer.message, status)
        why = f"Zoho has been down for {self.max_outage:g}s or more (max_outage): gave up"
        return Failed(last.code, f"{last.message} ({why})"), last.http_status


class OutageGate:
    """One client's outage state and the callers waiting on it."""

    def __init__(
        self,
        max_outage: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = random.random,
        **rules: Any,
    ) -> None:
        self.state = OutageState(max_outage, random=random, **rules)
        self._clock = clock
        self._waiters: set[asyncio.Future[None]] = set()

    @property
    def open(self) -> bool:
        return self.state.phase is Phase.OPEN

    async def enter(self) -> bool:
        """Wait until a caller may send; True if it goes as the probe (then report how it
        ended with :meth:`answered`, :meth:`failed` or :meth:`abandoned`). Raises
        :class:`OutageGaveUp` once Zoho has been down for ``max_outage``."""
        state = self.state
        while True:
            admitted = state.admit(self._clock())
            if admitted is Admit.SEND:
                return False
            if admitted is Admit.PROBE:
                log.info("Zoho seems down: probing with one call")
                return True
            if admitted is Admit.GIVE_UP:
                raise OutageGaveUp(state.last, state.max_outage)
            await self._sleep(state.next_change() - self._clock())

    async def _sleep(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait([waiter], timeout=max(seconds, 0.0))
        finally:
            self._waiters.discard(waiter)
            if not waiter.done():
                waiter.cancel()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def answered(self, probe: bool = False) -> None:
        """Zoho answered (anything but a transient failure)."""
        if self.state.phase is not Phase.OPEN:
            log.warning("Zoho answers again: the job goes on")
            self.state.answered(probe)
            self._wake()
        else:
            self.state.answered(probe)

    def failed(self, chunk: object, failure: Transient, probe: bool = False) -> bool:
        """A transient failure; True when it does not count against the chunk's tries."""
        was = self.state.phase
        not_counted = self.state.failed(self._clock(), chunk, failure, probe)
        if was is Phase.OPEN and self.state.phase is Phase.HELD:
            log.warning(
                "Zoho seems down (%s): holding the job, probing with one call at a time for "
                "up to %gs",
                failure.code,
                self.state.max_outage,
            )
        if probe:
            self._wake()  # the next probe's time changed
        return not_counted

    def close(self) -> None:
        """The client is closing: callers waiting for Zoho give up now, rather than keep
        ``close()`` waiting up to ``max_outage`` for the calls it still sends."""
        self.state.give_up()
        self._wake()

    def abandoned(self) -> None:
        """The probe's caller stopped before its answer: let another probe go."""
        self.state.abandoned()
        self._wake()


def transient(outcome: Parsed | Failed, http_status: int | None) -> Transient | None:
    """What an outage remembers of a failure worth retrying; None for a concurrency 429
    (Zoho answered: the adaptive window deals with those)."""
    if http_status == 429:
        return None
    if isinstance(outcome, WholeCall):
        return Transient(outcome.answer.code or "ERROR", outcome.answer.message, http_status)
    if isinstance(outcome, Failed):
        return Transient(outcome.code, outcome.message, http_status)
    if isinstance(outcome, Unreadable):
        return Transient(UNREADABLE_RESPONSE, outcome.reason, http_status)
    return None  # per-record answers are never transient
