"""``Report`` and ``Result``: counts, failures in input order, the opt-in raise."""

from __future__ import annotations

from array import array
from collections import Counter

import pytest

from tests.unit.builders import batch, links
from zcrm_related_async import OperationsFailedError, Report, Result
from zcrm_related_async._merge import ChunkPart, Failed, ListPart
from zcrm_related_async._report import ERROR, SUCCESS, CompactResults, Part
from zcrm_related_async._wire import Answer, WholeCall

OPS = links(5)


def make_report() -> Report:
    return Report(
        [
            Result(OPS[0], SUCCESS, "SUCCESS", "relation added", {"id": "1"}, 200, 1),
            Result(OPS[1], ERROR, "INVALID_DATA", "the related id given seems to be invalid"),
            Result(OPS[2], SUCCESS, "SUCCESS", "relation added"),
            Result(OPS[3], ERROR, "TIMEOUT", "no answer", {}, None, 6),
            Result(OPS[4], ERROR, "INVALID_DATA", "invalid data"),
        ],
        calls=8,
    )


def test_counts() -> None:
    report = make_report()
    assert (len(report), report.succeeded, report.failed, report.calls) == (5, 2, 3, 8)


def test_results_in_input_order() -> None:
    report = make_report()
    assert [r.op for r in report] == OPS
    assert [r.op for r in report.results] == OPS


def test_failures_and_failed_ops_in_input_order() -> None:
    report = make_report()
    assert [r.code for r in report.failures()] == ["INVALID_DATA", "TIMEOUT", "INVALID_DATA"]
    assert report.failed_ops() == [OPS[1], OPS[3], OPS[4]]


def test_by_code() -> None:
    assert make_report().by_code() == Counter({"SUCCESS": 2, "INVALID_DATA": 2, "TIMEOUT": 1})


def test_summary() -> None:
    assert make_report().summary() == (
        "5 operations: 2 succeeded, 3 failed in 8 calls (INVALID_DATA: 2, TIMEOUT: 1)"
    )


def test_repr_is_the_summary() -> None:
    report = make_report()
    assert repr(report) == f"<Report {report.summary()}>"


def test_raise_for_failures_raises_carrying_the_report() -> None:
    report = make_report()
    with pytest.raises(OperationsFailedError) as caught:
        report.raise_for_failures()
    assert caught.value.report is report
    assert str(caught.value) == "3 of 5 operations failed: INVALID_DATA x2, TIMEOUT x1"


@pytest.mark.parametrize("count", [0, 1, 3])
def test_raise_for_failures_does_nothing_when_all_succeeded(count: int) -> None:
    report = Report([Result(op, SUCCESS, "SUCCESS", "relation added") for op in OPS[:count]])
    report.raise_for_failures()  # must not raise
    assert (report.succeeded, report.failed, report.failures(), report.failed_ops()) == (
        count,
        0,
        [],
        [],
    )
    noun = "operation" if count == 1 else "operations"
    assert report.summary() == f"{count} {noun}: {count} succeeded, 0 failed in 0 calls"


def test_summary_and_raise_name_only_the_codes_of_failures() -> None:
    # Answer.ok counts status "success" as a success whatever its code, so a success may carry
    # a code other than "SUCCESS": it must not be listed among the failures.
    report = Report(
        [
            Result(OPS[0], SUCCESS, "RELATION_ADDED", "relation added"),
            Result(OPS[1], ERROR, "INVALID_DATA", "invalid data"),
        ],
        calls=1,
    )
    assert report.summary() == "2 operations: 1 succeeded, 1 failed in 1 call (INVALID_DATA: 1)"
    with pytest.raises(OperationsFailedError, match=r"^1 of 2 operations failed: INVALID_DATA x1$"):
        report.raise_for_failures()


def test_one_operation_and_one_call_read_in_the_singular() -> None:
    report = Report([Result(OPS[0], ERROR, "INVALID_DATA", "invalid data")], calls=1)
    assert report.summary() == "1 operation: 0 succeeded, 1 failed in 1 call (INVALID_DATA: 1)"
    with pytest.raises(OperationsFailedError, match=r"^1 of 1 operation failed: INVALID_DATA x1$"):
        report.raise_for_failures()


@pytest.mark.parametrize(("status", "ok"), [(SUCCESS, True), (ERROR, False)])
def test_result_ok(status: str, ok: bool) -> None:
    assert Result(OPS[0], status, "X", "m").ok is ok


def test_result_defaults() -> None:
    result = Result(OPS[0], ERROR, "TIMEOUT", "m")
    assert (result.details, result.http_status, result.attempts) == ({}, None, 0)


def compact(report: Report) -> Report:
    """The same results as a job keeps them: a part per input and a position in that part
    (successes in a part of their own call, failures in a part of operations not sent)."""
    parts: list[Part] = []
    for result in report.results:
        if result.ok:
            answer = Answer("success", result.code, result.message, {})
            parts.append(ChunkPart(batch([result.op])[0], WholeCall(answer), 200, 1))
        else:
            parts.append(ListPart(Failed(result.code, result.message), [result.op]))
    return Report(CompactResults(parts, array("I", [0] * len(parts))), report.calls)


def test_compact_report_answers_like_a_list_report() -> None:
    plain = Report(
        [
            Result(OPS[0], SUCCESS, "SUCCESS", "relation added"),
            Result(OPS[1], ERROR, "INVALID_DATA", "invalid data"),
            Result(OPS[2], SUCCESS, "SUCCESS", "relation added"),
            Result(OPS[3], ERROR, "TIMEOUT", "no answer"),
        ],
        calls=3,
    )
    report = compact(plain)
    assert len(report) == 4
    assert (report.succeeded, report.failed) == (2, 2)
    assert report.by_code() == plain.by_code()
    assert report.summary() == plain.summary()
    assert report.failed_ops() == [OPS[1], OPS[3]]
    assert [r.code for r in report.failures()] == ["INVALID_DATA", "TIMEOUT"]
    assert [r.op for r in report] == OPS[:4]
    assert report.results[1].code == "INVALID_DATA"
    assert [r.code for r in report.results[1:3]] == ["INVALID_DATA", "SUCCESS"]
    assert [r.code for r in report.results[::-1]] == [
        "TIMEOUT",
        "SUCCESS",
        "INVALID_DATA",
        "SUCCESS",
    ]
    with pytest.raises(
        OperationsFailedError, match=r"^2 of 4 operations failed: INVALID_DATA x1, TIMEOUT x1$"
    ):
        report.raise_for_failures()
