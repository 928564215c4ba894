"""What a job will send, worked out with the client's own batcher (pure: nothing is sent).

Fed the same operations in the same order with the same chunk size and buffer, the batcher
cuts exactly the chunks the client will send, so the plan's calls are the calls a job makes
when Zoho answers each one the first time; retries spend more.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from .._batching import Batcher, Chunk
from .._config import DEFAULT_MAX_BUFFERED, MAX_CHUNK_SIZE
from .._ops import Delink, Link, Operation, UpdateRecord
from .words import counted

KINDS = ("link", "delink", "update")
_KIND: dict[type, str] = {Link: "link", Delink: "delink", UpdateRecord: "update"}


class Plan:
    """Lines and calls by operation kind; :meth:`add` each operation, then :meth:`finish`."""

    def __init__(
        self, chunk_size: int = MAX_CHUNK_SIZE, max_buffered: int = DEFAULT_MAX_BUFFERED
    ) -> None:
        self._batcher = Batcher(chunk_size, max_buffered)
        self._added = 0
        self._by_type: defaultdict[type, int] = defaultdict(int)
        self.calls: Counter[str] = Counter()

    @property
    def lines(self) -> Counter[str]:
        """Lines by operation kind."""
        lines: Counter[str] = Counter()
        for op, n in self._by_type.items():
            lines[_KIND.get(op, "update")] += n  # as lines.kind_of names it
        return lines

    def add(self, op: Operation) -> None:
        self.add_all([op])

    def add_all(self, ops: list[Operation]) -> None:
        """Operations in the order the job will read them (a batch at a time is cheaper)."""
        by_type = self._by_type
        for kind, n in Counter(map(type, ops)).items():
            by_type[kind] += n
        ready = self._batcher.add_all(self._added, ops)
        self._added += len(ops)
        if ready:
            self._count(ready)

    def finish(self) -> None:
        self._count(self._batcher.flush())

    def _count(self, chunks: list[Chunk]) -> None:
        for chunk in chunks:
            self.calls[str(chunk.key[0])] += 1  # every call spends one API credit

    def describe(self, name: str, done: str = "") -> str:
        """The plan as a person reads it: what is sent, in how many calls, for what credits."""
        lines = counted(sum(self.lines.values()), "line") + " to send"
        lines += f" ({done})" if done else ""
        credits = f"{sum(self.calls.values()):,} (one a call; retries would spend more)"
        return f"plan for {name}: {lines}\n{self.table()}\nAPI credits: {credits}"

    def table(self) -> str:
        """Lines and calls per kind, and the total, as a table."""
        rows = [(kind, self.lines[kind], self.calls[kind]) for kind in KINDS if self.lines[kind]]
        rows.append(("total", sum(self.lines.values()), sum(self.calls.values())))
        out = [f"  {'operation':<10} {'lines':>12} {'calls':>10}"]
        out += [f"  {kind:<10} {lines:>12,} {calls:>10,}" for kind, lines, calls in rows]
        return "\n".join(out)
