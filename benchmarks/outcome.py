"""What every client hands back to the harness, whichever it is."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """Per-record successes and failures, HTTP requests made, and (when the client counts
    them) the answers by HTTP status, 429s included."""

    succeeded: int = 0
    failed: int = 0
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
