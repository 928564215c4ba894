"""Outages of the fake: for a while, every API call gets a 500, or has its connection dropped,
with nothing applied (the token endpoint stays up, as Zoho's accounts servers are apart).

An outage starts when the server has received ``after_requests`` API calls (so it falls in
the middle of a job however fast the machine is) and lasts ``seconds``; outages run one after
the other in the order they were planned. Each counts the API calls that reached it.
"""

from __future__ import annotations

import attrs

#: outage kind -> the fault the server answers with (see ``_server``)
OUTAGE_FAULTS = {"500": "500", "drop": "reset_before"}


@attrs.define
class Outage:
    """One planned outage, and what happened during it."""

    kind: str
    """``"500"`` (every call gets 500 ``INTERNAL_ERROR``) or ``"drop"`` (every connection is
    closed without an answer)."""
    seconds: float
    after_requests: int = 0
    """It starts with the API call that comes after this many (counted from the start)."""
    began: float | None = None
    """When it began (the server's loop clock), None until then."""
    requests: int = 0
    """API calls that arrived during it (each got the outage's answer)."""

    def __attrs_post_init__(self) -> None:
        if self.kind not in OUTAGE_FAULTS:
            raise ValueError(f"outage kind: expected one of {tuple(OUTAGE_FAULTS)}")
        if not self.seconds > 0 or self.after_requests < 0:
            raise ValueError("an outage needs seconds > 0 and after_requests >= 0")

    @property
    def ended(self) -> float | None:
        return None if self.began is None else self.began + self.seconds

    @classmethod
    def parse(cls, text: str) -> Outage:
        """``KIND:SECONDS@AFTER_REQUESTS``, e.g. ``500:30@300`` (``@...`` optional)."""
        head, _, after = text.partition("@")
        kind, _, seconds = head.partition(":")
        try:
            return cls(kind, float(seconds), int(after or 0))
        except ValueError as error:
            raise ValueError(
                f"outage {text!r}: expected KIND:SECONDS[@REQUESTS]: {error}"
            ) from None


class Outages:
    """The planned outages of one server."""

    def __init__(self) -> None:
        self.planned: list[Outage] = []
        self._next = 0

    def fault(self, now: float, requests: int) -> str | None:
        """The fault the API call that arrives now (the ``requests``-th) gets, if any."""
        while self._next < len(self.planned):
            outage = self.planned[self._next]
            if outage.began is None:
                if requests <= outage.after_requests:
                    return None
                outage.began = now
            if now < outage.began + outage.seconds:
                outage.requests += 1
                return OUTAGE_FAULTS[outage.kind]
            self._next += 1
        return None
