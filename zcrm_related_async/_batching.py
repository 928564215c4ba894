"""Grouping a stream of operations into the calls Zoho accepts. Pure: no I/O, no event loop.

Operations are grouped by what one call can carry (kind, parent record, related list,
``X-EXTERNAL`` header; for record updates: module, ``trigger`` and layout rules) and cut into
chunks of at most ``chunk_size``. A related id seen twice in one group is sent once and its
answer given to each duplicate. Because the input may be a stream of millions, at most
``max_buffered`` operations wait in unfilled groups; past that the oldest group goes out unfilled.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import groupby
from operator import attrgetter

import attrs

from ._ops import Delink, Operation, UpdateRecord

GroupKey = tuple[Hashable, ...]


def group_key(op: Operation) -> GroupKey:
    """What operations must share to travel in one call: ``("link" or "delink", module, record
    id, related list, external)``, or ``("update", module, external, trigger, layout rules)``.
    Made with the operation; a parent's links (or delinks) share one key object."""
    return op._group


_GROUP = attrgetter("_group")
_RELATED_ID = attrgetter("_related_id")
_RECORD_ID = attrgetter("_record_id")


def item_key(op: Operation) -> str:
    """The id Zoho answers for: the related record's, or for an update the record's own."""
    return op.record_id if type(op) is UpdateRecord else op.related_id  # type: ignore[union-attr]


def _same_payload(a: Operation, b: Operation) -> bool:
    return type(a) is Delink or a._fields_json == b._fields_json


@attrs.define(eq=False)
class Chunk:
    """The operations of one call, each distinct, and the input positions each one answers."""

    key: GroupKey
    ops: list[Operation] = attrs.Factory(list)
    #: input position of ``ops[i]``
    indices: list[int] = attrs.Factory(list)
    #: ``ops[i]`` also answers these input positions (duplicates of its id), if any
    duplicates: dict[int, list[int]] = attrs.Factory(dict)
    #: item key -> position in ``ops``
    positions: dict[str, int] = attrs.Factory(dict)
    #: HTTP requests made for this chunk so far (kept by the sender)
    attempts: int = 0
    #: of those, the ones that never connected (nothing was sent)
    unconnected: int = 0
    #: a chunk of the same group that must be done before this one is sent
    after: Chunk | None = None

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def sent(self) -> bool:
        """Whether a request carrying it may have reached Zoho (and been applied)."""
        return self.attempts > self.unconnected

    def answers(self) -> int:
        """Input positions it answers: its operations and their duplicates."""
        duplicates = self.duplicates
        return len(self.indices) + (sum(map(len, duplicates.values())) if duplicates else 0)


#: what :meth:`Batcher.add` returns when nothing is ready (shared: never changed)
NOTHING: list[Chunk] = []


class Batcher:
    """Feed operations in with :meth:`add`; full chunks come out, the rest with :meth:`flush`."""

    def __init__(self, chunk_size: int, max_buffered: int) -> None:
        self._chunk_size = chunk_size
        self._max_buffered = max(max_buffered, chunk_size)
        self._open: dict[GroupKey, Chunk] = {}
        self._buffered = 0

    @property
    def buffered(self) -> int:
        """Distinct operations waiting in unfilled chunks."""
        return self._buffered

    def add(self, index: int, op: Operation) -> list[Chunk]:
        """Take the operation at input position ``index``; return the chunks now ready."""
        return self.add_all(index, (op,))

    def add_all(self, first: int, ops: Sequence[Operation]) -> list[Chunk]:
        """Take ``ops``, at input positions ``first``, ``first + 1`` ...; return the chunks
        now ready. Input mostly comes parent by parent: each run of one group is taken in
        bulk (in C), one operation at a time only where an id repeats."""
        ready: list[Chunk] = []
        index = first
        for key, members in groupby(ops, _GROUP):
            run = list(members)
            ident = _RECORD_ID if key[0] == "update" else _RELATED_ID
            self._add_run(key, index, run, list(map(ident, run)), ready)
            index += len(run)
            while self._buffered > self._max_buffered:  # the oldest group goes out unfilled
                ready.append(self._close(next(iter(self._open))))
        return ready or NOTHING

    def _add_run(
        self, key: GroupKey, index: int, run: list[Operation], ids: list[str], ready: list[Chunk]
    ) -> None:
        size = self._chunk_size
        chunk = self._open.get(key)
        while run:
            if chunk is None:
                chunk = self._open[key] = Chunk(key)
            room = size - len(chunk.ops)
            taken, taken_ids = run[:room], ids[:room]
            positions = chunk.positions
            if len(set(taken_ids)) < len(taken_ids) or not positions.keys().isdisjoint(taken_ids):
                for offset, op in enumerate(run):  # an id repeats: one at a time, from here
                    chunk = self._add_one(key, index + offset, op, ids[offset], ready)
                return
            start = len(chunk.ops)
            positions.update(zip(taken_ids, range(start, start + len(taken)), strict=True))
            chunk.ops += taken
            chunk.indices += range(index, index + len(taken))
            self._buffered += len(taken)
            if len(chunk.ops) >= size:
                ready.append(self._close(key))
                chunk = None
            run, ids = run[room:], ids[room:]
            index += len(taken)

    def _add_one(
        self, key: GroupKey, index: int, op: Operation, ident: str, ready: list[Chunk]
    ) -> Chunk | None:
        """One operation whose id may repeat; returns its group's open chunk, if any."""
        chunk = self._open.get(key)
        if chunk is None:
            chunk = self._open[key] = Chunk(key)
        position = chunk.positions.get(ident)
        if position is not None:
            if _same_payload(chunk.ops[position], op):
                chunk.duplicates.setdefault(position, []).append(index)
                return chunk
            # Same id, other fields: a later call carries it, sent only once the earlier one is
            # done, so the last one asked for wins.
            earlier = self._close(key)
            ready.append(earlier)
            chunk = self._open[key] = Chunk(key, after=earlier)
        chunk.positions[ident] = len(chunk.ops)
        chunk.ops.append(op)
        chunk.indices.append(index)
        self._buffered += 1
        if len(chunk.ops) >= self._chunk_size:
            ready.append(self._close(key))
            return None
        return chunk

    def flush(self) -> list[Chunk]:
        """Every unfilled chunk, oldest first; the batcher is empty afterwards."""
        return [self._close(key) for key in list(self._open)]

    def _close(self, key: GroupKey) -> Chunk:
        chunk = self._open.pop(key)
        self._buffered -= len(chunk.ops)
        return chunk
