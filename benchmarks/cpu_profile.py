"""Where the client's CPU goes, for ``make bench``: ``run()`` (or the hand-rolled script) under
cProfile in a process of its own against the fake at L = 0, summed by module.

The event loop's wait in ``epoll`` is left out (cProfile clocks wall time: that is idle).
cProfile slows Python code more than C code, so the shares lean towards the Python side;
they say where to look, not what a line costs (``python -m benchmarks.profiling cpu`` samples
with py-spy instead, where ptrace is allowed).

``python -m benchmarks.cpu_profile SPEC_JSON`` prints one JSON line: ``[[place, share], ...]``.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import subprocess
import sys
from collections import defaultdict
from collections.abc import Sequence

from .client import ClientSpec, _run
from .machine import Cores, pin
from .runner import ROOT
from .server import fake_server
from .workload import Workload

#: how many places the table shows
TOP = 12


def _place(filename: str, function: str) -> str:
    """A library function by name, anything else by package (aiohttp, asyncio, json ...)."""
    if filename.startswith("~") or filename.startswith("<"):
        return f"builtin {function}"  # C functions: named by what they are
    parts = filename.replace("\\", "/").split("/")
    if "zcrm_related_async" in parts:
        module = "/".join(parts[parts.index("zcrm_related_async") :])
        return f"{module}:{function}"
    for package in ("aiohttp", "yarl", "multidict", "asyncio", "benchmarks", "attr", "json"):
        if package in parts:
            return package
    return parts[-1]


def profile(spec: ClientSpec) -> list[tuple[str, float]]:
    profiler = cProfile.Profile()
    profiler.enable()
    _run(spec)
    profiler.disable()
    stats = pstats.Stats(profiler)
    own: defaultdict[str, float] = defaultdict(float)
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if "poll" in function and "epoll" in function:
            continue  # the event loop waiting for the network: idle, not CPU
        own[_place(filename, function)] += row[2]  # time in the function itself
    total = sum(own.values()) or 1.0
    return sorted(((place, t / total) for place, t in own.items()), key=lambda x: -x[1])[:TOP]


def where_cpu_goes(
    client: str, workload: Workload, org_limit: int, cores: Cores
) -> list[tuple[str, float]]:
    """Profile ``client`` on ``workload`` against a fresh fake at L = 0."""
    with fake_server(0.0, org_limit, cores.server) as server:
        spec = ClientSpec(client, server.url, server.token, workload, org_limit)
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.cpu_profile", spec.to_json()],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        pin(process.pid, cores.client)
        out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"profiling {client} failed ({process.returncode}):\n{err}")
    return [(place, share) for place, share in json.loads(out.strip().splitlines()[-1])]


def main(argv: Sequence[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m benchmarks.cpu_profile SPEC_JSON")
    print(json.dumps(profile(ClientSpec.from_json(args[0]))), flush=True)


if __name__ == "__main__":
    main()
