"""Public value types of the fake: fault probabilities, counters, request log entries."""

from __future__ import annotations

from typing import Any

import attrs

#: Fault kinds accepted by :meth:`FakeZoho.inject`.
INJECT_KINDS = (
    "500",
    "reset_before",
    "not_json",
    "429",
    "credits",
    "401",
    "reset_after",
    "truncated_json",
    "slow",
)
#: Kinds that answer (or drop the connection) before anything is applied.
BEFORE_APPLY = frozenset({"500", "reset_before", "not_json", "429", "credits", "401"})

# Faults field -> inject kind, in the order of the cumulative table.
_FIELD_KINDS = (
    ("error_5xx", "500"),
    ("reset_before", "reset_before"),
    ("not_json", "not_json"),
    ("extra_429", "429"),
    ("reset_after", "reset_after"),
    ("truncated_json", "truncated_json"),
    ("slow", "slow"),
)


def _probability(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Faults.{attribute.name} must be a probability in [0, 1], got {value}")


@attrs.frozen
class Faults:
    """Probabilities of random faults, drawn once per API request (``seed`` makes them
    reproducible). At most one fault hits a request; the probabilities must sum to <= 1.

    - ``error_5xx``: 500 ``INTERNAL_ERROR`` bare error, nothing applied.
    - ``reset_before``: connection closed without an answer, nothing applied.
    - ``reset_after``: the change is applied, then the connection is closed without an
      answer (a lost response).
    - ``truncated_json``: the change is applied; the JSON answer is cut in half.
    - ``not_json``: nothing applied; 502 with an HTML body (a proxy's error page).
    - ``extra_429``: 429 ``TOO_MANY_REQUESTS`` concurrency answer, nothing applied.
    - ``slow``: the change is applied, then the answer waits ``slow_seconds`` (the client
      should time out).
    """

    error_5xx: float = attrs.field(default=0.0, validator=_probability)
    reset_before: float = attrs.field(default=0.0, validator=_probability)
    reset_after: float = attrs.field(default=0.0, validator=_probability)
    truncated_json: float = attrs.field(default=0.0, validator=_probability)
    not_json: float = attrs.field(default=0.0, validator=_probability)
    extra_429: float = attrs.field(default=0.0, validator=_probability)
    slow: float = attrs.field(default=0.0, validator=_probability)
    slow_seconds: float = 30.0

    def __attrs_post_init__(self) -> None:
        if sum(p for p, _ in self.table()) > 1.0 + 1e-9:
            raise ValueError("Faults probabilities must sum to at most 1")
        if self.slow_seconds < 0:
            raise ValueError("Faults.slow_seconds must be >= 0")

    def table(self) -> tuple[tuple[float, str], ...]:
        """(probability, inject kind) of each non-zero fault."""
        pairs = ((float(getattr(self, name)), kind) for name, kind in _FIELD_KINDS)
        return tuple((p, kind) for p, kind in pairs if p > 0.0)


@attrs.define
class FakeStats:
    """Counters of a :class:`FakeZoho`, updated live (keep a reference and read it later).

    API calls are requests under ``/crm/``; the token endpoint only counts in
    ``refresh_requests`` / ``refreshes``.
    """

    requests: int = 0
    """API calls received."""
    by_status: dict[int, int] = attrs.field(factory=dict)
    """API answers by HTTP status (dropped connections are in ``dropped``)."""
    max_in_flight: int = 0
    """Most API calls in flight at once, counted before the concurrency check."""
    in_flight: int = 0
    """API calls in flight now."""
    max_heavy_updates_in_flight: int = 0
    """Most Update Records calls of more than 10 records in flight at once."""
    heavy_updates_in_flight: int = 0
    """Update Records calls of more than 10 records in flight now."""
    refreshes: int = 0
    """Access tokens minted by the token endpoint."""
    refresh_requests: int = 0
    """Calls to the token endpoint, successful or not."""
    puts: int = 0
    """API calls with method PUT."""
    deletes: int = 0
    """API calls with method DELETE."""
    rejected_429: int = 0
    """``TOO_MANY_REQUESTS`` concurrency answers (over the limit, injected or random)."""
    items: int = 0
    """Records or ids carried by API calls that reached validation."""
    dropped: int = 0
    """API calls answered by closing the connection (``reset_before`` / ``reset_after``)."""


@attrs.define
class RequestRecord:
    """One API call as the fake saw it (kept in :attr:`FakeZoho.requests`)."""

    method: str
    path: str
    query: dict[str, str]
    external: str | None
    """The ``X-EXTERNAL`` header, or None."""
    body: Any
    """The parsed JSON body; None when absent or not JSON."""
    status: int | None = None
    """The HTTP status answered; None while in flight or when the connection was dropped."""
    token_ok: bool = False
    """Whether the request carried a live access token."""
    fault: str | None = None
    """The injected or random fault kind that hit this request, if any."""
