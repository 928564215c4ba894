"""Adaptive concurrency, the arithmetic: additive increase, multiplicative decrease. Pure.

An org's real limit is often unknown (edition, other apps on the same org). Zoho's answer to
one call too many is a 429, so the client learns the limit from 429s: each one for a call made
under the current window shrinks the window; calls that succeed grow it again, slowly, never
past the configured ``max_concurrency``. Before the first 429 the window grows by about one
call per round trip; after it, probes are sixteen times rarer, because each probe past the
real limit costs a 429, and more while the rejected call still counts against the org.
"""

from __future__ import annotations

#: Calls in flight a new client starts with (Zoho's Standard edition allows 10).
INITIAL_WINDOW = 10
#: The window is multiplied by this on a concurrency 429.
DECREASE = 0.9
#: After the first 429, successes needed per extra slot, as a multiple of the window.
PROBE_SLOWDOWN = 16.0


def initial_window(ceiling: int) -> float:
    return float(min(ceiling, INITIAL_WINDOW))


def after_success(window: float, ceiling: int, throttled_before: bool) -> float:
    """One more call succeeded: grow by one slot per window's worth (slower once throttled)."""
    per_slot = window * (PROBE_SLOWDOWN if throttled_before else 1.0)
    return min(float(ceiling), window + 1.0 / per_slot)


def after_throttle(window: float) -> float:
    """A call made under the current window got a concurrency 429: shrink, keep at least 1."""
    return max(1.0, window * DECREASE)


def slots(window: float) -> int:
    """Calls that may be in flight under ``window``."""
    return max(1, int(window))
