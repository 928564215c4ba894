"""``zcrm-related sync`` against the fake server: the plan, --apply, failed reads, --max-remove,
bad input, CSV, and a job killed mid-way that the same command finishes."""

from __future__ import annotations

import asyncio
import csv
import json
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cli_support import (
    cli_env,
    finish,
    journal_lines,
    read_jsonl,
    run_cli,
    run_here,
    start_cli,
    write_jsonl,
)
from tests.integration.test_cli_resume import wait_for_lines
from zcrm_related_async.testing import FakeZoho

Here = tuple[pytest.MonkeyPatch, pytest.CaptureFixture[str]]


@pytest.fixture
def here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Here:
    return monkeypatch, capsys


def row(campaign: str, lead: str, status: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "op": "link",
        "module": "Campaigns",
        "record_id": campaign,
        "related_list": "Leads",
        "related_id": lead,
    }
    if status is not None:
        line["fields"] = {"Member_Status": status}
    return line


def members(fake: FakeZoho, campaign: str) -> dict[str, Any]:
    return {
        rid: fields.get("Member_Status")
        for rid, fields in fake.relations("Campaigns", campaign, "Leads").items()
    }


def changes(fake: FakeZoho) -> tuple[int, int]:
    """(PUTs, DELETEs) the fake was sent."""
    return fake.stats.puts, fake.stats.deletes


def seed(fake: FakeZoho) -> list[dict[str, Any]]:
    """Campaign 1001 holds 11, 12 (Sent) and 13; 1002 holds 21 and 22. Returns the target:
    1001 keeps 11 as it is, sets 12 Received, gains 14, loses 13; 1002 gains 23 (lines
    interleaved: the file is not sorted by parent)."""
    for lead, status in (("11", "Sent"), ("12", "Sent"), ("13", None)):
        fields = {"Member_Status": status} if status else {}
        fake.add_relation("Campaigns", "1001", "Leads", lead, fields)
    for lead in ("21", "22"):
        fake.add_relation("Campaigns", "1002", "Leads", lead, {})
    return [
        row("1001", "11", "Sent"),
        row("1002", "21"),
        row("1001", "12", "Received"),
        row("1002", "22"),
        row("1001", "14", "Sent"),
        row("1002", "23"),
    ]


def sync_args(fake: FakeZoho, source: Path, *more: str | Path) -> list[str | Path]:
    return ["sync", "--input", source, "--api-domain", fake.url, "--progress", "off", *more]


async def test_the_plan_is_printed_and_nothing_changes(tmp_path: Path, here: Here) -> None:
    async with FakeZoho() as fake:
        source = write_jsonl(tmp_path / "targets.jsonl", seed(fake))

        done = await run_here(*here, *sync_args(fake, source), env=cli_env(fake))

        assert done.code == 0, done.err
        table = {line.split()[0]: line.split()[1:] for line in done.out.splitlines()[1:4]}
        # parents, link, update, unchanged, delink, reads, calls
        assert table["Campaigns/Leads"] == ["2", "2", "1", "3", "1", "2", "3"]
        assert "API credits: 2 for the reads, 3 for the changes" in done.out
        assert "nothing was changed" in done.out
        assert changes(fake) == (0, 0)
        assert fake.stats.requests == 2  # the two reads
        assert members(fake, "1001") == {"11": "Sent", "12": "Sent", "13": None}


async def test_apply_makes_each_list_exactly_its_lines_and_a_second_run_sends_nothing(
    tmp_path: Path, here: Here
) -> None:
    async with FakeZoho() as fake:
        rows = seed(fake)
        source = write_jsonl(tmp_path / "targets.jsonl", rows)
        report = tmp_path / "report.jsonl"
        args = sync_args(fake, source, "--apply", "--report", report)

        done = await run_here(*here, *args, env=cli_env(fake))

        assert done.code == 0, done.err
        assert members(fake, "1001") == {"11": "Sent", "12": "Received", "14": "Sent"}
        assert members(fake, "1002") == {"21": None, "22": None, "23": None}
        records = read_jsonl(report)
        by_line = {r["line"]: r["code"] for r in records if r["line"] is not None}
        assert by_line == {1: "UNCHANGED", 2: "UNCHANGED", 3: "SUCCESS", 4: "UNCHANGED",
                           5: "SUCCESS", 6: "SUCCESS"}  # fmt: skip
        delinks = [r for r in records if r["line"] is None]
        assert [(d["status"], d["details"]["delink"]) for d in delinks] == [
            (
                "success",
                {"module": "Campaigns", "record_id": "1001", "related_list": "Leads",
                 "related_id": "13"},
            )
        ]  # fmt: skip
        assert changes(fake) == (2, 1)  # a PUT per campaign, one DELETE

        fake.reset_stats()
        again = await run_here(*here, *args, env=cli_env(fake))

        assert again.code == 0, again.err
        assert changes(fake) == (0, 0)
        records = read_jsonl(report)
        assert sorted(r["line"] for r in records) == [1, 2, 3, 4, 5, 6]
        assert {r["code"] for r in records} == {"UNCHANGED"}


async def test_a_parent_whose_read_fails_changes_nothing_and_the_next_run_finishes(
    tmp_path: Path, here: Here
) -> None:
    async with FakeZoho() as fake:
        rows = seed(fake)
        rows += [row("1003", "31"), row("1003", "32")]
        fake.missing_ids = {"1003"}  # its read gets Zoho's 400: no such record
        source = write_jsonl(tmp_path / "targets.jsonl", rows)
        report, journal = tmp_path / "report.jsonl", tmp_path / "sync.journal"
        args = sync_args(fake, source, "--apply", "--report", report, "--journal", journal)

        failed = await run_here(*here, *args, env=cli_env(fake))

        assert failed.code == 1, failed.err
        assert "1003" in failed.err
        records = {r["line"]: r for r in read_jsonl(report)}
        assert [records[n]["status"] for n in (7, 8)] == ["error", "error"]
        assert records[7]["http_status"] == 400
        assert fake.relations("Campaigns", "1003", "Leads") == {}
        assert members(fake, "1002") == {"21": None, "22": None, "23": None}  # the others went on
        assert not any("/1003/" in r.path and r.method != "GET" for r in fake.requests)

        fake.missing_ids = set()
        fake.reset_stats()
        again = await run_here(*here, *args, env=cli_env(fake))

        assert again.code == 0, again.err
        records_now = read_jsonl(report)
        assert sorted(r["line"] for r in records_now if r["line"]) == list(range(1, 9))
        assert len([r for r in records_now if r["line"] is None]) == 1  # 13, delinked once
        assert {r["code"] for r in records_now if r["line"] in (7, 8)} == {"SUCCESS"}
        assert set(fake.relations("Campaigns", "1003", "Leads")) == {"31", "32"}
        assert changes(fake) == (1, 0)  # only 1003's links: the rest was done


async def test_max_remove_refuses_a_parent_that_would_lose_too_much(
    tmp_path: Path, here: Here
) -> None:
    async with FakeZoho() as fake:
        rows = seed(fake)
        for lead in ("41", "42", "43", "44"):
            fake.add_relation("Campaigns", "1004", "Leads", lead, {})
        rows.append(row("1004", "41"))  # a truncated export: 3 of 4 would go
        source = write_jsonl(tmp_path / "targets.jsonl", rows)
        report = tmp_path / "report.jsonl"
        args = sync_args(fake, source, "--apply", "--report", report)

        refused = await run_here(*here, *args, env=cli_env(fake))

        assert refused.code == 1
        assert "would delink more than --max-remove allows" in refused.out
        line = {r["line"]: r for r in read_jsonl(report)}[7]
        assert (line["status"], line["code"]) == ("error", "TOO_MANY_REMOVALS")
        assert line["details"] == {"current": 4, "remove": 3, "allowed": 2}
        assert set(fake.relations("Campaigns", "1004", "Leads")) == {"41", "42", "43", "44"}
        assert members(fake, "1001") == {"11": "Sent", "12": "Received", "14": "Sent"}

        allowed = await run_here(*here, *args, "--max-remove", "3", env=cli_env(fake))

        assert allowed.code == 0, allowed.err
        assert set(fake.relations("Campaigns", "1004", "Leads")) == {"41"}


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"op": "delink", "module": "Campaigns", "record_id": "1001", "related_list": "Leads",
          "related_id": "11"}, "line 2: op: sync takes link lines only"),
        ({**row("1001", "11", "Received")}, "line 2: related_id: '11' is given twice"),
        ({**row("1001", "12"), "external": "Leads.Ext_ID"}, "line 2: external:"),
    ],
    ids=["a-delink-line", "one-id-two-ways", "a-related-external-field"],
)  # fmt: skip
async def test_a_bad_line_exits_2_naming_it_and_sends_nothing(
    tmp_path: Path, here: Here, bad: dict[str, Any], says: str
) -> None:
    async with FakeZoho() as fake:
        source = write_jsonl(tmp_path / "targets.jsonl", [row("1001", "11", "Sent"), bad])
        args = sync_args(fake, source, "--apply", "--report", tmp_path / "r.jsonl")

        done = await run_here(*here, *args, env=cli_env(fake))

        assert done.code == 2
        assert says in done.err
        assert "nothing was read or sent" in done.err
        assert fake.stats.requests == 0


async def test_an_empty_file_reads_and_changes_nothing(tmp_path: Path, here: Here) -> None:
    async with FakeZoho() as fake:
        fake.add_relation("Campaigns", "1001", "Leads", "11", {})
        source = write_jsonl(tmp_path / "targets.jsonl", [])
        args = sync_args(fake, source, "--apply", "--report", tmp_path / "r.jsonl")

        done = await run_here(*here, *args, env=cli_env(fake))

        assert done.code == 0, done.err
        assert fake.stats.requests == 0
        assert set(fake.relations("Campaigns", "1001", "Leads")) == {"11"}


def test_bad_usage_exits_2(tmp_path: Path, here: Here) -> None:
    from zcrm_related_async._cli.main import main

    source = write_jsonl(tmp_path / "targets.jsonl", [row("1001", "11")])
    base = ["sync", "--input", str(source), "--api-domain", "https://www.zohoapis.eu"]
    here[0].setenv("ZOHO_ACCESS_TOKEN", "x")
    assert main([*base, "--apply"]) == 2  # no --report
    assert main([*base, "--report", str(tmp_path / "r.jsonl")]) == 2  # a report needs --apply
    assert main([*base, "--max-remove", "1.5"]) == 2
    assert main([*base, "--max-remove", "many"]) == 2
    here[0].delenv("ZOHO_ACCESS_TOKEN")
    assert main(base) == 2  # the plan reads the lists: it needs credentials
    assert "no credentials" in here[1].readouterr().err


async def test_csv_in_and_csv_out(tmp_path: Path, here: Here) -> None:
    source = tmp_path / "targets.csv"
    source.write_text(
        "op,module,record_id,related_list,related_id,Member_Status\n"
        "link,Campaigns,1001,Leads,11,Sent\n"
        "link,Campaigns,1001,Leads,12,Received\n"
        "link,Campaigns,1001,Leads,14,\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.csv"
    async with FakeZoho() as fake:
        seed(fake)
        args = sync_args(fake, source, "--apply", "--report", report)

        done = await run_here(*here, *args, env=cli_env(fake))

        assert done.code == 0, done.err
        assert members(fake, "1001") == {"11": "Sent", "12": "Received", "14": None}
    with report.open(newline="", encoding="utf-8") as file:
        records = list(csv.DictReader(file))
    assert sorted(r["line"] for r in records) == ["", "2", "3", "4"]  # the header is line 1
    delink = next(r for r in records if r["line"] == "")
    assert json.loads(delink["details"])["delink"]["related_id"] == "13"


def campaigns_to_sync(fake: FakeZoho) -> tuple[list[dict[str, Any]], set[tuple[str, str]]]:
    """20 campaigns of 60 leads each: 40 of them stay (10 with a new status), 20 go, 60 join.
    Returns the lines (parents interleaved) and the (campaign, lead) pairs that go."""
    rows: list[dict[str, Any]] = []
    leaving: set[tuple[str, str]] = set()
    for c in range(20):
        campaign, base = str(3001 + c), 100000 + c * 1000
        for m in range(60):
            fields = {"Member_Status": "Sent"}
            fake.add_relation("Campaigns", campaign, "Leads", str(base + m), fields)
        leaving |= {(campaign, str(base + m)) for m in range(40, 60)}
        rows += [row(campaign, str(base + m), "Sent" if m >= 10 else "Received")
                 for m in range(40)]  # fmt: skip
        rows += [row(campaign, str(base + 100 + m), "Sent") for m in range(60)]
    rows.sort(key=lambda r: r["related_id"][-2:])  # interleave the parents
    return rows, leaving


def assert_finished(
    fake: FakeZoho, report: Path, rows: list[dict[str, Any]], leaving: set[tuple[str, str]]
) -> None:
    """One report line per input line and one per record delinked, each once, all successes;
    every list exactly its lines."""
    records = read_jsonl(report)
    assert sorted(r["line"] for r in records if r["line"]) == list(range(1, len(rows) + 1))
    delinked = [
        (r["details"]["delink"]["record_id"], r["details"]["delink"]["related_id"])
        for r in records
        if r["line"] is None
    ]
    assert sorted(delinked) == sorted(leaving)
    assert {r["status"] for r in records} == {"success"}
    for campaign in {r["record_id"] for r in rows}:
        want = {r["related_id"]: r["fields"]["Member_Status"] for r in rows
                if r["record_id"] == campaign}  # fmt: skip
        assert members(fake, campaign) == want


async def test_a_sync_killed_mid_job_is_finished_by_the_same_command(tmp_path: Path) -> None:
    async with FakeZoho(latency=0.03, org_concurrency=2, log_requests=False) as fake:
        rows, leaving = campaigns_to_sync(fake)
        source = write_jsonl(tmp_path / "targets.jsonl", rows)
        report, journal = tmp_path / "report.jsonl", tmp_path / "sync.journal"
        args = sync_args(fake, source, "--apply", "--report", report, "--journal", journal)
        args += ["--concurrency", "2"]
        env = cli_env(fake)

        process = await start_cli(*args, env=env)
        await wait_for_lines(journal, 400, process)  # the header, pending delinks, outcomes
        process.send_signal(signal.SIGKILL)
        await finish(process)
        await asyncio.sleep(0.2)  # calls the dead process left in flight reach the server
        done_at_kill = {n for n in journal_lines(journal) if n <= len(rows)}
        assert 0 < len(done_at_kill) < len(rows)  # killed mid-way

        resumed = await run_cli(*args, env=env)

        assert resumed.code == 0, resumed.err
        assert "were done before, according to the journal" in resumed.out
        assert_finished(fake, report, rows, leaving)


async def test_a_sync_stopped_by_sigterm_exits_143_and_the_same_command_finishes(
    tmp_path: Path,
) -> None:
    async with FakeZoho(latency=0.03, org_concurrency=2, log_requests=False) as fake:
        rows, leaving = campaigns_to_sync(fake)
        source = write_jsonl(tmp_path / "targets.jsonl", rows)
        report, journal = tmp_path / "report.jsonl", tmp_path / "sync.journal"
        args = sync_args(fake, source, "--apply", "--report", report, "--journal", journal)
        args += ["--concurrency", "2"]
        env = cli_env(fake)

        process = await start_cli(*args, env=env)
        await wait_for_lines(report, 200, process)
        process.send_signal(signal.SIGTERM)
        stopped = await finish(process)

        assert stopped.code == 143, stopped.err
        assert "interrupted; run the same command to go on" in stopped.err
        partial = read_jsonl(report)  # every line whole, each once
        lines = [r["line"] for r in partial if r["line"]]
        assert len(partial) >= 200
        assert len(lines) < len(rows)
        assert len(set(lines)) == len(lines)
        assert {r["status"] for r in partial} == {"success"}  # the parents under way finished

        resumed = await run_cli(*args, env=env)

        assert resumed.code == 0, resumed.err
        assert_finished(fake, report, rows, leaving)


async def test_the_journal_of_a_run_job_is_refused(tmp_path: Path, here: Here) -> None:
    async with FakeZoho() as fake:
        rows = seed(fake)
        source = write_jsonl(tmp_path / "targets.jsonl", rows)
        journal = tmp_path / "job.journal"
        run: list[str | Path] = ["run", "--input", source, "--report", tmp_path / "run.jsonl"]
        run += ["--journal", journal]
        done = await run_here(*here, *run, "--api-domain", fake.url, env=cli_env(fake))
        assert done.code == 0, done.err
        fake.reset_stats()
        args = sync_args(fake, source, "--apply", "--report", tmp_path / "r.jsonl")

        refused = await run_here(*here, *args, "--journal", journal, env=cli_env(fake))

        assert refused.code == 2
        assert "is the journal of a 'run' job" in refused.err
        assert fake.stats.requests == 0


async def test_run_refuses_the_journal_of_a_sync_job(tmp_path: Path, here: Here) -> None:
    async with FakeZoho() as fake:
        rows = seed(fake)
        source = write_jsonl(tmp_path / "targets.jsonl", rows)
        journal = tmp_path / "job.journal"
        args = sync_args(fake, source, "--apply", "--report", tmp_path / "r.jsonl")
        done = await run_here(*here, *args, "--journal", journal, env=cli_env(fake))
        assert done.code == 0, done.err
        fake.reset_stats()
        run: list[str | Path] = ["run", "--input", source, "--report", tmp_path / "run.jsonl"]

        refused = await run_here(
            *here, *run, "--journal", journal, "--api-domain", fake.url, env=cli_env(fake)
        )

        assert refused.code == 2
        assert "is the journal of a `zcrm-related sync` job" in refused.err
        assert fake.stats.requests == 0


async def test_a_parent_named_by_its_external_field(tmp_path: Path, here: Here) -> None:
    async with FakeZoho() as fake:
        fake.add_external("Campaigns", "Ext_ID", "spring-sale", "1001")
        for lead in ("11", "12", "13"):
            fake.add_relation("Campaigns", "1001", "Leads", lead, {})
        rows = [{**row("spring-sale", lead), "external": "Campaigns.Ext_ID"}
                for lead in ("11", "12", "14")]  # fmt: skip
        source = write_jsonl(tmp_path / "targets.jsonl", rows)
        report = tmp_path / "report.jsonl"

        done = await run_here(
            *here, *sync_args(fake, source, "--apply", "--report", report), env=cli_env(fake)
        )

        assert done.code == 0, done.err
        assert set(fake.relations("Campaigns", "1001", "Leads")) == {"11", "12", "14"}
        delink = next(r for r in read_jsonl(report) if r["line"] is None)
        assert delink["details"]["delink"] == {
            "module": "Campaigns",
            "record_id": "spring-sale",
            "related_list": "Leads",
            "related_id": "13",
            "external": "Campaigns.Ext_ID",
        }
