"""The demo job behind `make demo`, small, through its real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from zcrm_related_async.__main__ import main


def test_demo_runs_the_cli_path_and_reports_exactly_the_missing_ids_as_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["demo", "--parents", "10", "--per-parent", "150", "--latency", "0"]
    assert main([*argv, "--workdir", str(tmp_path), "--progress", "log"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    # 1,500 links, 375 updates (every 4th lead), 150 delinks of another campaign.
    assert "demo: 2,025 operations in " in out
    assert f"report: {tmp_path / 'report.jsonl'} (2,025 lines: 2,006 succeeded, 19 failed)" in out
    table = [line.split() for line in out.splitlines()]
    assert ["link", "1,500", "1,485", "15"] in table
    assert ["update", "375", "371", "4"] in table
    assert ["delink", "150", "150", "0"] in table
    assert ["INVALID_DATA", "19"] in table
    assert "failures_are_exactly_the_missing_ids   True" in out
    assert "relations_on_server                    1485" in out
    assert "relations_left_to_delink               0" in out
    assert "sent: 2,025/2,025 lines (100.0%)" in captured.err  # the progress, in log form
    assert (tmp_path / "ops.jsonl").read_text().count("\n") == 2025
