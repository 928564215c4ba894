"""Helpers for tests that drive the real ``zcrm-related`` process against the fake server.

The fake runs in the test's own event loop; the command runs as a child process, so the loop
stays free to answer it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from zcrm_related_async._cli import main
from zcrm_related_async.testing import FakeZoho

#: a whole command, from start to exit, never takes longer than this in these tests
DEADLINE = 45.0


@attrs.frozen
class Finished:
    code: int
    out: str
    err: str


def cli_env(fake: FakeZoho | None = None, **extra: str) -> dict[str, str]:
    """The environment of the child: this one without ZOHO_* variables, plus ``extra``; with a
    ``fake``, its access token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOHO_")}
    if fake is not None:
        env["ZOHO_ACCESS_TOKEN"] = fake.access_token
    env.update(extra)
    return env


async def start_cli(
    *args: str | Path, env: Mapping[str, str], stderr: int = asyncio.subprocess.PIPE
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "zcrm_related_async",
        *map(str, args),
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
    )


async def finish(process: asyncio.subprocess.Process) -> Finished:
    out, err = await asyncio.wait_for(process.communicate(), DEADLINE)
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), (err or b"").decode())


async def run_cli(*args: str | Path, env: Mapping[str, str]) -> Finished:
    """Run ``python -m zcrm_related_async ARGS`` to its end."""
    return await finish(await start_cli(*args, env=env))


async def run_here(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str | Path,
    env: dict[str, str],
) -> Finished:
    """The command's own ``main()``, in a thread (so the fake keeps answering): the same code
    as the process, a second faster for cases that differ in one input line."""
    for name in [n for n in os.environ if n.startswith("ZOHO_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = await asyncio.to_thread(main, [str(a) for a in args])
    out, err = capsys.readouterr()
    return Finished(code, out, err)


def run_args(fake: FakeZoho, source: Path, report: Path, *more: str | Path) -> list[str | Path]:
    return ["run", "--input", source, "--report", report, "--api-domain", fake.url, *more]


def link(campaign: int, lead: int, status: str = "Active") -> dict[str, Any]:
    return {
        "op": "link",
        "module": "Campaigns",
        "record_id": str(campaign),
        "related_list": "Leads",
        "related_id": str(lead),
        "fields": {"Member_Status": status},
    }


def links(campaigns: int, per_campaign: int) -> list[dict[str, Any]]:
    """Campaign ``1001...`` gets leads ``50000 + ...``: every lead id distinct."""
    return [
        link(1001 + c, 50000 + c * per_campaign + m)
        for c in range(campaigns)
        for m in range(per_campaign)
    ]


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any] | str]) -> Path:
    with path.open("w", encoding="utf-8") as file:
        for row in rows:
            file.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def journal_lines(path: Path) -> set[int]:
    """The input lines a journal holds an entry for (a torn last line ignored)."""
    done: set[int] = set()
    if not path.exists():
        return done
    with path.open("rb") as file:
        file.readline()
        for raw in file:
            if raw.endswith(b"\n"):
                done.add(json.loads(raw)["line"])
    return done


def linked(fake: FakeZoho, rows: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """Which of the link rows' relations the server holds."""
    return {
        (row["record_id"], row["related_id"])
        for row in rows
        if row["related_id"] in fake.relations("Campaigns", row["record_id"], "Leads")
    }


def sent_ids(fake: FakeZoho) -> list[tuple[str, str]]:
    """(campaign, lead) of every link the server was sent, from its request log."""
    sent = []
    for request in fake.requests:
        parts = request.path.split("/")  # /crm/v8/Campaigns/{id}/Leads[/{lead}]
        campaign = parts[4]
        if len(parts) > 6:
            sent.append((campaign, parts[6]))
            continue
        for item in (request.body or {}).get("data", []):
            sent.append((campaign, item["id"]))
    return sent
