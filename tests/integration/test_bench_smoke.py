"""The benchmark harness, run small (``python -m benchmarks --smoke``) so it cannot rot.

It asserts what the harness claims, never how fast anything was: every client's run left
exactly the expected state on the fake server, and the tables carry every row.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ("library", "library-stream", "handrolled", "sequential")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, object]]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, json.loads(out.read_text())


def _rows(table_text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table_text.splitlines()
        if line.startswith("| ") and not line.startswith("| scenario")
    ]


@pytest.mark.timeout(300)
def test_every_run_left_exactly_the_expected_state(smoke: tuple[str, dict[str, object]]) -> None:
    _, results = smoke
    rows = results["rows"]
    assert isinstance(rows, list)
    kinds = [row["kind"] for row in rows]
    assert kinds.count("throughput") == 2 * 4  # two latencies x run(), stream() and two baselines
    assert kinds.count("cli") == 2  # the CLI with a journal and run(), at L = 0
    assert kinds.count("storm") == 2
    assert kinds.count("memory") == 4  # the library's, its stream's, hand-rolled, the CLI's
    for row in rows:
        measured = row["measured"]
        run, verdict = measured["run"], measured["verdict"]
        assert verdict["wrong"] == [], row
        assert verdict["relations"] == run["records"] > 0
        assert run["succeeded"] == run["records"]
        assert run["failed"] == 0
        if run["requests"] is not None:  # the CLI does not count its calls
            assert run["requests"] >= run["records"] // 100
        assert run["cpu"] > 0
        assert run["peak_rss"] > 0


@pytest.mark.timeout(300)
def test_the_tables_carry_every_row(smoke: tuple[str, dict[str, object]]) -> None:
    stdout, _ = smoke
    assert stdout.startswith("command: python -m benchmarks --smoke")
    assert "machine: nproc " in stdout
    rows = _rows(stdout)
    runs = [(r[0], r[1]) for r in rows if len(r) == 15]
    for scenario in ("L=5ms C=10", "L=0ms C=10"):
        assert [client for s, client in runs if s == scenario] == list(CLIENTS)
    assert [client for s, client in runs if s.startswith("429 storm")] == [
        "library",
        "handrolled",
    ]
    memory = [client for s, client in runs if s.startswith("memory")]
    assert memory[:3] == ["library", "library-stream", "handrolled"]
    assert memory[3:] == ["CLI (zcrm-related run)"]
    assert all(r[14].startswith("yes (") for r in rows if len(r) == 15)
    # The 429 storm counts every answer's status, the library's included.
    assert all(r[4] != "not counted" for r in rows if len(r) == 15 and r[0].startswith("429"))
    ceilings = [r for r in rows if r[0] in ("L=5ms C=10", "L=0ms C=10") and len(r) == 5]
    assert len(ceilings) == 2
    figures = {r[0] for r in rows if len(r) == 4}
    for name in (
        "L=5ms: links/s, library ÷ hand-rolled",
        "L=5ms: CPU per link in the job, run() ÷ hand-rolled",
        "L=0ms: CPU per link in the job, run() ÷ hand-rolled",
        "L=0ms: CPU per result, stream() ÷ run()",
    ):
        assert name in figures
    assert any(name.startswith("peak RSS, CLI on a ") for name in figures)
    assert any(name.startswith("CLI with --journal") for name in figures)
    assert "library: where CPU goes" in stdout
    assert [client for s, client in runs if s.startswith("CLI:")] == [
        "library",
        "CLI (zcrm-related run)",
    ]
    assert any(name.startswith("429 storm, library") for name in figures)
    assert any(name.startswith("peak RSS, run() of 10,000 links") for name in figures)


@pytest.mark.timeout(120)
def test_the_outage_benchmark_runs_and_meets_its_bar_small() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.outage", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| 2,000 | 2,000 | 0 |" in done.stdout
    assert "| 500 | 2 |" in done.stdout
    assert "| drop | 2 |" in done.stdout
