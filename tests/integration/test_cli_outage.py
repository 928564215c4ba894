"""The command against an unreachable or failing Zoho, ``--retry-failed``, and the graceful
stop (real processes, real signals): what is final in the journal, and what the same command
sends again."""

from __future__ import annotations

import asyncio
import signal
import socket
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
from tests.integration.test_cli_resume import wait_for_lines
from zcrm_related_async.testing import FakeZoho

TOKEN = "token-of-the-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("down", ["refused", "500", "drop"])
async def test_a_job_that_met_an_outage_is_finished_by_the_same_command(
    tmp_path: Path, down: str
) -> None:
    rows = links(6, 30)
    source = write_jsonl(tmp_path / "ops.jsonl", rows)
    report, journal = tmp_path / "report.jsonl", tmp_path / "job.journal"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args: list[str | Path] = ["run", "--input", source, "--report", report, "--api-domain", url]
    # the case: an unreachable Zoho and --max-outage 5; the others wait less
    args += ["--journal", journal, "--max-outage", "5" if down == "refused" else "2"]
    env = cli_env(ZOHO_ACCESS_TOKEN=TOKEN)

    if down == "refused":  # nothing listens on the port: every connection is refused
        first = await run_cli(*args, env=env)
    else:
        async with FakeZoho(port=port, access_token=TOKEN) as fake:
            fake.outage(down, 3600.0)
            first = await run_cli(*args, env=env)

    assert first.code == 1, first.err
    records = read_jsonl(report)
    assert sorted(r["line"] for r in records) == list(range(1, len(rows) + 1))
    expected = {"refused": "CONNECTION_ERROR", "500": "INTERNAL_ERROR", "drop": "CONNECTION_ERROR"}
    assert {r["code"] for r in records} == {expected[down]}
    assert journal_lines(journal) == set()  # nothing final: all of it is sent again
    assert "run the same command again" in first.err

    async with FakeZoho(port=port, access_token=TOKEN) as fake:  # Zoho is back
        second = await run_cli(*args, env=env)
        assert second.code == 0, second.err
        records = read_jsonl(report)
        assert sorted(r["line"] for r in records) == list(range(1, len(rows) + 1))
        assert {r["code"] for r in records} == {"SUCCESS"}
        assert len(linked(fake, rows)) == len(rows)


async def test_retry_failed_sends_the_failed_lines_again_and_updates_their_report_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = links(3, 40)
    source = write_jsonl(tmp_path / "ops.jsonl", rows)
    report, journal = tmp_path / "report.jsonl", tmp_path / "job.journal"
    missing = {rows[n]["related_id"] for n in (0, 41, 42, 119)}
    async with FakeZoho(missing_ids=missing) as fake:
        args = run_args(fake, source, report, "--journal", journal)
        env = cli_env(fake)
        first = await run_here(monkeypatch, capsys, *args, env=env)
        assert first.code == 1, first.err
        failed = {r["line"] for r in read_jsonl(report) if r["code"] == "INVALID_DATA"}
        assert failed == {1, 42, 43, 120}
        assert journal_lines(journal) == set(range(1, 121))  # INVALID_DATA is final

        fake.requests.clear()
        again = await run_here(monkeypatch, capsys, *args, env=env)
        assert again.code == 1  # the same command sends nothing: the failures are final
        assert fake.requests == []

        fake.missing_ids = set()  # the user fixed the records in Zoho
        fake.requests.clear()
        retried = await run_here(monkeypatch, capsys, *args, "--retry-failed", env=env)

        assert retried.code == 0, retried.err
        assert sorted(sent_ids(fake)) == sorted(
            (rows[n - 1]["record_id"], rows[n - 1]["related_id"]) for n in failed
        )
        records = read_jsonl(report)
        assert sorted(r["line"] for r in records) == list(range(1, 121))
        assert {r["code"] for r in records} == {"SUCCESS"}
        assert len(linked(fake, rows)) == 120
        # the journal holds one entry per line, and resuming from it changes nothing
        entries = journal.read_bytes().splitlines()[1:]
        assert len(entries) == 120
        fake.requests.clear()
        last = await run_here(monkeypatch, capsys, *args, env=env)
        assert last.code == 0, last.err
        assert fake.requests == []

        no_journal = await run_here(
            monkeypatch, capsys, *run_args(fake, source, report), "--retry-failed", env=env
        )
        assert no_journal.code == 2
        assert "--retry-failed needs --journal" in no_journal.err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_lets_the_calls_in_flight_finish_and_journals_them(
    tmp_path: Path, sig: signal.Signals
) -> None:
    rows = links(20, 100)
    source = write_jsonl(tmp_path / "ops.jsonl", rows)
    report, journal = tmp_path / "report.jsonl", tmp_path / "job.journal"
    async with FakeZoho(latency=0.3, org_concurrency=2) as fake:
        args = run_args(fake, source, report, "--journal", journal, "--concurrency", "2")
        process = await start_cli(*args, env=cli_env(fake))
        await wait_for_lines(journal, 201, process)  # two calls done
        process.send_signal(sig)
        stopped = await finish(process)
        await asyncio.sleep(0.1)

        assert stopped.code == 128 + sig, stopped.err  # 143 for SIGTERM, 130 for SIGINT
        done = journal_lines(journal)
        assert len(done) < len(rows)
        records = read_jsonl(report)
        # the calls in flight finished: every line the server applied is journalled and
        # reported a success, and nothing the job sent is left without its outcome
        assert {r["code"] for r in records} == {"SUCCESS"}
        assert {r["line"] for r in records} == done
        applied = linked(fake, rows)
        assert applied == {(rows[n - 1]["record_id"], rows[n - 1]["related_id"]) for n in done}
        fake.requests.clear()

        resumed = await run_cli(*args, env=cli_env(fake))

        assert resumed.code == 0, resumed.err
        resent = sent_ids(fake)
        assert not set(resent) & applied  # nothing that finished is sent again
        assert len(resent) == len(rows) - len(done)
        assert sorted(r["line"] for r in read_jsonl(report)) == list(range(1, len(rows) + 1))


@pytest.mark.parametrize("how", ["second signal", "grace runs out"])
async def test_a_second_signal_or_the_end_of_the_grace_stops_at_once(
    tmp_path: Path, how: str
) -> None:
    rows = links(4, 100)
    source = write_jsonl(tmp_path / "ops.jsonl", rows)
    report, journal = tmp_path / "report.jsonl", tmp_path / "job.journal"
    # every call takes far longer than the test may: only stopping at once ends it in time
    async with FakeZoho(latency=300.0, org_concurrency=2) as fake:
        grace = "600" if how == "second signal" else "0.5"
        args = run_args(fake, source, report, "--journal", journal, "--concurrency", "2")
        process = await start_cli(*args, "--grace", grace, env=cli_env(fake))
        for _ in range(2000):  # until both calls are under way
            if fake.stats.in_flight >= 2:
                break
            await asyncio.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        if how == "second signal":
            await asyncio.sleep(0.3)
            process.send_signal(signal.SIGINT)
        stopped = await finish(process)

        assert stopped.code == 143, stopped.err
        assert journal_lines(journal) == set()  # in flight when it stopped: sent again
        records = read_jsonl(report)
        assert {r["code"] for r in records} <= {"CANCELLED", "NOT_ATTEMPTED"}
        assert "run the same command to go on" in stopped.err
