"""A call's report and journal lines written at once are the lines written one by one."""

from __future__ import annotations

from typing import Any

import pytest

from zcrm_related_async import Link, Result
from zcrm_related_async._cli.reportfile import encoded_alike, encoded_outcome

IDS = ["4876876000000000001", "4876876000000000002", 'x\u00e9\U0001f600"\\', "<a b>"]


def _result(details: dict[str, Any], message: str = "relation added") -> Result:
    op = Link("Campaigns", "111", "Leads", "1")
    return Result(op, "success", "SUCCESS", message, details, 200, 1)


@pytest.mark.parametrize("kind", ["link", "delink", "update"])
@pytest.mark.parametrize("message", ["relation added", 'd\u00e9j\u00e0 "vu"\n'])
def test_lines_told_apart_by_their_ids_are_encoded_as_one_by_one(kind: str, message: str) -> None:
    lines = [3, 4, 7, 1_000_000]
    first = _result({"id": IDS[0]}, message)
    report, journal = encoded_alike(lines, kind, first, IDS)
    one_by_one = [
        encoded_outcome(line, kind, _result({"id": ident}, message))
        for line, ident in zip(lines, IDS, strict=True)
    ]
    assert report == [pair[0] for pair in one_by_one]
    assert journal == [pair[1] for pair in one_by_one]


def test_lines_with_the_same_details_are_encoded_as_one_by_one() -> None:
    lines = [1, 2, 5]
    result = Result(
        Link("Campaigns", "111", "Leads", "1"),
        "error",
        "INVALID_DATA",
        "invalid parent",
        {"api_name": "id", "expected_data_type": "bigint"},
        400,
        1,
    )
    report, journal = encoded_alike(lines, "link", result, None)
    one_by_one = [encoded_outcome(line, "link", result) for line in lines]
    assert report == [pair[0] for pair in one_by_one]
    assert journal == [pair[1] for pair in one_by_one]
    assert report[1].startswith(b'{"line":2,"status":"error","code":"INVALID_DATA"')
