"""The ``zcrm-related run`` command on a file of operations, as a user runs it: its own
process (``python -m zcrm_related_async run``, what the ``zcrm-related`` script calls),
pinned to the client core, measured from outside with ``os.wait4``, whose rusage is that
one child's: peak resident memory and CPU time, the reading of the file included.

The command is started by a small launcher process, not by this harness directly: Linux
keeps a process's peak resident memory across ``exec``, so a command forked from the
harness once it has verified a million relations (60 MB) would report the harness's peak as
its own. Forked from the launcher (a bare interpreter, 10 MB), it reports its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .client import ClientRun
from .machine import Cores, pin
from .runner import ROOT, Measured, NoiseMeter
from .server import fake_server
from .verify import verify
from .workload import MODULE, RELATED_LIST, Workload

CLIENT = "CLI (zcrm-related run)"


def available() -> bool:
    """Whether this checkout's CLI has the ``run`` command yet."""
    done = subprocess.run(
        [sys.executable, "-m", "zcrm_related_async", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def write_input(path: Path, workload: Workload) -> None:
    """One JSONL line per link, in the CLI's input format."""
    with path.open("w") as out:
        for parent, related_id, fields in workload.rows():
            line: dict[str, object] = {
                "op": "link",
                "module": MODULE,
                "record_id": parent,
                "related_list": RELATED_LIST,
                "related_id": related_id,
            }
            if fields:
                line["fields"] = dict(fields)
            out.write(json.dumps(line, separators=(",", ":")) + "\n")


# argv: the file to write the rusage to, the core to pin to (or -), the command. It pins
# itself before it starts the command, which inherits the pin.
_LAUNCHER = """
import json, os, sys
if sys.argv[2] != "-":
    os.sched_setaffinity(0, {int(sys.argv[2])})
pid = os.posix_spawn(sys.argv[3], sys.argv[3:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump([usage.ru_utime, usage.ru_stime, usage.ru_maxrss], out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _count_successes(report: Path) -> tuple[int, int]:
    lines = succeeded = 0
    with report.open() as lines_in:
        for line in lines_in:
            lines += 1
            succeeded += json.loads(line).get("status") == "success"
    return lines, succeeded


def measure_cli(
    workload: Workload, org_limit: int, cores: Cores, journal: bool = False
) -> Measured:
    """Run the CLI on ``workload`` written as a file, against a fresh fake at L = 0
    (``journal``: with ``--journal``, as a resumable job runs)."""
    with tempfile.TemporaryDirectory(prefix="zcrm-bench-") as tmp:
        ops, report = Path(tmp) / "ops.jsonl", Path(tmp) / "report.jsonl"
        stderr = Path(tmp) / "stderr.txt"
        write_input(ops, workload)
        with fake_server(0.0, org_limit, cores.server) as server:
            command = [
                sys.executable,
                "-m",
                "zcrm_related_async",
                "run",
                "--input",
                str(ops),
                "--report",
                str(report),
                "--api-domain",
                server.url,
                "--concurrency",
                str(org_limit),
                "--progress",
                "off",
                *(["--journal", str(Path(tmp) / "job.journal")] if journal else []),
            ]
            env = {**os.environ, "ZOHO_ACCESS_TOKEN": server.token}
            usage_file = Path(tmp) / "usage.json"
            core = "-" if cores.client is None else str(cores.client)
            launch = [sys.executable, "-c", _LAUNCHER, str(usage_file), core]
            noise, started = NoiseMeter(server), time.perf_counter()
            with stderr.open("wb") as errors_out:
                process = subprocess.Popen(
                    [*launch, *command],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=errors_out,
                )
            pin(process.pid, cores.client)
            # The launcher's wait4 reaps the command and reports that child alone
            # (RUSAGE_CHILDREN would mix in every fake server this harness has run).
            process.wait()
            wall = time.perf_counter() - started
            share, others = noise.stop(wall)
            if process.returncode not in (0, 1):  # 1: some lines failed, the report says so
                raise RuntimeError(f"the CLI failed ({process.returncode}):\n{stderr.read_text()}")
            verdict = asyncio.run(verify(server, workload))
        lines, succeeded = _count_successes(report)
        user, system, maxrss = json.loads(usage_file.read_text())
    peak = (maxrss if sys.platform == "darwin" else maxrss * 1024) / 1e6
    run = ClientRun(
        client=CLIENT,
        records=workload.records,
        succeeded=succeeded,
        failed=lines - succeeded,
        requests=None,  # the CLI's report is per line, not per call
        statuses={},
        wall=wall,
        cpu=user + system,
        rss_at_start=0.0,
        peak_rss=peak,
    )
    return Measured(run, verdict, share, 0.0, org_limit, org_limit, others)
