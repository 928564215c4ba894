"""set_related against the fake Zoho: only the difference is sent, in as few calls as can be."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from tests.conftest import ClientFactory
from tests.integration.test_sync_client import ThreadedFake
from zcrm_related_async import (
    Client,
    InvalidOperationError,
    RelatedReadError,
    TooManyRemovalsError,
)
from zcrm_related_async.testing import FakeZoho

P = ("Campaigns", "1001", "Leads")


def counts(fake: FakeZoho) -> tuple[int, int, int]:
    """(GETs, PUTs, DELETEs) the fake received."""
    s = fake.stats
    return s.requests - s.puts - s.deletes, s.puts, s.deletes


def members(fake: FakeZoho) -> dict[str, object]:
    return {rid: f.get("Member_Status") for rid, f in fake.relations(*P).items()}


async def test_sends_only_the_difference(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    fake_zoho.add_relation(*P, "11", {"Member_Status": "Sent"})
    fake_zoho.add_relation(*P, "12", {"Member_Status": "Sent"})
    fake_zoho.add_relation(*P, "13", {"Member_Status": "Sent"})
    fake_zoho.add_relation(*P, "14", {})
    zoho = make_client(linger=0)
    target: list[str | dict[str, str]] = [
        "14",  # present: unchanged
        {"id": "11", "Member_Status": "Sent"},  # same value: unchanged
        {"id": "12", "Member_Status": "Received"},  # differs: update
        {"id": "20", "Member_Status": "Sent"},  # missing: link
    ]
    report = await zoho.set_related(*P, target)  # 13 goes: 1 of 4, within the 50 %
    assert [(r.status, r.code, r.details["id"]) for r in report] == [
        ("success", "UNCHANGED", "14"),
        ("success", "UNCHANGED", "11"),
        ("success", "SUCCESS", "12"),
        ("success", "SUCCESS", "20"),
        ("success", "SUCCESS", "13"),
    ]
    assert [type(r.op).__name__ for r in report] == ["Link"] * 4 + ["Delink"]
    assert members(fake_zoho) == {"11": "Sent", "12": "Received", "14": None, "20": "Sent"}
    # One read; one PUT for the link and the update together; one DELETE.
    assert counts(fake_zoho) == (1, 1, 1)
    assert report.calls == 3
    puts = [r for r in fake_zoho.requests if r.method == "PUT"]
    assert puts[0].body == {
        "data": [{"id": "12", "Member_Status": "Received"}, {"id": "20", "Member_Status": "Sent"}]
    }
    assert [r.query["fields"] for r in fake_zoho.requests if r.method == "GET"] == [
        "id,Member_Status"
    ]

    # Twice in a row: the second time reads and sends nothing else.
    again = await zoho.set_related(*P, target)
    assert [r.code for r in again] == ["UNCHANGED"] * 4
    assert counts(fake_zoho) == (2, 1, 1)
    assert again.calls == 1


async def test_dry_run_reads_and_says_what_would_happen(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    for rid in ("1", "2", "3"):
        fake_zoho.add_relation(*P, rid, {"Member_Status": "Sent"})
    zoho = make_client()
    target: list[str | dict[str, str]] = ["1", {"id": "2", "Member_Status": "Other"}, "9", "1"]
    report = await zoho.set_related(*P, target, dry_run=True)
    assert [(r.code, r.details["id"]) for r in report] == [
        ("UNCHANGED", "1"),
        ("WOULD_UPDATE", "2"),
        ("WOULD_LINK", "9"),
        ("UNCHANGED", "1"),  # one result per item, duplicates included
        ("WOULD_DELINK", "3"),
    ]
    assert all(r.ok for r in report)
    assert counts(fake_zoho) == (1, 0, 0)
    assert members(fake_zoho) == {"1": "Sent", "2": "Sent", "3": "Sent"}


async def test_safety_refuses_to_delink_too_much(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    for i in range(10):
        fake_zoho.add_relation(*P, str(100 + i), {})
    zoho = make_client()
    with pytest.raises(TooManyRemovalsError, match="delink 6 of the 10"):
        await zoho.set_related(*P, [str(100 + i) for i in range(4)])
    with pytest.raises(TooManyRemovalsError, match="target is empty"):
        await zoho.set_related(*P, [], max_remove=1.0)
    with pytest.raises(TooManyRemovalsError):
        await zoho.set_related(*P, ["100"], max_remove=5)
    assert counts(fake_zoho) == (3, 0, 0)  # read each time, changed nothing
    assert len(members(fake_zoho)) == 10
    # Allowed explicitly, or not removing at all: it goes through.
    report = await zoho.set_related(*P, ["100", "200"], remove_others=False)
    assert [r.code for r in report] == ["UNCHANGED", "SUCCESS"]
    report = await zoho.set_related(*P, ["100"], max_remove=1.0)
    assert report.by_code()["SUCCESS"] == 10  # nine of the seed, and 200, delinked
    assert list(members(fake_zoho)) == ["100"]


async def test_bad_input_raises_before_any_request(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    zoho = make_client()
    with pytest.raises(InvalidOperationError, match="operation 1: id: missing"):
        await zoho.set_related(*P, ["1", {"Member_Status": "x"}])
    with pytest.raises(InvalidOperationError, match="operation 0: related_id"):
        await zoho.set_related(*P, ["not an id"])
    with pytest.raises(InvalidOperationError, match="max_remove"):
        await zoho.set_related(*P, ["1"], max_remove=2.0)
    with pytest.raises(InvalidOperationError, match="external"):
        await zoho.set_related(*P, ["1"], external="Leads.Ext_ID")
    assert fake_zoho.stats.requests == 0


async def test_thousands_from_a_generator(fake_zoho: FakeZoho, make_client: ClientFactory) -> None:
    n = 3_000
    for i in range(n):
        fake_zoho.add_relation(*P, str(10_000 + i), {"Member_Status": "Sent"})

    # 10 % differ: 100 leave, 100 join, 100 change their status.
    def target() -> Iterator[dict[str, str]]:
        for i in range(100, n + 100):
            status = "Received" if 1_000 <= i < 1_100 else "Sent"
            yield {"id": str(10_000 + i), "Member_Status": status}

    zoho = make_client()
    report = await zoho.set_related(*P, target())
    assert len(report) == n + 100
    assert report.by_code() == {"UNCHANGED": n - 200, "SUCCESS": 300}
    reads = math.ceil(n / 200)
    # 200 links and updates in 2 PUTs of 100; 100 delinks in 1 DELETE.
    assert counts(fake_zoho) == (reads, 2, 1)
    assert report.calls == reads + 3
    held = members(fake_zoho)
    assert len(held) == n
    assert held[str(11_000)] == "Received"
    again = await zoho.set_related(*P, target())
    assert again.by_code() == {"UNCHANGED": n}
    assert counts(fake_zoho) == (reads + math.ceil(n / 200), 2, 1)


def test_blocking_client_sets_too() -> None:
    server = ThreadedFake()
    try:
        fake = server.fake
        with Client(api_domain=fake.url, access_token=fake.access_token) as zoho:
            report = zoho.set_related(*P, ["5", "6"])
            assert [r.code for r in report] == ["SUCCESS", "SUCCESS"]
            assert [r.code for r in zoho.set_related(*P, ["5", "6"])] == ["UNCHANGED"] * 2
        assert set(fake.relations(*P)) == {"5", "6"}
    finally:
        server.close()


async def test_a_failed_read_changes_nothing(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    for i in range(300):
        fake_zoho.add_relation(*P, str(100 + i), {})
    zoho = make_client(max_tries=2, backoff_base=0.01, backoff_cap=0.05)
    fake_zoho.inject("500", times=2)  # page 1 runs out of its two tries
    with pytest.raises(RelatedReadError) as caught:
        await zoho.set_related(*P, ["100", "999"], max_remove=1.0)
    assert (caught.value.page, caught.value.attempts) == (1, 2)
    assert counts(fake_zoho)[1:] == (0, 0)
    assert len(members(fake_zoho)) == 300


async def test_a_dry_run_is_held_to_max_remove_too(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    for rid in ("1", "2", "3"):
        fake_zoho.add_relation(*P, rid, {})
    zoho = make_client()
    with pytest.raises(TooManyRemovalsError):
        await zoho.set_related(*P, ["1"], dry_run=True)
    report = await zoho.set_related(*P, ["1"], dry_run=True, max_remove=2)
    assert [r.code for r in report] == ["UNCHANGED", "WOULD_DELINK", "WOULD_DELINK"]
