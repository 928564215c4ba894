"""Which input line, and which kind of operation, each position of the client's stream came
from: the job maps every result back to its line with it.

Lines are sent in increasing order, mostly one after the other (a fresh job on a file without
blank lines sends every line), so the map keeps runs of consecutive lines, 16 bytes a run,
rather than 4 bytes a line: a million lines sent cost 16 bytes, not 4 MB. Likewise the kind,
kept per line only once a second kind appears.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right


class SentLines:
    """:meth:`add` each line as it is sent; then :meth:`line` and :meth:`kind` of a position
    (the order of :meth:`add`, from 0)."""

    __slots__ = ("_firsts", "_kind", "_kinds", "_next", "_starts", "count")

    def __init__(self) -> None:
        #: the position where each run starts, and its first line
        self._starts = array("Q")
        self._firsts = array("Q")
        self._next = -1  # the line that would go on with the last run
        self._kind = -1  # the kind of every line so far, while there is one
        self._kinds: bytearray | None = None  # each line's kind, once there are several
        #: lines added
        self.count = 0

    def add(self, line: int, kind: int) -> None:
        if line != self._next:
            self._starts.append(self.count)
            self._firsts.append(line)
        self._next = line + 1
        if self._kinds is not None:
            self._kinds.append(kind)
        elif kind != self._kind:
            if self.count:  # a second kind: from now on, one byte a line
                self._kinds = bytearray((self._kind,)) * self.count
                self._kinds.append(kind)
            else:
                self._kind = kind
        self.count += 1

    def line(self, position: int) -> int:
        starts = self._starts
        if len(starts) == 1:
            return self._firsts[0] + position
        run = bisect_right(starts, position) - 1
        return self._firsts[run] + position - starts[run]

    def lines(self, positions: list[int]) -> list[int]:
        """:meth:`line` of each position, at once."""
        if len(self._starts) == 1:
            first = self._firsts[0]
            return [first + position for position in positions]
        return list(map(self.line, positions))

    def kind(self, position: int) -> int:
        return self._kind if self._kinds is None else self._kinds[position]
