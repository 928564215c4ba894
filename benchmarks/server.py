"""The fake Zoho server in a process of its own, pinned to its own core.

It is pure Python, so in the same process (or on the same core) it would take CPU from the
client being measured; apart, its ceiling can be measured on its own (see ``ceiling``).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .machine import pin, process_cpu_seconds

_READY = "listening on "


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    pid: int
    latency: float
    org_limit: int

    def cpu_seconds(self) -> float | None:
        """The server process's CPU time so far (None where /proc is missing)."""
        return process_cpu_seconds(self.pid)


@contextmanager
def fake_server(
    latency: float, org_limit: int, core: int | None, extra: Sequence[str] = ()
) -> Iterator[Server]:
    """Start ``python -m zcrm_related_async.testing`` (its request log is always off there,
    so its memory stays flat) and stop it on exit."""
    token = secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "zcrm_related_async.testing",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--latency",
        repr(latency),
        "--org-concurrency",
        str(org_limit),
        "--access-token",
        token,
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        # Pinned before it has read its first line; its threads inherit the affinity.
        pin(process.pid, core)
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith(_READY):
            raise RuntimeError(f"the fake server did not start: {line!r}")
        yield Server(line[len(_READY) :].strip(), token, process.pid, latency, org_limit)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
