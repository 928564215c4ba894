"""``python -m zcrm_related_async.testing``: what a person who starts the fake by hand sees,
and that what it prints works as printed."""

from __future__ import annotations

import asyncio
import shlex
import socket
import sys
from pathlib import Path

from tests.integration.cli_support import DEADLINE, cli_env, links, read_jsonl, write_jsonl


async def start_fake(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "zcrm_related_async.testing",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_it_prints_a_token_and_a_command_line_that_work_as_printed(tmp_path: Path) -> None:
    fake = await start_fake("--port", "0")  # no --access-token: a random one, printed
    try:
        assert fake.stdout is not None
        printed: list[str] = []
        while not printed or printed[-1] != "Ctrl+C stops it.":
            line = await asyncio.wait_for(fake.stdout.readline(), DEADLINE)
            assert line, printed
            printed.append(line.decode().rstrip("\n"))
        url = printed[0].removeprefix("listening on ")
        assert url.startswith("http://127.0.0.1:")
        token = printed[1].removeprefix("access token: ")
        assert len(token) >= 32
        (command,) = [p.strip() for p in printed if "zcrm-related run" in p]
        assert command.startswith(f"ZOHO_ACCESS_TOKEN={token} zcrm-related run --api-domain {url}")

        # Run it as printed, from a directory that holds its ops.jsonl.
        write_jsonl(tmp_path / "ops.jsonl", links(2, 3))
        assign, program, *args = shlex.split(command)
        name, _, value = assign.partition("=")
        env = cli_env()
        env[name] = value
        script = Path(sys.executable).parent / program
        cli = await asyncio.create_subprocess_exec(
            script,
            *args,
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(cli.communicate(), DEADLINE)
        assert cli.returncode == 0, err.decode()
        assert "6 succeeded" in out.decode()
        assert {r["code"] for r in read_jsonl(tmp_path / "report.jsonl")} == {"SUCCESS"}
    finally:
        fake.terminate()
        await asyncio.wait_for(fake.wait(), DEADLINE)


async def test_a_port_in_use_is_one_clear_line_and_exit_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        fake = await start_fake("--port", str(port))
        out, err = await asyncio.wait_for(fake.communicate(), DEADLINE)

    assert fake.returncode == 1
    assert out == b""
    assert err.decode().splitlines() == [
        f"python -m zcrm_related_async.testing: port {port} is in use on 127.0.0.1: "
        "give another --port (0 picks a free one)"
    ]


async def test_a_port_out_of_range_is_a_usage_error() -> None:
    fake = await start_fake("--port", "70000")
    _, err = await asyncio.wait_for(fake.communicate(), DEADLINE)
    assert fake.returncode == 2
    assert "argument --port: expected a port number 0-65535, got '70000'" in err.decode()
    assert "Traceback" not in err.decode()
