"""What a person sees while ``zcrm-related run`` works: a bar on a terminal, progress lines in a
log, a summary table at the end."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import struct
import termios
from pathlib import Path

from tests.integration.cli_support import (
    cli_env,
    finish,
    links,
    run_args,
    run_cli,
    start_cli,
    write_jsonl,
)
from zcrm_related_async.testing import FakeZoho

LOG_LINE = re.compile(
    r"^\d\d:\d\d:\d\d sent: [\d,]+/4,000 lines \(\d+\.\d%\), [\d,]+/s, ETA \d+:\d\d:\d\d, "
    r"[\d,]+ failed$"
)


async def test_in_a_log_a_progress_line_comes_every_few_seconds(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "ops.jsonl", links(40, 100))
    async with FakeZoho(latency=0.05, org_concurrency=2, log_requests=False) as fake:
        fake.missing_ids.add("50001")
        args = run_args(fake, source, tmp_path / "r.jsonl", "--concurrency", "2")

        done = await run_cli(*args, "--progress-every", "0.2", env=cli_env(fake))

        assert done.code == 1
        progress = [line for line in done.err.splitlines() if " sent: " in line]
        assert len(progress) >= 3, done.err
        assert all(LOG_LINE.match(line) for line in progress), progress
        assert progress[-1].split(" sent: ")[1].startswith("4,000/4,000 lines (100.0%)")
        assert progress[-1].endswith(", 1 failed")
        assert "\r" not in done.err

        small = write_jsonl(tmp_path / "small.jsonl", links(1, 10))
        quiet_args = run_args(fake, small, tmp_path / "r.jsonl", "--progress", "off")
        quiet = await run_cli(*quiet_args, env=cli_env(fake))
        assert quiet.code == 1
        assert quiet.err == ""
        assert "report:" in quiet.out


async def test_on_a_terminal_a_bar_is_redrawn_in_place(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "ops.jsonl", links(20, 100))
    async with FakeZoho(latency=0.05, org_concurrency=2, log_requests=False) as fake:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
        args = run_args(fake, source, tmp_path / "r.jsonl", "--concurrency", "2")
        process = await start_cli(*args, env=cli_env(fake), stderr=follower)
        os.close(follower)
        screen = await asyncio.to_thread(_read_all, leader)
        done = await finish(process)

    assert done.code == 0
    frames = screen.split("\r")
    bars = [f for f in frames if re.search(r"\[[#.]+\] +\d+\.\d%  sent: [\d,]+/2,000 lines", f)]
    assert len(bars) >= 3, screen
    assert "ETA" in bars[0]
    assert "0 failed" in bars[0]
    assert "[" + "#" * 30 + "] 100.0%" in bars[-1]
    # The summary goes to standard output, not over the bar.
    assert "report:" in done.out
    assert "SUCCESS" in done.out


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the other end is closed: the process is gone
            break
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    return b"".join(chunks).decode()
