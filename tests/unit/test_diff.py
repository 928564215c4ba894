"""The pure diff behind set_related: what to link, update, leave and delink."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from zcrm_related_async import InvalidOperationError, TooManyRemovalsError
from zcrm_related_async._diff import (
    Action,
    CurrentList,
    check_max_remove,
    check_removal,
    collect_target,
    plan,
)


def current_of(target_items: list[object], records: list[dict[str, object]]) -> CurrentList:
    current = CurrentList(collect_target(target_items))
    for record in records:
        current.add(record)
    return current


def test_link_update_unchanged_and_delink() -> None:
    items: list[object] = [
        "1",  # present, id only: unchanged
        {"id": "2", "Member_Status": "Sent"},  # present with the same value: unchanged
        {"id": "3", "Member_Status": "Sent"},  # present with another value: update
        "4",  # missing: link
        {"id": "5", "Member_Status": "Sent"},  # present without the field at all: update
    ]
    target = collect_target(items)
    current = CurrentList(target)
    for record in [
        {"id": "1", "Member_Status": "Old"},
        {"id": "2", "Member_Status": "Sent"},
        {"id": "3", "Member_Status": "Received"},
        {"id": "5"},
        {"id": "9", "Member_Status": "Sent"},
    ]:
        current.add(record)
    result = plan(target, current)
    assert result.actions == {
        "1": Action.UNCHANGED,
        "2": Action.UNCHANGED,
        "3": Action.UPDATE,
        "4": Action.LINK,
        "5": Action.UPDATE,
    }
    assert result.delink == ["9"]
    assert plan(target, current, remove_others=False).delink == []
    assert current.count == 5
    assert target.field_names() == ["Member_Status"]


def test_the_current_list_keeps_ids_not_records() -> None:
    # Only target records keep the values of the fields the target names; others an id.
    current = current_of(["1"], [{"id": "1", "Big": "x" * 100}, {"id": "2", "Big": "y"}])
    assert current.present == {"1": None}
    assert current.absent == ["2"]


def test_duplicates_keep_input_order_and_must_agree() -> None:
    target = collect_target(["2", "1", "2"])
    assert target.order == ["2", "1", "2"]
    assert list(target.fields) == ["2", "1"]
    with pytest.raises(InvalidOperationError, match="operation 1: id: '2' is given twice"):
        collect_target([{"id": "2", "F": 1}, {"id": "2", "F": 2}])


def test_bad_items_are_named_where_they_are() -> None:
    with pytest.raises(InvalidOperationError, match="operation 1: id: missing"):
        collect_target(["1", {"Member_Status": "x"}])
    with pytest.raises(InvalidOperationError, match="operation 0: id: expected a str"):
        collect_target([{"id": 5}])
    with pytest.raises(InvalidOperationError, match="related"):
        collect_target("123")


def test_a_generator_target_is_streamed_once() -> None:
    pulled: list[int] = []

    def items() -> Iterator[str]:
        for i in range(5):
            pulled.append(i)
            yield str(i)

    assert collect_target(items()).order == ["0", "1", "2", "3", "4"]
    assert pulled == [0, 1, 2, 3, 4]


def test_max_remove_as_share_or_count() -> None:
    check_removal(remove=5, current=10, kept=5, max_remove=0.5)
    with pytest.raises(TooManyRemovalsError, match="6 of the 10") as caught:
        check_removal(remove=6, current=10, kept=5, max_remove=0.5)
    assert (caught.value.current, caught.value.remove, caught.value.allowed) == (10, 6, 5)
    check_removal(remove=6, current=10, kept=5, max_remove=6)
    with pytest.raises(TooManyRemovalsError):
        check_removal(remove=7, current=10, kept=5, max_remove=6)
    check_removal(remove=10, current=10, kept=3, max_remove=1.0)


def test_an_empty_target_never_empties_a_list() -> None:
    with pytest.raises(TooManyRemovalsError, match="target is empty"):
        check_removal(remove=4, current=4, kept=0, max_remove=1.0)
    check_removal(remove=0, current=0, kept=0, max_remove=0.5)


@pytest.mark.parametrize("bad", [True, -1, 1.5, -0.1, "0.5", None])
def test_max_remove_is_checked(bad: object) -> None:
    with pytest.raises(InvalidOperationError, match="max_remove"):
        check_max_remove(bad)


def test_scale_100k_current_10_percent_differing() -> None:
    n = 100_000

    # 10 % differ: the target drops 5,000 members, adds 2,500 new ones and changes 2,500.
    def target() -> Iterator[dict[str, str]]:
        for i in range(5_000, n + 2_500):
            status = "Changed" if 10_000 <= i < 12_500 else "Sent"
            yield {"id": str(10**15 + i), "Member_Status": status}

    parsed = collect_target(target())
    current = CurrentList(parsed)
    for i in range(n):
        current.add({"id": str(10**15 + i), "Member_Status": "Sent", "Email": f"{i}@x.io"})
    result = plan(parsed, current)
    assert result.count(Action.LINK) == 2_500
    assert result.count(Action.UPDATE) == 2_500
    assert result.count(Action.UNCHANGED) == 92_500
    assert len(result.delink) == 5_000
    assert result.delink[0] == str(10**15)
    assert result.delink[-1] == str(10**15 + 4_999)
    # 500 reads of 200 and 100 change calls of 100 (links and updates share calls).
    changes = result.count(Action.LINK) + result.count(Action.UPDATE)
    assert math.ceil(current.count / 200) == 500
    assert math.ceil(changes / 100) + math.ceil(len(result.delink) / 100) == 100
    # Compact: the records left out are bare ids; the others, a 1-tuple of the named value.
    assert all(type(i) is str for i in current.absent)
    assert len(current.present) == 95_000
    assert all(type(v) is tuple and len(v) == 1 for v in current.present.values())
    check_removal(len(result.delink), current.count, len(parsed.fields), 0.5)
