"""The input of ``zcrm-related sync``: link lines, grouped by parent record. Pure: no I/O but
reading the file.

A sync file holds ``run``'s link lines (JSONL or CSV, see :mod:`.lines`), in any order. Each
parent (module, record id, related list and ``external``) named in the file is made to hold
exactly the lines given for it, so the whole file is read before anything is sent: the file
may be unsorted, and a parent's target is only known once its last line has been read.

Per parent, the target is held as :class:`_diff.Target` holds it (each distinct related id once,
with its relation fields) plus the line number of each item (4 bytes), so a million lines cost
about what a million short ids do.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterator
from typing import Any

import attrs

from .._diff import Target
from .._exceptions import InvalidOperationError
from .._ops import Link, parse_external
from .lines import InputFile, kind_of
from .rows import MAX_ERRORS, InputError

#: (module, record_id, related_list, external): one related list of one parent record
ParentKey = tuple[str, str, str, "str | None"]

_MISSING = object()


class Stopped(Exception):
    """Reading the input was interrupted (a signal)."""


@attrs.define
class Parent:
    """One parent's target: the related ids in input order with their fields, and the input
    line of each (``lines[i]`` is the line of ``target.order[i]``)."""

    key: ParentKey
    target: Target = attrs.Factory(Target)
    lines: array[int] = attrs.Factory(lambda: array("I"))

    @property
    def kind(self) -> str:
        """The parent kind the plan is counted by: ``Campaigns/Leads``."""
        return f"{self.key[0]}/{self.key[2]}"

    def add(self, line: int, related_id: str, fields: dict[str, Any] | None) -> None:
        """Add a line's item; an id given twice must carry the same fields both times (as
        ``set_related`` asks: else which one is meant?)."""
        before = self.target.fields.get(related_id, _MISSING)
        if before is _MISSING:
            self.target.fields[related_id] = fields
        elif before != fields:
            raise InvalidOperationError(
                "related_id",
                f"{related_id!r} is given twice for this parent with different fields",
            )
        self.target.order.append(related_id)
        self.lines.append(line)

    def items(self) -> Iterator[tuple[int, str]]:
        """``(line, related id)`` of every item, in input order."""
        return zip(self.lines, self.target.order, strict=True)

    def link(self, related_id: str) -> Link:
        """The operation that links (or updates) one of its items."""
        module, record_id, related_list, external = self.key
        fields = self.target.fields[related_id]
        return Link(module, record_id, related_list, related_id, fields, external)


@attrs.define
class Targets:
    """Every parent of the file, in the order each first appears, and the lines read."""

    parents: dict[ParentKey, Parent] = attrs.Factory(dict)
    lines: int = 0
    #: the last line number of the file that holds an item
    last_line: int = 0


def read_targets(
    source: InputFile,
    errors: list[InputError],
    digest: Any = None,
    stop: threading.Event | None = None,
    targets: Targets | None = None,
) -> Targets:
    """Read and check the whole file into ``targets`` (a new one by default: given, its
    ``lines`` can be watched from another thread as they are read); bad lines go to
    ``errors`` (up to ``MAX_ERRORS``).

    A line whose op is not ``link`` is bad input here: a sync says what each list must hold,
    and the delinks follow from it. So is an ``external`` naming the related records' external
    field (the current list names its records by Zoho id, as ``set_related``'s target must).
    """
    targets = Targets() if targets is None else targets
    parents = targets.parents
    for line, op in source.operations(digest=digest, errors=errors):
        if stop is not None and stop.is_set():
            raise Stopped
        if len(errors) >= MAX_ERRORS:
            break
        if type(op) is not Link:
            errors.append(
                InputError(
                    line,
                    "op",
                    f"sync takes link lines only (the delinks follow from them), "
                    f"got {kind_of(op)!r}",
                )
            )
            continue
        external = op.external
        if external and parse_external(external, op.module).related_field is not None:
            errors.append(
                InputError(
                    line,
                    "external",
                    "sync names related records by their Zoho ids: X-EXTERNAL may name the "
                    "parent's external field only",
                )
            )
            continue
        key: ParentKey = (op.module, op.record_id, op.related_list, external)
        parent = parents.get(key)
        if parent is None:
            parent = parents[key] = Parent(key)
        try:
            parent.add(line, op.related_id, dict(op.fields) if op.fields else None)
        except InvalidOperationError as error:
            errors.append(InputError(line, error.field, error.problem))
            continue
        targets.lines += 1
        targets.last_line = max(targets.last_line, line)
    return targets
