"""The pure pieces of ``zcrm-related sync``: a parent's plan when resuming, --max-remove."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from zcrm_related_async import TooManyRemovalsError
from zcrm_related_async._cli.sync_args import max_remove
from zcrm_related_async._cli.sync_input import Parent
from zcrm_related_async._cli.sync_plan import Slot, Table, plan_parent
from zcrm_related_async._diff import CurrentList
from zcrm_related_async._ops import Delink, Link

KEY = ("Campaigns", "1001", "Leads", None)


def parent(*items: tuple[int, str, dict[str, Any] | None]) -> Parent:
    made = Parent(KEY)
    for line, rid, fields in items:
        made.add(line, rid, fields)
    return made


def current(target: Parent, *records: dict[str, Any]) -> CurrentList:
    listed = CurrentList(target.target)
    for found in records:
        listed.add(found)
    return listed


def never(line: int) -> bool:
    return False


def test_links_updates_and_delinks_with_their_lines_and_calls() -> None:
    p = parent((1, "11", {"S": "a"}), (2, "12", {"S": "b"}), (3, "14", None), (5, "11", {"S": "a"}))
    listed = current(p, {"id": "11", "S": "a"}, {"id": "12", "S": "x"}, {"id": "13"})
    planned = plan_parent(p, listed, never, {}, 0.5)
    assert planned.send == ["12", "14"]
    assert planned.delink == ["13"]
    assert planned.lines == {"unchanged": 2, "update": 1, "link": 1}
    assert [type(op) for op in planned.ops] == [Link, Link, Delink]
    assert (planned.calls, planned.reads, planned.current) == (2, 1, 3)


def test_lines_done_before_are_not_sent_but_stay_in_the_target() -> None:
    p = parent((1, "11", None), (2, "12", None))
    listed = current(p, {"id": "11"})  # 12's link is done (final in the journal), yet not listed
    planned = plan_parent(p, listed, lambda line: line == 2, {}, 0.5)
    assert planned.send == []
    assert planned.delink == []  # 11 is kept: the target is every line
    assert planned.lines == {"unchanged": 1}


def test_a_pending_delink_the_list_no_longer_holds_was_done_by_the_earlier_run() -> None:
    p = parent((1, "11", None))
    listed = current(p, {"id": "11"}, {"id": "13"})
    known = {"12": Slot(10, False), "13": Slot(11, False), "14": Slot(12, True)}
    planned = plan_parent(p, listed, never, known, 1.0)
    assert planned.gone == ["12"]  # sent, answer lost, gone: delinked
    assert planned.delink == ["13"]  # sent, answer lost, still there: again, under its number


def test_a_final_delink_is_not_sent_again_nor_counted_against_max_remove() -> None:
    p = parent((1, "11", None))
    listed = current(p, {"id": "11"}, {"id": "12"}, {"id": "13"})
    with pytest.raises(TooManyRemovalsError):
        plan_parent(p, listed, never, {}, 0.5)  # 2 of 3 would go
    planned = plan_parent(p, listed, never, {"12": Slot(9, True)}, 0.5)
    assert planned.delink == ["13"]


def test_the_table_counts_per_parent_kind() -> None:
    p = parent((1, "11", None), (2, "12", None))
    table = Table()
    table.add(plan_parent(p, current(p, *({"id": str(100 + i)} for i in range(300))), never,
                          {}, 1.0))  # fmt: skip
    table.refused["Campaigns/Leads"] += 1
    text = table.describe("t.jsonl", 2, 4)
    assert text.splitlines()[0] == "plan for t.jsonl: 2 parents, 4 lines"
    assert text.splitlines()[2].split() == ["Campaigns/Leads", "1", "2", "0", "0", "300", "2", "4"]
    assert "API credits: 2 for the reads, 4 for the changes" in text
    assert "Campaigns/Leads: 1 parent would delink more than --max-remove allows" in text


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.25", 0.25), ("25%", 0.25), ("1.0", 1.0), ("100%", 1.0), ("1", 1), ("1000", 1000),
     ("0", 0)],
)  # fmt: skip
def test_max_remove_is_a_share_or_a_count(text: str, value: float) -> None:
    got = max_remove(text)
    assert (got, type(got)) == (value, type(value))


@pytest.mark.parametrize("text", ["1.5", "-1", "150%", "half", ""])
def test_max_remove_refuses_what_is_neither(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        max_remove(text)
