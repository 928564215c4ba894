"""What ``set_related`` must send to make a related list exactly a target set. Pure: no I/O.

The target is streamed in once (:func:`collect_target`); the current list is then streamed in
page by page (:class:`CurrentList`), keeping only what the plan needs: for a record of the
target, the values of the fields the target names for it; for any other record, its id alone
(it will be delinked). So a list of 100,000 members costs 100,000 short strings, not 100,000
dicts. :func:`plan` then says, for each target item, link / update / unchanged, and which
current records to delink; :func:`check_removal` refuses a plan that delinks too much.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._arguments import split
from ._exceptions import InvalidOperationError, TooManyRemovalsError

_MISSING = object()


class Action(enum.Enum):
    LINK = "link"  # not in the list: link it (with its fields, if any)
    UPDATE = "update"  # in the list, but a field it names differs from what Zoho holds
    UNCHANGED = "unchanged"  # in the list, and every field it names already holds its value


@attrs.define
class Target:
    """The target items: their ids in input order, and each distinct id's relation fields."""

    order: list[str] = attrs.Factory(list)
    #: id -> the relation fields given for it (``None``: an id alone)
    fields: dict[str, dict[str, Any] | None] = attrs.Factory(dict)

    def field_names(self) -> list[str]:
        """Every relation field any item names, in first-seen order."""
        names: dict[str, None] = {}
        for given in self.fields.values():
            if given:
                names.update(dict.fromkeys(given))
        return list(names)


def collect_target(items: Iterable[Any], key: str = "id") -> Target:
    """Stream the items (ids, or dicts with ``key`` and relation fields) into a :class:`Target`.

    An id given twice must carry the same fields both times (else which one is meant?).
    """
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise InvalidOperationError("related", f"expected items, got {type(items).__name__}")
    target = Target()
    for index, item in enumerate(items):
        try:
            related_id, fields = split(item, key)
        except InvalidOperationError as error:
            raise error.at(index) from None
        if not isinstance(related_id, str):
            raise InvalidOperationError(key, "expected a str", index)
        before = target.fields.get(related_id, _MISSING)
        if before is _MISSING:
            target.fields[related_id] = fields
        elif before != fields:
            raise InvalidOperationError(
                key, f"{related_id!r} is given twice with different fields", index
            )
        target.order.append(related_id)
    return target


class CurrentList:
    """The list as Zoho holds it, fed one record at a time, held compactly."""

    def __init__(self, target: Target) -> None:
        self._target = target
        #: target ids present in the list -> Zoho's values of the fields the target item
        #: names, in the item's order (``None``: the item names no field)
        self.present: dict[str, tuple[Any, ...] | None] = {}
        #: ids of the records the target leaves out, in the order Zoho listed them
        self.absent: list[str] = []
        self.count = 0

    def add(self, record: Mapping[str, Any]) -> None:
        related_id = str(record["id"])
        self.count += 1
        fields = self._target.fields
        if related_id not in fields:
            self.absent.append(related_id)
            return
        given = fields[related_id]
        if given:
            self.present[related_id] = tuple(record.get(name, _MISSING) for name in given)
        else:
            self.present[related_id] = None


@attrs.frozen
class Plan:
    """One action per distinct target id, and the ids to delink."""

    actions: dict[str, Action]
    delink: list[str]

    def count(self, action: Action) -> int:
        return sum(1 for a in self.actions.values() if a is action)


def plan(target: Target, current: CurrentList, remove_others: bool = True) -> Plan:
    """What to send: links for the missing, updates where a named field differs, delinks
    for the records the target leaves out (none when ``remove_others`` is false)."""
    actions: dict[str, Action] = {}
    for related_id, given in target.fields.items():
        if related_id not in current.present:
            actions[related_id] = Action.LINK
            continue
        held = current.present[related_id]
        differs = given is not None and held != tuple(given.values())
        actions[related_id] = Action.UPDATE if differs else Action.UNCHANGED
    return Plan(actions, list(current.absent) if remove_others else [])


def check_removal(remove: int, current: int, kept: int, max_remove: float) -> None:
    """Refuse to delink more than ``max_remove`` allows (a share of the current list when a
    float, a count when an int), and refuse an empty target that would empty a list."""
    if remove == 0:
        return
    if kept == 0 and remove == current:
        raise TooManyRemovalsError(
            f"the target is empty and would delink all {current} records of the list; "
            "to empty a list on purpose, delink() its records",
            current,
            remove,
            0,
        )
    allowed = max_remove if isinstance(max_remove, int) else int(max_remove * current)
    if remove > allowed:
        what = f"{max_remove:.0%} of {current}" if isinstance(max_remove, float) else "max_remove"
        raise TooManyRemovalsError(
            f"the target would delink {remove} of the {current} records of the list, more "
            f"than {what} ({allowed}); nothing was changed. Pass a larger max_remove= if "
            "that is what you mean",
            current,
            remove,
            allowed,
        )


def check_max_remove(max_remove: object) -> float:
    """A share in [0, 1] (a float) or a count >= 0 (an int)."""
    if isinstance(max_remove, bool) or not isinstance(max_remove, (int, float)):
        raise InvalidOperationError(
            "max_remove", f"expected a float share or an int count, got {max_remove!r}"
        )
    if isinstance(max_remove, float) and not 0.0 <= max_remove <= 1.0:
        raise InvalidOperationError(
            "max_remove", f"a share must be within 0.0-1.0, got {max_remove!r}"
        )
    if isinstance(max_remove, int) and max_remove < 0:
        raise InvalidOperationError("max_remove", f"a count must be >= 0, got {max_remove!r}")
    return max_remove
