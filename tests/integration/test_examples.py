"""Every example in ``examples/`` runs as it is (against the fake server it starts itself) and
does what it says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(*command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOHO_")}
    env["PYTHON"] = sys.executable
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        command, cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=50, check=False
    )


@pytest.mark.parametrize(
    ("example", "says"),
    [
        ("asyncio_service.py", ["600 events handled: {'SUCCESS': 599, 'INVALID_DATA': 1}"]),
        ("aiohttp_app.py", ["200 {'linked': 10, 'failed': []}", "'code': 'INVALID_DATA'", "400 "]),
        ("fastapi_app.py", ["200 {'linked': 10, 'failed': []}", "'code': 'INVALID_DATA'", "400 "]),
        ("sync_batch.py", ["3000 operations: 2999 succeeded, 1 failed", "400 leads qualified"]),
        (
            "prometheus_stats.py",
            [
                "500 operations: 495 succeeded, 5 failed in 5 calls",
                "# TYPE zcrm_related_calls_sent_total counter\nzcrm_related_calls_sent_total 5\n",
                'zcrm_related_results_total{code="SUCCESS"} 495\n',
                'zcrm_related_results_total{code="INVALID_DATA"} 5\n',
                "zcrm_related_outage_wait_seconds_total 0\n",
            ],
        ),
    ],
)
def test_python_example_runs_as_is(example: str, says: list[str]) -> None:
    done = run_example(sys.executable, example)
    assert done.returncode == 0, done.stderr
    assert "using a fake Zoho CRM" in done.stdout
    for text in says:
        assert text in done.stdout


def test_shell_example_drives_the_command() -> None:
    done = run_example("bash", "cli_job.sh")
    assert done.returncode == 0, done.stderr
    assert "API credits: 21" in done.stdout
    assert "every line succeeded" in done.stdout
    assert "2001 report lines for 2001 input lines" in done.stdout
