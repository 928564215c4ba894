"""Every example in ``examples/`` runs as it is (against the fake server it starts itself) and
does what it says."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
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


def test_uvicorn_serves_the_fastapi_example() -> None:
    """``uvicorn --app-dir examples fastapi_app:app``, as the docs say, with uvicorn from the
    ``examples`` extra that ``make`` installs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOHO_")}
    uvicorn = Path(sys.executable).parent / "uvicorn"
    command = [str(uvicorn), "--app-dir", "examples", "fastapi_app:app", "--port", "0"]
    cwd = EXAMPLES.parent
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stderr is not None
            for line in server.stderr:  # uvicorn logs where it listens once it has started
                if found := re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line):
                    break
            else:
                raise AssertionError("uvicorn stopped before serving")
            body = json.dumps({"lead_ids": ["4876876000000000001", "4876876000000000013"]})
            request = urllib.request.Request(
                f"{found[1]}/campaigns/3652397000000000001/members",
                data=body.encode(),
                headers={"content-type": "application/json"},
            )
            no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with no_proxy.open(request, timeout=20) as response:
                answer = json.loads(response.read())
        finally:
            server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown: the app's lifespan
            server.wait(timeout=20)
    assert answer == {
        "linked": 1,
        "failed": [{"id": "4876876000000000013", "code": "INVALID_DATA"}],
    }
    assert server.returncode == 0
