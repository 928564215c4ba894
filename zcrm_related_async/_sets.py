"""``set_related``: read a related list once, diff it against a target, send the difference.

The thin I/O shell around the pure :mod:`._diff`: the read is ``read_related`` (paged, retried,
under the limiter) and the changes go through ``run()`` (batched, retried, reported).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from ._diff import Action, CurrentList, check_max_remove, check_removal, collect_target, plan
from ._exceptions import InvalidOperationError
from ._ops import Delink, Link, Operation, parse_external
from ._report import SUCCESS, Report, Result
from ._stats import RequestCount

#: A target item that needed no call: already related, every field it names as given.
UNCHANGED = "UNCHANGED"
#: ``dry_run=True``: what each item would get.
WOULD_LINK = "WOULD_LINK"
WOULD_UPDATE = "WOULD_UPDATE"
WOULD_DELINK = "WOULD_DELINK"

_DRY = {Action.LINK: WOULD_LINK, Action.UPDATE: WOULD_UPDATE, Action.UNCHANGED: UNCHANGED}
_MESSAGES = {
    UNCHANGED: "already related with these values: nothing sent",
    WOULD_LINK: "dry run: would be linked",
    WOULD_UPDATE: "dry run: would have its relation fields updated",
    WOULD_DELINK: "dry run: would be delinked",
}

Reader = Callable[[tuple[str, ...], RequestCount], AsyncIterator[dict[str, Any]]]
Runner = Callable[[list[Operation]], Awaitable[Report]]


async def set_related(
    module: str,
    record_id: str,
    related_list: str,
    related: Iterable[Any],
    *,
    read: Reader,
    run: Runner,
    remove_others: bool,
    external: str | None,
    dry_run: bool,
    max_remove: float,
) -> Report:
    """See :meth:`AsyncClient.set_related`; ``read`` lists the current records with the given
    fields (counting its requests), ``run`` sends operations."""
    check_max_remove(max_remove)
    ext = parse_external(external, module) if external else None
    if ext is not None and ext.related_field is not None:
        raise InvalidOperationError(
            "external",
            "set_related names related records by their Zoho ids: X-EXTERNAL may name the "
            "parent's external field only",
        )
    Delink(module, record_id, related_list, "0", external)  # checks the URL's parts

    def op(related_id: str, index: int, fields: dict[str, Any] | None = None) -> Link:
        try:
            return Link(module, record_id, related_list, related_id, fields, external)
        except InvalidOperationError as error:
            raise error.at(index) from None

    target = collect_target(related)
    # Every item becomes an operation now, so a bad one raises before the read.
    links = {rid: op(rid, i, target.fields[rid]) for i, rid in enumerate(target.order)}
    reads = RequestCount()
    current = CurrentList(target)
    async for record in read(tuple(target.field_names()), reads):
        current.add(record)
    the_plan = plan(target, current, remove_others)
    check_removal(len(the_plan.delink), current.count, len(target.fields), max_remove)
    delinks = [Delink(module, record_id, related_list, rid, external) for rid in the_plan.delink]
    read_calls = reads.sent

    if dry_run:
        results = [_own(links[rid], _DRY[the_plan.actions[rid]]) for rid in target.order]
        results += [_own(d, WOULD_DELINK) for d in delinks]
        return Report(results, read_calls)

    changes = [rid for rid, action in the_plan.actions.items() if action is not Action.UNCHANGED]
    sent_at = {rid: i for i, rid in enumerate(changes)}
    to_send: list[Operation] = [links[rid] for rid in changes]
    to_send += delinks
    report = await run(to_send) if to_send else Report([], 0)
    got = report.results
    results = [
        got[sent_at[rid]] if rid in sent_at else _own(links[rid], UNCHANGED) for rid in target.order
    ]
    results += got[len(sent_at) :]
    return Report(results, read_calls + report.calls)


def _own(op: Operation, code: str) -> Result:
    return Result(op, SUCCESS, code, _MESSAGES[code], {"id": op.related_id})  # type: ignore[union-attr]
