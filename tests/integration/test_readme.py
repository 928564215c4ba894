"""The README's first program, and the fake-server page's pytest files, run as they are written:
each is read out of the Markdown, saved to a file and run in a process of its own. And the API
reference names every public name."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import zcrm_related_async
import zcrm_related_async.testing

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FAKE_SERVER_PAGE = ROOT / "docs" / "fake-server.md"

FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def python_blocks(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [m[2] for m in FENCE.finditer(text) if m[1] == "python"]


def block_after(path: Path, caption: str) -> str:
    """The first fenced block after the line that starts with ``caption``."""
    text = path.read_text(encoding="utf-8")
    lines = [n for n, line in enumerate(text.splitlines(keepends=True)) if line.startswith(caption)]
    assert len(lines) == 1, f"{path.name}: expected one line starting {caption!r}"
    after = "".join(text.splitlines(keepends=True)[lines[0] + 1 :])
    found = FENCE.search(after)
    assert found is not None, f"{path.name}: no code block after {caption!r}"
    return found[2]


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "PYTEST_"))}
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=50, check=False
    )


def test_readme_is_short_enough_to_read_top_to_bottom() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250


def test_readme_first_python_block_runs_as_it_stands(tmp_path: Path) -> None:
    first = python_blocks(README)[0]
    (tmp_path / "example.py").write_text(first, encoding="utf-8")
    done = run(sys.executable, "example.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # The output the README shows under "It prints:" is what the program prints.
    printed = block_after(README, "It prints:")
    assert done.stdout.splitlines() == printed.splitlines()
    assert "link:   250 operations: 249 succeeded, 1 failed in 3 calls" in done.stdout


def test_fake_server_page_program_runs(tmp_path: Path) -> None:
    page = FAKE_SERVER_PAGE.read_text(encoding="utf-8")
    program = re.search(r"## In a program\n\n```python\n(.*?)^```$", page, re.M | re.S)
    assert program is not None
    (tmp_path / "program.py").write_text(program[1], encoding="utf-8")
    done = run(sys.executable, "program.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "3 operations: 2 succeeded, 1 failed" in done.stdout
    assert "{'2001': {}, '2002': {}}" in done.stdout


def run_pytest(project: Path) -> subprocess.CompletedProcess[str]:
    """pytest with pytest-asyncio as its only plugin: what the page says a user needs."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "pytest_asyncio.plugin",
        "-p",
        "no:cacheprovider",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOHO_", "PYTEST_"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # and a faster start than with every plugin
    return subprocess.run(
        [*command, "-W", "error"], cwd=project, env=env, capture_output=True, text=True, timeout=50
    )


def _pytest_project(tmp_path: Path, auto_mode: bool) -> Path:
    project = tmp_path / ("auto" if auto_mode else "marked")
    project.mkdir()
    config = block_after(FAKE_SERVER_PAGE, "`pyproject.toml`:")
    test = block_after(FAKE_SERVER_PAGE, "`test_campaigns.py`:")
    if not auto_mode:  # as the page says: without auto mode, the marker
        config = config.replace('asyncio_mode = "auto"\n', "")
        test = "import pytest\n" + test.replace(
            "async def test_", "@pytest.mark.asyncio\nasync def test_"
        )
    (project / "pyproject.toml").write_text(config, encoding="utf-8")
    (project / "conftest.py").write_text(block_after(FAKE_SERVER_PAGE, "`conftest.py`"))
    (project / "test_campaigns.py").write_text(test, encoding="utf-8")
    return project


def test_fake_server_page_pytest_files_pass_in_auto_mode(tmp_path: Path) -> None:
    project = _pytest_project(tmp_path, auto_mode=True)
    done = run_pytest(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_fake_server_page_pytest_files_pass_with_the_marker(tmp_path: Path) -> None:
    project = _pytest_project(tmp_path, auto_mode=False)
    assert "asyncio_mode" not in (project / "pyproject.toml").read_text()
    done = run_pytest(project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_api_reference_lists_every_public_name() -> None:
    """docs/api.md renders each name of ``__all__`` (a new public name needs its entry)."""
    pages = {
        zcrm_related_async: ROOT / "docs" / "api.md",
        zcrm_related_async.testing: ROOT / "docs" / "api-testing.md",
    }
    for module, page in pages.items():
        rendered = set(re.findall(r"^::: ([\w.]+)$", page.read_text(encoding="utf-8"), re.M))
        public = {f"{module.__name__}.{name}" for name in module.__all__ if name != "__version__"}
        assert public - rendered == set(), page.name
