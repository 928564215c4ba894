"""Turning one call's outcome into one result per input operation. Pure.

A finished chunk becomes a :class:`ChunkPart`: what the call carried (its group key, each
record's id and encoded fields) and what Zoho answered. The operation objects themselves are
let go, and a :class:`Result` is built only when someone looks at it, so a report of a million
operations costs tens of bytes per operation, not hundreds.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Iterator
from itertools import chain
from operator import attrgetter
from typing import Any

import attrs

from ._batching import Chunk, GroupKey
from ._ops import Delink, Link, Operation, UpdateRecord
from ._report import ERROR, NO_RESULT, SUCCESS, UNREADABLE_RESPONSE, Result
from ._wire import Answer, Parsed, PerRecord, Unreadable, WholeCall, key_field


@attrs.frozen
class Failed:
    """No usable answer: every record of the call gets this outcome."""

    code: str
    message: str


_NO_RESULT = Answer(ERROR, NO_RESULT, "Zoho's answer held no result for this record", {})


def _decode(fields_json: bytes | None) -> dict[str, Any] | None:
    return None if fields_json is None else json.loads(fields_json)


def rebuild(key: GroupKey, ident: str, fields_json: bytes | None) -> Operation:
    """The operation a chunk carried, from its group key and its own id and fields: equal to
    the one given (fields as they were sent: a tuple comes back as a list)."""
    kind = key[0]
    if kind == "link":
        _, module, record_id, related_list, external = key
        return Link(module, record_id, related_list, ident, _decode(fields_json), external)  # type: ignore[arg-type]
    if kind == "delink":
        _, module, record_id, related_list, external = key
        return Delink(module, record_id, related_list, ident, external)  # type: ignore[arg-type]
    _, module, external, trigger, layout_rules = key
    return UpdateRecord(module, ident, _decode(fields_json) or {}, external, trigger, layout_rules)  # type: ignore[arg-type]


_FIELDS_JSON = attrgetter("_fields_json")
_RELATED_ID = attrgetter("_related_id")
_RECORD_ID = attrgetter("_record_id")


def _pack(ids: list[str], digits: bool = False) -> list[str] | array[int]:
    """Record ids as 8-byte numbers when each is a canonical number (no leading zero) that fits
    one: a str of 19 digits costs 68 bytes and an int 36, where a packed one costs 8.
    ``digits``: each id is known to be ASCII digits (a Zoho id, checked when its operation
    was made), so only a leading zero can keep it from reading back as it was."""
    try:
        packed = array("Q", map(int, ids))
    except (ValueError, OverflowError):  # not a number, or negative, or past 64 bits
        return ids
    if digits:
        return ids if "\n0" in "\n" + "\n".join(ids) else packed
    # Each must read back as it was ("007", "+7", " 7" and "1_0" are ids of their own); one
    # pass in C, where a check per id in Python cost more than the packing.
    return packed if list(map(str, packed)) == ids else ids


class ChunkPart:
    """The results of one call: ``result(position)`` for the record at that position.

    It holds the chunk's operations until :meth:`compact` lets them go for what a report needs
    to rebuild them (its group key, each record's id packed, and its encoded fields): a
    stream's results, built at once, take the operations themselves.
    """

    __slots__ = (
        "_answers",
        "_attempts",
        "_fields",
        "_http_status",
        "_ids",
        "_key",
        "_key_field",
        "_ops",
    )

    def __init__(
        self, chunk: Chunk, outcome: Parsed | Failed, http_status: int | None, attempts: int
    ) -> None:
        ops = chunk.ops
        self._key = chunk.key
        self._key_field = key_field(ops[0])
        self._ops: list[Operation] | None = ops
        self._ids: list[str] | array[int] = []
        self._fields: bytes | list[bytes | None] | None = None
        self._http_status = http_status
        self._attempts = attempts
        answers: Answer | list[Answer | None]
        if isinstance(outcome, PerRecord) and outcome.same is not None:
            answers = outcome.same  # the common answer: one shared bare echo for all
        elif isinstance(outcome, PerRecord):
            first = outcome.answers[0] if outcome.answers else None
            same = first is not None and all(a is first for a in outcome.answers)
            answers = first if same else outcome.answers  # type: ignore[assignment]
        elif isinstance(outcome, WholeCall):
            answers = outcome.answer
        elif isinstance(outcome, Unreadable):
            answers = Answer(ERROR, UNREADABLE_RESPONSE, f"Zoho's answer was {outcome.reason}", {})
        else:
            answers = Answer(ERROR, outcome.code, outcome.message, {})
        self._answers = answers

    def compact(self) -> None:
        """Keep what a report needs instead of the operations (tens of bytes a record)."""
        ops = self._ops
        if ops is None:
            return
        ident = _RECORD_ID if type(ops[0]) is UpdateRecord else _RELATED_ID
        self._ids = _pack(list(map(ident, ops)), ops[0]._ext is None)
        # A chunk's operations are all of one kind: a delink's have no fields.
        fields = [None] if type(ops[0]) is Delink else list(map(_FIELDS_JSON, ops))
        first = fields[0]
        # Mostly every record carries the same fields (one bytes object, see _fields): then
        # one reference does for all.
        self._fields = first if fields.count(first) == len(fields) else fields
        self._ops = None

    def _answer(self, position: int) -> Answer:
        answers = self._answers
        answer = answers if isinstance(answers, Answer) else answers[position]
        return _NO_RESULT if answer is None else answer

    def ok(self, position: int) -> bool:
        return self._answer(position).ok

    def code(self, position: int) -> str:
        return self._answer(position).code

    def tally(self, counts: Counter[str], answered: Answered) -> int:
        """Add the codes of the results ``answered`` to ``counts``; return how many are
        successes. One addition when every record got the same answer."""
        answers = self._answers
        if isinstance(answers, Answer):
            counts[answers.code] += len(answered)
            return len(answered) if answers.ok else 0
        succeeded = 0
        for position in answered.positions():
            answer = self._answer(position)
            counts[answer.code] += 1
            succeeded += answer.ok
        return succeeded

    def result(self, position: int, op: Operation | None = None) -> Result:
        """The result at ``position``; ``op``: the operation given, if the caller still has
        it (otherwise it is the one carried, or rebuilt from what the call carried)."""
        answers = self._answers
        answer = answers if type(answers) is Answer else answers[position] or _NO_RESULT  # type: ignore[index]
        details = answer.details
        ops = self._ops
        if ops is not None:  # a stream's: made at once, from the operation itself
            carried: Any = ops[position]
            if op is None:
                op = carried
            if details is None:
                kind = type(carried)
                ident = carried._record_id if kind is UpdateRecord else carried._related_id
                details = {self._key_field: ident}
        else:
            ident = str(self._ids[position])
            if op is None:
                fields = self._fields
                at = fields[position] if isinstance(fields, list) else fields
                op = rebuild(self._key, ident, at)
            if details is None:
                details = {self._key_field: ident}
        return Result(
            op,
            SUCCESS if answer.ok else ERROR,
            answer.code,
            answer.message,
            details,
            self._http_status,
            self._attempts,
        )

    def alike(self, answered: Answered) -> tuple[Result, list[str] | None] | None:
        """When every input operation ``answered`` has one outcome (the usual all-``SUCCESS``
        call) and the operations are still held: the result of the first, and the ids that
        alone tell the others' results apart (their ``details`` are ``{key: id}``), or None
        when their details are the same too. None otherwise: see :meth:`results`. Lets a
        caller handle a call's results at once, with no result object per record."""
        answer = self._answers
        ops = self._ops
        if type(answer) is not Answer or ops is None or answered.extra or answered.offset:
            return None
        first = self.result(0)
        if answer.details is not None:
            return first, None
        return first, list(map(_RECORD_ID if type(ops[0]) is UpdateRecord else _RELATED_ID, ops))

    def results(self, answered: Answered) -> list[tuple[int, Result]]:
        """``(input position, result)`` for each input operation ``answered``, at once: a
        stream's results (the operations still held). One answer for all is the usual case,
        built in one comprehension."""
        answer = self._answers
        ops = self._ops
        if type(answer) is not Answer or ops is None or answered.extra or answered.offset:
            return [(index, self.result(position)) for index, position in answered]
        status = SUCCESS if answer.ok else ERROR
        code, message, details = answer.code, answer.message, answer.details
        http_status, attempts = self._http_status, self._attempts
        if details is not None:
            return [
                (i, Result(op, status, code, message, details, http_status, attempts))
                for i, op in zip(answered.indices, ops, strict=True)
            ]
        key = self._key_field
        ids = map(_RECORD_ID if type(ops[0]) is UpdateRecord else _RELATED_ID, ops)
        return [
            (i, Result(op, status, code, message, {key: ident}, http_status, attempts))
            for i, op, ident in zip(answered.indices, ops, ids, strict=True)
        ]


class ListPart:
    """Operations that share one outcome without a call (not sent: job stopped early)."""

    __slots__ = ("_failed", "ops")

    def __init__(self, failed: Failed, ops: list[Operation] | None = None) -> None:
        self._failed = failed
        self.ops: list[Operation] = ops if ops is not None else []

    def compact(self) -> None:
        """Nothing to let go: it keeps the operations (few: those a stopped job held)."""

    def alike(self, answered: Answered) -> None:
        """Never: its results are few (see :meth:`ChunkPart.alike`)."""
        return None

    def ok(self, position: int) -> bool:
        return False

    def code(self, position: int) -> str:
        return self._failed.code

    def tally(self, counts: Counter[str], answered: Answered) -> int:
        counts[self._failed.code] += len(answered)
        return 0

    def results(self, answered: Answered) -> list[tuple[int, Result]]:
        return [(index, self.result(position)) for index, position in answered]

    def result(self, position: int, op: Operation | None = None) -> Result:
        given = self.ops[position] if op is None else op
        return Result(given, ERROR, self._failed.code, self._failed.message, {})


Part = ChunkPart | ListPart


class Answered:
    """The input positions a part answers: ``indices[i]`` is answered by the part's position
    ``offset + i``, and each ``(input position, part position)`` of ``extra`` (duplicates of an
    id) too. Kept as the chunk's own list of indices, so that handing over a hundred results
    costs no object per result."""

    __slots__ = ("extra", "indices", "offset")

    def __init__(
        self, indices: list[int], offset: int = 0, extra: list[tuple[int, int]] | None = None
    ) -> None:
        self.indices = indices
        self.offset = offset
        self.extra = extra

    def __len__(self) -> int:
        return len(self.indices) + (len(self.extra) if self.extra else 0)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """``(input position, position in the part)`` for every input operation answered."""
        indices, offset = self.indices, self.offset
        pairs = zip(indices, range(offset, offset + len(indices)), strict=True)
        return chain(pairs, self.extra) if self.extra else pairs

    def positions(self) -> Iterator[int]:
        """The part's position for each input operation answered."""
        for _, position in self:
            yield position


def answered(chunk: Chunk) -> Answered:
    """What a chunk's part answers: its operations and their duplicates."""
    duplicates = chunk.duplicates
    extra = None
    if duplicates:
        extra = [(index, position) for position, more in duplicates.items() for index in more]
    return Answered(chunk.indices, 0, extra)


def chunk_results(
    chunk: Chunk, outcome: Parsed | Failed, http_status: int | None, attempts: int
) -> Iterator[tuple[int, Result]]:
    """``(input position, result)`` for every input operation the chunk carried."""
    part = ChunkPart(chunk, outcome, http_status, attempts)
    for index, position in answered(chunk):
        yield index, part.result(position)
