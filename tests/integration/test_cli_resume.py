"""A ``zcrm-related run`` killed at any moment, interrupted, or crashed: what is on disk, and
what the same command does when started again."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest

from tests.integration.cli_support import (
    cli_env,
    finish,
    journal_lines,
    linked,
    links,
    read_jsonl,
    run_args,
    run_cli,
    run_here,
    sent_ids,
    start_cli,
    write_jsonl,
)
from zcrm_related_async.testing import FakeZoho

CONCURRENCY = 2


async def wait_for_lines(path: Path, at_least: int, process: asyncio.subprocess.Process) -> None:
    """Until ``path`` holds that many whole lines (the job is under way)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.returncode is not None:
            ended = await finish(process)
            raise AssertionError(f"the job ended before it could be stopped: {ended}")
        if _whole_lines(path) >= at_least:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{path} never reached {at_least} lines")


def _whole_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


@pytest.mark.parametrize("kill_after", [1, 900], ids=["at-the-start", "mid-job"])
async def test_a_job_killed_with_sigkill_resumes_where_it_was(
    tmp_path: Path, kill_after: int
) -> None:
    rows = links(30, 100)
    source = write_jsonl(tmp_path / "ops.jsonl", rows)
    report, journal = tmp_path / "report.jsonl", tmp_path / "job.journal"
    async with FakeZoho(latency=0.04, org_concurrency=CONCURRENCY) as fake:
        args = run_args(fake, source, report, "--journal", journal)
        args += ["--concurrency", str(CONCURRENCY)]
        env = cli_env(fake)

        process = await start_cli(*args, env=env)
        await wait_for_lines(journal, kill_after, process)  # the header is line 1
        process.send_signal(signal.SIGKILL)
        await finish(process)
        await asyncio.sleep(0.2)  # calls the dead process left in flight reach the server

        done_at_kill = journal_lines(journal)
        applied_at_kill = linked(fake, rows)
        assert len(done_at_kill) < len(rows)
        assert {(rows[n - 1]["record_id"], rows[n - 1]["related_id"]) for n in done_at_kill} <= (
            applied_at_kill
        )
        with journal.open("ab") as file:  # as if the kill tore the last line in two
            file.write(b'{"line":3,"op":"link","sta')
        fake.requests.clear()

        resumed = await run_cli(*args, env=env)

        assert resumed.code == 0, resumed.err
        records = read_jsonl(report)
        assert sorted(r["line"] for r in records) == list(range(1, len(rows) + 1))
        assert {r["code"] for r in records} == {"SUCCESS"}
        assert linked(fake, rows) == {(r["record_id"], r["related_id"]) for r in rows}
        # Nothing reported before the kill was sent again ...
        resent = sent_ids(fake)
        done_ids = {(rows[n - 1]["record_id"], rows[n - 1]["related_id"]) for n in done_at_kill}
        assert not done_ids & set(resent)
        assert len(resent) == len(set(resent)) == len(rows) - len(done_at_kill)
        # ... and of what the server had applied, only what was in flight at the kill: the
        # calls holding a slot, and one whose answer had come but was not yet written (its
        # slot already went to the next call, which the fake applies as it arrives).
        assert len(applied_at_kill & set(resent)) <= (CONCURRENCY + 1) * 100
        if len(done_at_kill) > 1:
            assert f"{len(done_at_kill):,} lines were done before" in resumed.out
        elif done_at_kill:
            assert "1 line was done before" in resumed.out
        assert journal.read_bytes().endswith(b"}\n")  # the torn line is gone


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_an_interrupted_job_exits_130_or_143_with_its_report_whole(
    tmp_path: Path, sig: signal.Signals
) -> None:
    rows = links(30, 100)
    source = write_jsonl(tmp_path / "ops.jsonl", rows)
    report, journal = tmp_path / "report.jsonl", tmp_path / "job.journal"
    async with FakeZoho(latency=0.04, org_concurrency=CONCURRENCY, log_requests=False) as fake:
        args = run_args(fake, source, report, "--journal", journal)
        args += ["--concurrency", str(CONCURRENCY)]

        process = await start_cli(*args, env=cli_env(fake))
        await wait_for_lines(report, 300, process)
        process.send_signal(sig)
        stopped = await finish(process)

        assert stopped.code == 128 + sig, stopped.err  # 130 SIGINT, 143 SIGTERM
        assert "interrupted; run the same command to go on" in stopped.err
        partial = read_jsonl(report)  # every line whole JSON
        lines = [r["line"] for r in partial]
        assert 300 <= len(lines) < len(rows)
        assert len(set(lines)) == len(lines)
        assert {r["code"] for r in partial} == {"SUCCESS"}  # in-flight calls finished
        assert set(lines) == journal_lines(journal)
        assert "interrupted: the report holds the lines done so far" in stopped.out
        if sig != signal.SIGINT:
            return  # resuming is the same whichever signal stopped it

        resumed = await run_cli(*args, env=cli_env(fake))

        assert resumed.code == 0, resumed.err
        assert sorted(r["line"] for r in read_jsonl(report)) == list(range(1, len(rows) + 1))
        assert len(linked(fake, rows)) == len(rows)


async def test_without_a_journal_a_killed_job_leaves_whole_report_lines(tmp_path: Path) -> None:
    rows = links(30, 100)
    source = write_jsonl(tmp_path / "ops.jsonl", rows)
    report = tmp_path / "report.jsonl"
    async with FakeZoho(latency=0.04, org_concurrency=CONCURRENCY, log_requests=False) as fake:
        args = [*run_args(fake, source, report), "--concurrency", str(CONCURRENCY)]
        process = await start_cli(*args, env=cli_env(fake))
        await wait_for_lines(report, 500, process)
        process.send_signal(signal.SIGKILL)
        await finish(process)

    data = report.read_bytes()
    assert data.endswith(b"\n")
    records = [json.loads(line) for line in data.splitlines()]
    assert len(records) >= 500
    assert len({r["line"] for r in records}) == len(records)


async def test_a_journal_of_another_input_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with FakeZoho(log_requests=False) as fake:
        journal = tmp_path / "job.journal"
        first = write_jsonl(tmp_path / "a.jsonl", links(1, 5))
        done = await run_cli(
            *run_args(fake, first, tmp_path / "a.report", "--journal", journal), env=cli_env(fake)
        )
        assert done.code == 0, done.err
        other = write_jsonl(tmp_path / "b.jsonl", links(2, 5))
        fake.reset_stats()

        refused = await run_cli(
            *run_args(fake, other, tmp_path / "b.report", "--journal", journal), env=cli_env(fake)
        )

        assert refused.code == 2
        assert "belongs to another input" in refused.err
        assert fake.stats.requests == 0
        # Nor is a file that is no journal at all overwritten.
        notes = write_jsonl(tmp_path / "notes.txt", ["my notes"])
        args = run_args(fake, other, tmp_path / "b.report", "--journal", notes)
        refused = await run_here(monkeypatch, capsys, *args, env={"ZOHO_ACCESS_TOKEN": "t"})
        assert refused.code == 2
        assert "is not a zcrm-related journal" in refused.err
        assert notes.read_text() == "my notes\n"
        args = run_args(fake, other, tmp_path / "b.report", "--journal", other)
        refused = await run_here(monkeypatch, capsys, *args, env={"ZOHO_ACCESS_TOKEN": "t"})
        assert refused.code == 2
        assert "must name different files" in refused.err
        assert fake.stats.requests == 0
