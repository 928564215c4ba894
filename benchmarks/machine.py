"""Where things run: core pinning, another process's CPU time, the machine's description.

Pinning keeps the pure-Python fake server from competing with the client for one core, so
a client's figures are not the sum of both processes' work.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cores:
    """The core the fake server gets and the core clients (and wrk) get; None = not pinned."""

    server: int | None
    client: int | None

    def describe(self) -> str:
        if self.server is None:
            return "not pinned (fewer than 2 cores, or no sched_setaffinity here)"
        return f"fake server pinned to core {self.server}, clients and wrk to core {self.client}"


def pick_cores() -> Cores:
    """Two distinct cores when this process may use two; otherwise no pinning at all."""
    if not hasattr(os, "sched_getaffinity"):
        return Cores(None, None)
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return Cores(None, None)
    return Cores(allowed[0], allowed[1])


def pin(pid: int, core: int | None) -> None:
    """Pin ``pid`` (0 = this process) to ``core``; threads started later inherit it."""
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(pid, {core})


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of another process so far (Linux /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # After the ")" that closes the command name, utime and stime are fields 12 and 13.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float | None:
    """CPU seconds every core of the machine has spent busy so far (Linux /proc/stat)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return None
    # cpu user nice system idle iowait irq softirq steal ...: all but idle and iowait
    ticks = [int(x) for x in first[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu_seconds() -> float:
    """This process's user + system CPU seconds, every thread included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB of 10**6 bytes (the unit of the
    issue's goal); ru_maxrss is in KiB on Linux, in bytes on macOS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (peak if sys.platform == "darwin" else peak * 1024) / 1e6


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def describe() -> str:
    """One line: cores, CPU model, Python, OS."""
    return (
        f"nproc {os.cpu_count()}, {cpu_model()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}"
    )


def library_description() -> str:
    """Which zcrm_related_async the clients import (PYTHONPATH may point at a snapshot) and,
    in a git checkout, at which commit and whether its source has uncommitted changes."""
    spec = importlib.util.find_spec("zcrm_related_async")
    if spec is None or spec.origin is None:
        return "zcrm_related_async not found"
    package = Path(spec.origin).parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=package,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=package,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{package} (not a git checkout)"
    return f"{package} at git {commit}" + (" + uncommitted changes" if changes else "")
