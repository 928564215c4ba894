"""When Zoho is down rather than one call failing: the outage gate's rules. Pure (no asyncio).

An *outage* is failures that say nothing about the records (5xx, 408, connection refused or
reset, timeouts, unreadable bodies, the shared limiter's store unreachable) across the board:
``trip_after`` transient failures in a row, from at least two different chunks, with no
answer from Zoho in between. One chunk failing again and again is that chunk's trouble, and
its own ``max_tries`` deal with it; a lone call never trips the gate.

Any answer that is not transient means Zoho is up: per-record answers, every 4xx (401 and the
concurrency 429 included: Zoho answered, the adaptive window deals with 429s) and spent credits.

While the gate is **held**, callers wait at it instead of sending; their tries that fail
transiently are not counted against their chunk's ``max_tries``. One caller at a time goes
through as a **probe**: the first ``first_probe`` seconds after the outage began, then each
wait doubled up to ``probe_cap``. Any answer to any call reopens the gate at once. Once the
outage has lasted ``max_outage`` seconds the gate is **down**: every caller gives up (its
records fail with the last transient code) and callers that come later fail at once without
sending, except one probe now and then on the same capped schedule; the first answer reopens
the gate.

With the defaults (trip after 5, probes 1 s doubling to 15 s), a 30 s outage costs the few
calls in flight when it began plus 6 probes, and the job resumes at most 15 s after Zoho is
back.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs

from ._config import OUTAGE_FIRST_PROBE, OUTAGE_PROBE_CAP, OUTAGE_TRIP_AFTER


class Phase(enum.Enum):
    OPEN = "open"  # send freely
    HELD = "held"  # an outage: wait, one probe at a time
    DOWN = "down"  # the outage outlasted max_outage: give up, one probe now and then


class Admit(enum.Enum):
    SEND = "send"
    PROBE = "probe"  # send, as the one probe: report its end with answered() or failed()
    WAIT = "wait"  # ask again at ``next_change`` (or when woken)
    GIVE_UP = "give_up"  # fail with the last transient outcome, sending nothing


@attrs.frozen
class Transient:
    """The last transient failure seen: what records fail with when the job gives up."""

    code: str
    message: str
    http_status: int | None = None


class OutageState:
    """The gate of one client, shared by every caller. ``now`` is any monotonic clock."""

    def __init__(
        self,
        max_outage: float,
        *,
        trip_after: int = OUTAGE_TRIP_AFTER,
        first_probe: float = OUTAGE_FIRST_PROBE,
        probe_cap: float = OUTAGE_PROBE_CAP,
        random: Callable[[], float] = lambda: 1.0,
    ) -> None:
        self.max_outage = max_outage
        self.trip_after = trip_after
        self.first_probe = first_probe
        self.probe_cap = probe_cap
        self._random = random
        self.phase = Phase.OPEN
        #: when the current outage began (None while open)
        self.began: float | None = None
        self.last: Transient | None = None
        self.probing = False
        self.next_probe = 0.0
        self._delay = first_probe
        self._streak = 0
        self._streak_chunks: set[object] = set()
        #: outages seen, and probes sent during them
        self.outages = 0
        self.probes = 0

    @property
    def deadline(self) -> float:
        """When the current outage has lasted ``max_outage``."""
        return (self.began or 0.0) + self.max_outage

    def admit(self, now: float) -> Admit:
        """May a caller send now?"""
        if self.phase is Phase.OPEN:
            return Admit.SEND
        if self.phase is Phase.HELD and now >= self.deadline:
            self.phase = Phase.DOWN
        if not self.probing and now >= self.next_probe:
            self.probing = True
            self.probes += 1
            return Admit.PROBE
        return Admit.GIVE_UP if self.phase is Phase.DOWN else Admit.WAIT

    def next_change(self) -> float:
        """When a waiting caller should ask :meth:`admit` again (unless woken before)."""
        if self.probing:
            return self.deadline  # the probe's end wakes the waiters
        return min(self.next_probe, self.deadline)

    def answered(self, probe: bool = False) -> None:
        """Zoho answered a call (anything but a transient failure): it is up."""
        if probe:
            self.probing = False
        self._streak = 0
        self._streak_chunks.clear()
        if self.phase is not Phase.OPEN:
            self.phase = Phase.OPEN
            self.began = None
            self.probing = False

    def failed(self, now: float, chunk: object, failure: Transient, probe: bool = False) -> bool:
        """A call failed transiently. True: the failure does not count against the chunk's
        tries, which goes back to the gate (held: wait; down: give up); False: it counts."""
        self.last = failure
        if probe:
            self.probing = False
            self._delay = min(self._delay * 2, self.probe_cap)
            self.next_probe = now + self._delay * (0.5 + 0.5 * self._random())
            return True
        if self.phase is not Phase.OPEN:
            return True
        self._streak += 1
        self._streak_chunks.add(chunk)
        if self._streak >= self.trip_after and len(self._streak_chunks) >= 2:
            self.phase = Phase.HELD
            self.began = now
            self.outages += 1
            self._delay = self.first_probe
            self.next_probe = now + self.first_probe
            self._streak = 0
            self._streak_chunks.clear()
            return True
        return False

    def give_up(self) -> None:
        """Give up on the current outage now (the client is closing): as past max_outage."""
        if self.phase is Phase.HELD:
            self.phase = Phase.DOWN

    def abandoned(self) -> None:
        """The probe ended without a verdict (its caller was cancelled): another may go."""
        self.probing = False
