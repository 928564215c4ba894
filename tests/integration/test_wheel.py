"""The wheel is the product: ``python -m build`` makes a wheel and an sdist that hold what a user
needs (``py.typed``, the ``testing`` package) and no junk, and the wheel, installed into a clean
virtualenv with its dependencies from the package index, runs ``zcrm-related demo``."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Building (in build's own isolated environment) and installing take tens of seconds.
pytestmark = pytest.mark.timeout(600)


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Nothing of this checkout or of the test run leaks into the clean environment.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env = {k: v for k, v in env.items() if not k.startswith(("ZOHO_", "PYTEST_"))}
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build``: the sdist, then the wheel built from that sdist."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=out)
    return out


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_wheel_holds_the_package_its_types_and_the_fake(dist: Path) -> None:
    with zipfile.ZipFile(_one(dist, "zcrm_related_async-*.whl")) as wheel:
        names = set(wheel.namelist())
    assert "zcrm_related_async/py.typed" in names
    assert "zcrm_related_async/testing/__init__.py" in names
    assert "zcrm_related_async/testing/pytest_plugin.py" in names
    assert "zcrm_related_async/_cli/main.py" in names
    tops = {name.split("/")[0] for name in names}
    assert tops == {"zcrm_related_async", _one(dist, "*.whl").name.split("-py3")[0] + ".dist-info"}


def test_sdist_holds_the_sources_and_no_junk(dist: Path) -> None:
    with tarfile.open(_one(dist, "zcrm_related_async-*.tar.gz")) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for needed in (
        "pyproject.toml",
        "README.md",
        "zcrm_related_async/py.typed",
        "zcrm_related_async/testing/__init__.py",
        "tests/integration/test_wheel.py",
        "docs/index.md",
        "mkdocs.yml",
    ):
        assert needed in names
    junk = (".venv", ".git", "site", "dist", ".mypy_cache", ".pytest_cache", ".ruff_cache")
    assert not [n for n in names if n.split("/")[0] in junk]
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".journal"))]


def test_the_installed_wheel_runs_the_demo(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # An empty virtualenv, filled by this environment's pip (--python): 10 s faster than
    # bootstrapping a pip inside it, and just as clean.
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    wheel = _one(dist, "zcrm_related_async-*.whl")
    pip: list[str | Path] = [sys.executable, "-m", "pip", "--python", python, "--no-input"]
    _run(*pip, "install", "--quiet", wheel, cwd=tmp_path)
    installed = _run(*pip, "list", "--format=freeze", cwd=tmp_path).stdout
    assert "aiohttp==" in installed  # its dependencies came along, from the package index
    # It is the wheel's copy that runs, not this checkout's.
    where = _run(python, "-c", "import zcrm_related_async as z; print(z.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(venv)
    demo = _run(
        venv / "bin" / "zcrm-related",
        "demo",
        "--parents", "4", "--per-parent", "25", "--latency", "0", "--progress", "off",
        "--workdir", tmp_path,
        cwd=tmp_path,
    )  # fmt: skip
    assert "failures_are_exactly_the_missing_ids   True" in demo.stdout
    assert (tmp_path / "report.jsonl").exists()


def test_setting_up_needs_no_root() -> None:
    """make and CI install everything with pip into .venv: no system packages, no root."""
    scripts = [ROOT / "Makefile", *sorted((ROOT / ".ci").iterdir())]
    for script in scripts:
        words = script.read_text(encoding="utf-8").split()
        assert not {"apt-get", "apt", "sudo", "brew", "yum", "dnf"} & set(words), script
