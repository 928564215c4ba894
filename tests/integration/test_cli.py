"""The ``zcrm-related run`` command, as a real process against the fake server: reports, exit
codes, dry runs, CSV, bad input and credentials."""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.cli_support import (
    cli_env,
    link,
    linked,
    links,
    read_jsonl,
    run_args,
    run_cli,
    run_here,
    write_jsonl,
)
from zcrm_related_async._cli.final import NOT_FINAL
from zcrm_related_async._cli.main import _parser, main
from zcrm_related_async.testing import FakeZoho

REPORT_KEYS = ["line", "status", "code", "message", "details", "http_status", "attempts"]


async def test_a_mixed_job_reports_each_line_once_and_exits_0(tmp_path: Path) -> None:
    async with FakeZoho(log_requests=False) as fake:
        fake.add_relation("Campaigns", "2001", "Leads", "70001")
        fake.add_external("Deals", "External_Deal_ID", "deal-ext-1", "8001")
        rows = [
            *links(3, 120),
            {"op": "delink", "module": "Campaigns", "record_id": "2001",
             "related_list": "Leads", "related_id": "70001"},
            {"op": "update", "module": "Leads", "record_id": "50000",
             "fields": {"Lead_Status": "Contacted"}, "trigger": []},
            {"op": "link", "module": "Deals", "record_id": "deal-ext-1", "related_list": "Contacts",
             "related_id": "9001", "external": "Deals.External_Deal_ID"},
        ]  # fmt: skip
        source = write_jsonl(tmp_path / "ops.jsonl", [*rows[:5], "", *rows[5:]])  # a blank line
        report = tmp_path / "report.jsonl"

        done = await run_cli(*run_args(fake, source, report), env=cli_env(fake))

        assert done.code == 0, done.err
        records = read_jsonl(report)
        numbers = sorted(r["line"] for r in records)
        assert numbers == [n for n in range(1, len(rows) + 2) if n != 6]  # line 6 is blank
        assert all(list(r) == REPORT_KEYS for r in records)
        assert {r["code"] for r in records} == {"SUCCESS"}
        assert linked(fake, rows[:360]) == {(r["record_id"], r["related_id"]) for r in rows[:360]}
        assert fake.relations("Campaigns", "2001", "Leads") == {}
        assert fake.record("Leads", "50000") == {"Lead_Status": "Contacted"}
        assert fake.relations("Deals", "8001", "Contacts") == {"9001": {}}
        assert fake.stats.requests == 3 * 2 + 1 + 1 + 1  # 120 links: 100 + 20 per campaign
        assert str(report.resolve()) in done.out
        table = done.out.splitlines()
        assert any(line.split()[:2] == ["link", "361"] for line in table)
        assert any(line.split()[:2] == ["SUCCESS", "363"] for line in table)
        assert "9 API calls" in done.out


async def test_failed_records_exit_1_and_the_report_says_which(tmp_path: Path) -> None:
    async with FakeZoho(log_requests=False) as fake:
        rows = links(2, 50)
        fake.missing_ids.update({"50007", "50070"})
        source = write_jsonl(tmp_path / "ops.jsonl", rows)
        report = tmp_path / "report.jsonl"

        done = await run_cli(*run_args(fake, source, report), env=cli_env(fake))

        assert done.code == 1, done.err
        failed = {r["line"]: r for r in read_jsonl(report) if r["status"] != "success"}
        assert set(failed) == {8, 71}
        assert {r["code"] for r in failed.values()} == {"INVALID_DATA"}
        assert any(line.split()[:2] == ["INVALID_DATA", "2"] for line in done.out.splitlines())


@pytest.mark.parametrize(
    ("bad_line", "named"),
    [
        ('{"op":"link","module":"Campaigns"', "line 3: not valid JSON"),
        ('["link"]', "line 3: expected a JSON object"),
        (json.dumps({**link(1, 2), "related_id": "abc"}), "line 3: related_id: expected a record"),
        (json.dumps({**link(1, 2), "relatd_id": "2"}), "line 3: relatd_id: not a key of 'link'"),
        (json.dumps({k: v for k, v in link(1, 2).items() if k != "module"}), "line 3: module: "),
        (json.dumps({**link(1, 2), "op": "relate"}), "line 3: op: expected 'link'"),
        (json.dumps({**link(1, 2), "fields": {"x": float("nan")}}), "line 3: fields: not JSON"),
        (json.dumps({"op": "update", "module": "Leads", "record_id": "1"}), "line 3: fields: "),
        (json.dumps({"op": "delink", **{k: v for k, v in link(1, 2).items() if k != "op"}}),
         "line 3: fields: not a key of 'delink'"),
    ],
)  # fmt: skip
async def test_bad_input_exits_2_naming_line_and_field_and_sends_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad_line: str,
    named: str,
) -> None:
    async with FakeZoho(log_requests=False) as fake:
        source = write_jsonl(tmp_path / "ops.jsonl", [link(1, 2), link(1, 3), bad_line, link(1, 4)])
        report = tmp_path / "report.jsonl"
        args = run_args(fake, source, report)

        if named.endswith("not valid JSON"):  # one case as a real process, the rest in this one
            done = await run_cli(*args, env=cli_env(fake))
        else:
            done = await run_here(monkeypatch, capsys, *args, env={"ZOHO_ACCESS_TOKEN": "t"})

        assert done.code == 2
        assert f"ops.jsonl:{named}" in done.err
        assert "nothing was sent" in done.err
        assert fake.stats.requests == 0
        assert not report.exists()


async def test_every_bad_line_is_named_not_only_the_first(tmp_path: Path) -> None:
    rows = [link(1, n) if n % 3 else {**link(1, n), "record_id": 7} for n in range(1, 10)]
    source = write_jsonl(tmp_path / "ops.jsonl", rows)
    done = await run_cli(
        "run", "--input", source, "--report", tmp_path / "r.jsonl", "--dry-run", env=cli_env()
    )
    assert done.code == 2
    named = [line.split(":")[1] for line in done.err.splitlines() if line.startswith("ops.jsonl:")]
    assert named == [
        "line 3",
        "line 6",
        "line 9",
    ]


async def test_dry_run_prints_the_plan_and_sends_nothing(tmp_path: Path) -> None:
    async with FakeZoho(log_requests=False) as fake:
        rows = [
            *links(3, 150),
            *({"op": "update", "module": "Leads", "record_id": str(n), "fields": {"A": 1}}
              for n in range(1, 251)),
        ]  # fmt: skip
        source = write_jsonl(tmp_path / "ops.jsonl", rows)

        # No credentials at all: a dry run needs none.
        done = await run_cli(
            *run_args(fake, source, tmp_path / "r.jsonl", "--dry-run"), env=cli_env()
        )

        assert done.code == 0, done.err
        table = [line.split() for line in done.out.splitlines()]
        assert ["link", "450", "6"] in table  # 150 per campaign: 100 + 50, three times
        assert ["update", "250", "3"] in table
        assert ["total", "700", "9"] in table
        assert "API credits: 9" in done.out
        assert "nothing was sent" in done.out
        assert fake.stats.requests == 0
        assert not (tmp_path / "r.jsonl").exists()


async def test_csv_in_and_csv_out(tmp_path: Path) -> None:
    source = tmp_path / "ops.csv"
    source.write_text(
        "op,module,record_id,related_list,related_id,Member_Status,fields,trigger\n"
        "link,Campaigns,1001,Leads,501,Active,,\n"
        'link,Campaigns,1001,Leads,502,"Sent, twice",,\n'
        "link,Campaigns,1001,Leads,503,,,\n"
        "\n"
        'update,Leads,501,,,,"{""Annual_Revenue"": 1000}",workflow\n'
        'update,Leads,502,,,Planning,"{""No_of_Employees"": 5}",[]\n',
        encoding="utf-8",
    )
    report = tmp_path / "report.csv"
    async with FakeZoho() as fake:
        done = await run_cli(*run_args(fake, source, report), env=cli_env(fake))

        assert done.code == 0, done.err
        assert fake.relations("Campaigns", "1001", "Leads") == {
            "501": {"Member_Status": "Active"},
            "502": {"Member_Status": "Sent, twice"},
            "503": {},
        }
        assert fake.record("Leads", "501") == {"Annual_Revenue": 1000}
        assert fake.record("Leads", "502") == {"No_of_Employees": 5, "Member_Status": "Planning"}
        triggers = {
            json.dumps(r.body.get("trigger")) for r in fake.requests if r.path == "/crm/v8/Leads"
        }
        assert triggers == {'["workflow"]', "[]"}
    with report.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == REPORT_KEYS
    assert sorted(int(r["line"]) for r in rows) == [2, 3, 4, 6, 7]  # the header is line 1
    assert {r["code"] for r in rows} == {"SUCCESS"}
    assert json.loads(rows[0]["details"])["id"]


async def test_csv_bad_cell_is_named_by_line_and_column(tmp_path: Path) -> None:
    source = tmp_path / "ops.csv"
    source.write_text(
        "op,module,record_id,related_list,related_id,Member_Status\n"
        "link,Campaigns,1001,Leads,501,Active\n"
        "delink,Campaigns,1001,Leads,502,Active\n",
        encoding="utf-8",
    )
    done = await run_cli(
        "run", "--input", source, "--report", tmp_path / "r.csv", "--dry-run", env=cli_env()
    )
    assert done.code == 2
    assert "ops.csv:line 3: Member_Status: a delink takes no fields" in done.err


async def test_credentials_come_from_the_environment_only(tmp_path: Path) -> None:
    async with FakeZoho(client_secret="s3cr3t-value", refresh_token="r3fr3sh-value") as fake:
        source = write_jsonl(tmp_path / "ops.jsonl", links(1, 10))
        report = tmp_path / "report.jsonl"
        args = run_args(fake, source, report)
        env = cli_env(
            ZOHO_CLIENT_ID=fake.client_id,
            ZOHO_CLIENT_SECRET="s3cr3t-value",
            ZOHO_REFRESH_TOKEN="r3fr3sh-value",
            ZOHO_ACCOUNTS_URL=fake.accounts_url,
        )

        done = await run_cli(*args, env=env)

        assert done.code == 0, done.err
        assert fake.stats.refreshes == 1
        secrets = ("s3cr3t-value", "r3fr3sh-value", fake.access_token)
        for text in (" ".join(map(str, args)), done.out, done.err, report.read_text()):
            assert not any(secret in text for secret in secrets)
    # And there is no way to put them in argv.
    assert not [o for o in _options(_parser()) if "token" in o or "secret" in o or "client" in o]


def _options(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                found |= _options(command)
    return found


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        ([], {}, "no credentials: set ZOHO_ACCESS_TOKEN"),
        ([], {"ZOHO_CLIENT_ID": "x"}, "ZOHO_CLIENT_ID set but not ZOHO_CLIENT_SECRET"),
        (["--access-token", "t"], {"ZOHO_ACCESS_TOKEN": "t"}, "unrecognized arguments"),
        (["--concurrency", "0"], {"ZOHO_ACCESS_TOKEN": "t"}, "--concurrency"),
        (["--data-center", "eu"], {"ZOHO_ACCESS_TOKEN": "t"}, "not allowed with argument"),
        (["--version", "v1"], {"ZOHO_ACCESS_TOKEN": "t"}, "version"),
        (["--version", "v9"], {"ZOHO_ACCESS_TOKEN": "t"}, "v2, v2.1, v3, v4, v5, v6, v7, v8"),
        (["--progress-every", "0"], {"ZOHO_ACCESS_TOKEN": "t"}, "--progress-every"),
        (["--progress-every", "-5"], {"ZOHO_ACCESS_TOKEN": "t"}, "seconds > 0, got '-5'"),
        (["--progress-every", "nan"], {"ZOHO_ACCESS_TOKEN": "t"}, "seconds > 0, got 'nan'"),
        (["--progress-every", "soon"], {"ZOHO_ACCESS_TOKEN": "t"}, "a number of seconds"),
    ],
)
def test_bad_usage_exits_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    says: str,
) -> None:
    source = write_jsonl(tmp_path / "ops.jsonl", links(1, 1))
    report = tmp_path / "r.jsonl"
    for name in [n for n in os.environ if n.startswith("ZOHO_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = ["run", "--input", str(source), "--report", str(report)]
    code = main([*argv, "--api-domain", "https://www.zohoapis.eu", *args])
    assert code == 2
    assert says in capsys.readouterr().err
    assert not report.exists()


@pytest.mark.parametrize("every", ["0", "-5", "0.0"])
def test_the_demo_refuses_a_progress_interval_of_zero_or_less(
    every: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--progress-every", every]) == 2
    assert "--progress-every: expected a number of seconds > 0" in capsys.readouterr().err


def test_an_api_domain_with_a_path_is_bad_usage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_jsonl(tmp_path / "ops.jsonl", links(1, 1))
    monkeypatch.setenv("ZOHO_ACCESS_TOKEN", "t")
    argv = ["run", "--input", str(source), "--report", str(tmp_path / "r.jsonl")]
    assert main([*argv, "--api-domain", "https://www.zohoapis.com/crm/v8"]) == 2
    assert "api_domain: give the host only" in capsys.readouterr().err


async def test_a_dry_run_needs_no_report_but_a_real_run_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_jsonl(tmp_path / "ops.jsonl", links(1, 1))
    monkeypatch.chdir(tmp_path)

    dry = await run_cli("run", "--input", source, "--dry-run", env=cli_env())

    assert dry.code == 0, dry.err
    assert "plan for ops.jsonl: 1 line to send" in dry.out
    assert ["total", "1", "1"] in [line.split() for line in dry.out.splitlines()]
    assert sorted(os.listdir(tmp_path)) == ["ops.jsonl"]  # no report, no journal

    real = await run_here(
        monkeypatch, capsys, "run", "--input", source, env={"ZOHO_ACCESS_TOKEN": "t"}
    )
    assert real.code == 2
    assert "--report is required (unless --dry-run" in real.err


async def test_one_line_one_call_one_bad_line_read_in_the_singular(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with FakeZoho(log_requests=False) as fake:
        source = write_jsonl(tmp_path / "ops.jsonl", links(1, 1))
        report = tmp_path / "r.jsonl"
        env = {"ZOHO_ACCESS_TOKEN": fake.access_token}
        args = run_args(fake, source, report, "--progress", "log")

        done = await run_here(monkeypatch, capsys, *args, env=env)

        assert done.code == 0, done.err
        assert "sending 1 line of ops.jsonl in about 1 call to" in done.err
        assert " sent: 1/1 line (100.0%)" in done.err
        assert f"report: {report.resolve()} (1 line: 1 succeeded, 0 failed)" in done.out
        assert "this run: 1 line, 1 API call, " in done.out

        bad = write_jsonl(tmp_path / "bad.jsonl", [link(1, 2), {**link(1, 3), "record_id": 7}])
        refused = await run_here(monkeypatch, capsys, *run_args(fake, bad, report), env=env)
        assert refused.code == 2
        assert "zcrm-related: 1 bad line in bad.jsonl; nothing was sent" in refused.err


def test_report_and_input_must_differ_and_input_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_jsonl(tmp_path / "ops.jsonl", links(1, 1))
    monkeypatch.setenv("ZOHO_ACCESS_TOKEN", "t")
    assert main(["run", "--input", str(source), "--report", str(source)]) == 2
    assert "must name different files" in capsys.readouterr().err
    assert source.read_text().count("\n") == 1
    assert main(["run", "--input", str(tmp_path / "no.jsonl"), "--report", "r.jsonl"]) == 2
    assert "no such file" in capsys.readouterr().err


async def test_spent_credits_exit_1_and_the_journal_sends_those_lines_again(
    tmp_path: Path,
) -> None:
    async with FakeZoho(credits=2, log_requests=False) as fake:
        rows = links(5, 100)
        source = write_jsonl(tmp_path / "ops.jsonl", rows)
        report = tmp_path / "report.jsonl"
        args = run_args(fake, source, report, "--journal", tmp_path / "job.journal")
        args += ["--concurrency", "1"]

        first = await run_cli(*args, env=cli_env(fake))

        assert first.code == 1
        assert "credits for the day are spent" in first.err
        codes = [r["code"] for r in read_jsonl(report)]
        assert len(codes) == 500
        assert codes.count("SUCCESS") == 200
        assert set(codes) == {"SUCCESS", "API_CREDITS_EXHAUSTED"}

        fake.credits = None  # a new day
        second = await run_cli(*args, env=cli_env(fake))

        assert second.code == 0, second.err
        records = read_jsonl(report)
        assert sorted(r["line"] for r in records) == list(range(1, 501))
        assert {r["code"] for r in records} == {"SUCCESS"}
        assert len(linked(fake, rows)) == 500


async def test_lines_refused_for_bad_credentials_are_sent_again_once_fixed(
    tmp_path: Path,
) -> None:
    async with FakeZoho(log_requests=False) as fake:
        rows = links(2, 100)
        source = write_jsonl(tmp_path / "ops.jsonl", rows)
        report, journal = tmp_path / "report.jsonl", tmp_path / "job.journal"
        args = run_args(fake, source, report, "--journal", journal)

        wrong = await run_cli(*args, env=cli_env(ZOHO_ACCESS_TOKEN="expired-token"))

        assert wrong.code == 1
        records = read_jsonl(report)
        assert len(records) == 200
        assert {r["code"] for r in records} <= NOT_FINAL
        assert journal.read_bytes().count(b"\n") == 1  # the header only: nothing is final

        fixed = await run_cli(*args, env=cli_env(fake))

        assert fixed.code == 0, fixed.err
        assert sorted(r["line"] for r in read_jsonl(report)) == list(range(1, 201))
        assert len(linked(fake, rows)) == 200


def test_the_console_script_is_installed() -> None:
    script = shutil.which("zcrm-related", path=str(Path(sys.executable).parent))
    assert script is not None
    done = subprocess.run([script, "run", "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert "--journal" in done.stdout
    assert "--dry-run" in done.stdout
