"""The fake server's own ceiling: wrk (C, one connection per slot, no client-side work
beyond HTTP) PUTting 100-item bodies, pinned to the client core.

When the client's throughput approaches this figure, the fake, not the client, is the limit:
the fake is pure Python on one core.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .machine import Cores
from .server import fake_server

_SCRIPT = Path(__file__).with_name("put100.lua")
_RATE = re.compile(r"Requests/sec:\s*([\d.]+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s*(\d+)")


@dataclass(frozen=True)
class Ceiling:
    latency: float
    org_limit: int
    requests_per_second: float | None  # None: wrk is not installed
    non_2xx: int = 0
    server_cpu_share: float | None = None

    @property
    def records_per_second(self) -> float | None:
        rate = self.requests_per_second
        return None if rate is None else rate * 100


def wrk_ceiling(latency: float, org_limit: int, seconds: int, cores: Cores) -> Ceiling:
    """Requests/s the fake answers at ``latency`` with ``org_limit`` calls in flight."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return Ceiling(latency, org_limit, None)
    with fake_server(latency, org_limit, cores.server) as server:
        command = [wrk, "-t1", f"-c{org_limit}", f"-d{seconds}s", "-s", str(_SCRIPT)]
        if cores.client is not None and shutil.which("taskset"):
            command = ["taskset", "-c", str(cores.client), *command]
        cpu_before = server.cpu_seconds()
        done = subprocess.run(
            [*command, server.url, "--", server.token],
            capture_output=True,
            text=True,
            check=True,
        )
        cpu_after = server.cpu_seconds()
    rate = _RATE.search(done.stdout)
    if rate is None:
        raise RuntimeError(f"unexpected wrk output:\n{done.stdout}{done.stderr}")
    non_2xx = _NON_2XX.search(done.stdout)
    share = None
    if cpu_before is not None and cpu_after is not None:
        share = (cpu_after - cpu_before) / seconds
    return Ceiling(
        latency, org_limit, float(rate.group(1)), int(non_2xx.group(1)) if non_2xx else 0, share
    )
