"""The demo job behind `make demo`, small, through its real entry point."""

from __future__ import annotations

import pytest

from zcrm_related_async.__main__ import main


def test_demo_reports_exactly_the_missing_ids_as_failures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--parents", "10", "--per-parent", "150", "--latency", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1500 operations: 1485 succeeded, 15 failed in 20 calls")
    assert "failures_are_exactly_the_missing_ids   True" in out
    assert "relations_on_server                    1485" in out
