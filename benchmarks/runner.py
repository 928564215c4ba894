"""One measurement: a fresh fake server, one client process pinned to the client core, the
server's state verified afterwards. A fresh server per run keeps each client's state check
exact and the server's dictionaries equally small for everyone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .client import ClientRun, ClientSpec
from .machine import Cores, children_cpu_seconds, machine_busy_seconds, own_cpu_seconds, pin
from .server import Server, fake_server
from .verify import Verdict, verify
from .workload import Workload

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Measured:
    """A client run, the server's verdict on it, and how busy the server was meanwhile."""

    run: ClientRun
    verdict: Verdict
    server_cpu_share: float | None
    latency: float
    org_limit: int
    slots: int
    #: CPU the rest of the machine (other users' work) took meanwhile, as a share of all its
    #: cores: the noise behind this run (None where /proc/stat is missing)
    others_cpu_share: float | None = None

    @property
    def limit(self) -> float | None:
        """The physical limit C x 100 / L in records/s (None at L = 0: no such limit)."""
        if self.latency <= 0:
            return None
        return min(self.org_limit, self.slots) * 100 / self.latency


def run_client_process(spec: ClientSpec, core: int | None) -> ClientRun:
    """``python -m benchmarks.client`` pinned to ``core``; its one JSON line, parsed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.client", spec.to_json()],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pin(process.pid, core)  # before its imports are done, long before the clock starts
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"client {spec.client} failed ({process.returncode}):\n{err}")
    return ClientRun.from_json(out.strip().splitlines()[-1])


def measure(
    client: str,
    workload: Workload,
    *,
    latency: float,
    org_limit: int,
    cores: Cores,
    slots: int | None = None,
    count_statuses: bool = False,
) -> Measured:
    """Run ``client`` on ``workload`` against a fresh fake server and verify its state."""
    slots = org_limit if slots is None else slots
    with fake_server(latency, org_limit, cores.server) as server:
        spec = ClientSpec(client, server.url, server.token, workload, slots, count_statuses)
        noise = NoiseMeter(server)
        run = run_client_process(spec, cores.client)
        share, others = noise.stop(run.wall)
        verdict = asyncio.run(verify(server, workload))
    return Measured(run, verdict, share, latency, org_limit, slots, others)


class NoiseMeter:
    """How busy the server was during a client's run, and how much CPU everything else on
    the machine (the harness, the client and the server aside) took meanwhile."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self._started = time.perf_counter()
        self._machine = machine_busy_seconds()
        self._server_cpu = server.cpu_seconds()
        self._ours = own_cpu_seconds() + children_cpu_seconds()

    def stop(self, client_wall: float) -> tuple[float | None, float | None]:
        """(server CPU / the client's wall time, others' CPU / (wall time x cores)), after
        the client process has been waited for (its CPU is then in RUSAGE_CHILDREN)."""
        wall = time.perf_counter() - self._started
        machine, server_cpu = machine_busy_seconds(), self._server.cpu_seconds()
        ours = own_cpu_seconds() + children_cpu_seconds() - self._ours
        if server_cpu is None or self._server_cpu is None:
            return None, None
        server_delta = server_cpu - self._server_cpu
        others = None
        if machine is not None and self._machine is not None:
            foreign = machine - self._machine - server_delta - ours
            others = max(0.0, foreign) / (wall * (os.cpu_count() or 1))
        return server_delta / client_wall, others
