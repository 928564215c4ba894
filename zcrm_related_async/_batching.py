"""Grouping a stream of operations into the calls Zoho accepts. Pure: no I/O, no event loop.

Operations are grouped by what one call can carry (kind, parent record, related list,
``X-EXTERNAL`` header; for record updates: module, ``trigger`` and layout rules) and cut into
chunks of at most ``chunk_size``. A related id seen twice in one group is sent once and its
answer given to each duplicate. Because the input may be a stream of millions, at most
``max_buffered`` operations wait in unfilled groups; past that the oldest group goes out unfilled.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import attrs

from ._ops import Delink, Operation, UpdateRecord

GroupKey = tuple[Hashable, ...]


def group_key(op: Operation) -> GroupKey:
    """What operations must share to travel in one call."""
    if isinstance(op, UpdateRecord):
        return ("update", op.module, op.external, op.trigger, op.apply_layout_rules)
    # A link's or a delink's: ("link" or "delink", module, record id, related list, external),
    # made when it was, one object shared by a parent's operations.
    return op._group


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
        # The chunk the last operation went to, and its key: input comes parent by parent, and
        # a parent's operations share one key object, so the next one mostly goes to the same
        # chunk, found without a lookup.
        self._last: Chunk | None = None
        self._last_key: GroupKey | None = None

    @property
    def buffered(self) -> int:
        """Distinct operations waiting in unfilled chunks."""
        return self._buffered

    def add(self, index: int, op: Operation) -> list[Chunk]:
        """Take the operation at input position ``index``; return the chunks now ready."""
        return self.add_all(index, (op,))

    def add_all(self, first: int, ops: Sequence[Operation]) -> list[Chunk]:
        """Take ``ops``, at input positions ``first``, ``first + 1`` ...; return the chunks
        now ready. One call for many operations: this loop is the per-record cost of
        grouping, so it keeps everything in locals."""
        ready = NOTHING
        chunk = self._last
        last_key = self._last_key
        size = self._chunk_size
        index = first - 1
        for op in ops:
            index += 1
            this: Any = op
            if type(op) is UpdateRecord:
                key = group_key(op)
                ident = this._record_id
            else:
                key = this._group  # one object for a parent's operations, mostly
                ident = this._related_id
            if chunk is None or key is not last_key:
                chunk = self._open.get(key)
                if chunk is None:
                    chunk = self._open[key] = Chunk(key)
                last_key = key
            positions = chunk.positions
            position = positions.get(ident)
            if position is not None:
                if _same_payload(chunk.ops[position], op):
                    chunk.duplicates.setdefault(position, []).append(index)
                    continue
                # Same id, other fields: a later call carries it, sent only once the earlier
                # one is done, so the last one asked for wins.
                earlier = self._close(chunk.key)
                ready = [*ready, earlier]
                chunk = self._open[earlier.key] = Chunk(earlier.key, after=earlier)
                positions = chunk.positions
            chunk_ops = chunk.ops
            positions[ident] = len(chunk_ops)
            chunk_ops.append(op)
            chunk.indices.append(index)
            self._buffered += 1
            if len(chunk_ops) >= size:
                ready = [*ready, self._close(chunk.key)]
                chunk = None
            elif self._buffered > self._max_buffered:
                oldest = self._close(next(iter(self._open)))
                ready = [*ready, oldest]
                if oldest is chunk:
                    chunk = None
        self._last = chunk
        self._last_key = last_key
        return ready

    def flush(self) -> list[Chunk]:
        """Every unfilled chunk, oldest first; the batcher is empty afterwards."""
        return [self._close(key) for key in list(self._open)]

    def _close(self, key: GroupKey) -> Chunk:
        chunk = self._open.pop(key)
        if chunk is self._last:  # (add_all keeps its own until it returns)
            self._last = None
        self._buffered -= len(chunk.ops)
        return chunk
