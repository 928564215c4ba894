"""What ``zcrm-related sync`` sends for one parent, and the plan's table. Pure: no I/O.

The diff is ``set_related``'s own (:func:`_diff.plan` over a :class:`_diff.CurrentList`,
refused by :func:`_diff.check_removal`); what this module adds is what a resumable job needs:

- a line with a final outcome in the journal is not sent again (its first outcome stands), but
  its id stays in the parent's target, so a link already done is never delinked;
- a record whose delink has a final outcome in the journal is not delinked again;
- a record whose delink was sent by an earlier run that stopped before its answer was written
  (a *pending* delink) and that the list no longer holds was delinked by that run: it is
  reported as such (:data:`DELINKED_EARLIER`), so each record delinked gets exactly one line.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping

import attrs

from .._diff import Action, CurrentList, check_removal, plan
from .._ops import Delink, Operation
from .._pages import PAGE_SIZE
from .plan import Plan
from .sync_input import Parent
from .words import counted

#: the code of a pending delink whose record the list no longer holds (see the docstring)
DELINKED_EARLIER = "DELINKED_EARLIER"

_COLUMNS = ("parents", "link", "update", "unchanged", "delink", "reads", "calls")


@attrs.frozen
class Slot:
    """A delink the journal knows: its number (the journal's ``line``, past the input's last
    line) and whether its outcome is final."""

    number: int
    final: bool


@attrs.define
class ParentPlan:
    """What one parent gets: ``ops`` (links and updates, then delinks) to send, and the rest."""

    parent: Parent
    actions: dict[str, Action]
    #: related ids to link or update, each once, in first-seen order
    send: list[str]
    #: related ids to delink
    delink: list[str]
    #: pending delinks of an earlier run that the list no longer holds
    gone: list[str]
    #: records in the list when it was read
    current: int
    #: lines (not done before) by action: ``link``, ``update``, ``unchanged``
    lines: Counter[str]
    ops: list[Operation]
    #: change calls, as the client's batcher will cut them
    calls: int

    @property
    def reads(self) -> int:
        """Reads the list took: one a page of 200, one for an empty list (retries aside)."""
        return max(1, math.ceil(self.current / PAGE_SIZE))


def plan_parent(
    parent: Parent,
    current: CurrentList,
    done: Callable[[int], bool],
    known: Mapping[str, Slot],
    max_remove: float,
) -> ParentPlan:
    """The plan of one parent whose list was read into ``current``; ``done(line)`` says which
    lines have a final outcome already, ``known`` the delinks the journal holds for this
    parent. Raises :class:`TooManyRemovalsError` when it would delink more than
    ``max_remove`` allows (counted over what this run would delink)."""
    target = parent.target
    the_plan = plan(target, current)
    delink = [rid for rid in the_plan.delink if not (rid in known and known[rid].final)]
    check_removal(len(delink), current.count, len(target.fields), max_remove)
    listed = set(the_plan.delink)
    gone = [
        rid
        for rid, slot in known.items()
        if not slot.final and rid not in listed and rid not in current.present
    ]
    lines: Counter[str] = Counter()
    wanted: dict[str, None] = {}
    for line, rid in parent.items():
        if done(line):
            continue
        action = the_plan.actions[rid]
        lines[action.value] += 1
        if action is not Action.UNCHANGED:
            wanted[rid] = None
    module, record_id, related_list, external = parent.key
    ops: list[Operation] = [parent.link(rid) for rid in wanted]
    ops += [Delink(module, record_id, related_list, rid, external) for rid in delink]
    batches = Plan()
    for op in ops:
        batches.add(op)
    batches.finish()
    return ParentPlan(
        parent,
        the_plan.actions,
        list(wanted),
        delink,
        gone,
        current.count,
        lines,
        ops,
        sum(batches.calls.values()),
    )


class Table:
    """The plan per parent kind (``Campaigns/Leads``): parents, lines to link, update or leave
    unchanged, records to delink, reads and change calls; and the parents left out."""

    def __init__(self) -> None:
        self.rows: dict[str, Counter[str]] = {}
        #: parents whose read failed, and those refused for --max-remove
        self.unread: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    def add(self, planned: ParentPlan) -> None:
        row = self.rows.setdefault(planned.parent.kind, Counter())
        row["parents"] += 1
        row.update(planned.lines)
        row["delink"] += len(planned.delink)
        row["reads"] += planned.reads
        row["calls"] += planned.calls

    def total(self, column: str) -> int:
        return sum(row[column] for row in self.rows.values())

    def describe(self, name: str, parents: int, lines: int) -> str:
        """The plan as a person reads it."""
        head = f"plan for {name}: {counted(parents, 'parent')}, {counted(lines, 'line')}"
        width = max([len("parent kind"), *map(len, self.rows)])
        out = [head, f"  {'parent kind':<{width}}" + "".join(f" {c:>10}" for c in _COLUMNS)]
        for kind, row in self.rows.items():
            out.append(f"  {kind:<{width}}" + "".join(f" {row[c]:>10,}" for c in _COLUMNS))
        out.append(f"  {'total':<{width}}" + "".join(f" {self.total(c):>10,}" for c in _COLUMNS))
        out.append(
            "  (link, update, unchanged: input lines; delink: records the lists hold that the "
            "file leaves out)"
        )
        reads, calls = self.total("reads"), self.total("calls")
        out.append(
            f"API credits: {reads:,} for the reads, {calls:,} for the changes "
            "(one a call; retries would spend more)"
        )
        for counts, why in (
            (self.refused, "would delink more than --max-remove allows: nothing is changed"),
            (self.unread, "could not be read: nothing is changed"),
        ):
            for kind, n in counts.items():
                out.append(f"{kind}: {counted(n, 'parent')} {why}")
        return "\n".join(out)
