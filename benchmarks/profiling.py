"""Where the library's CPU and memory go: helpers for the profiles in the README (not part
of ``make bench``; py-spy comes with the ``bench`` extra).

    python -m benchmarks.profiling cpu --latency 0 --links 100000 [--native] [--client library]
    python -m benchmarks.profiling memory --links 200000

``cpu`` runs one client under ``py-spy record`` (pinned to the client core, the fake on the
other), keeps the raw collapsed stacks (speedscope and flamegraph.pl read them) and prints
the hot spots as shares of the client's samples: by leaf function (self time) and by the
innermost library function on the stack (what each library function costs, the C code and
packages it calls included).

``memory`` runs ``run()`` over a generator in a fresh process with tracemalloc on, and,
while the report is still held, prints the top allocation sites and a census of what the
report keeps per operation (objects reachable from its results, by type path).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from .client import CLIENTS, ClientSpec
from .machine import pick_cores
from .runner import ROOT
from .server import fake_server
from .workload import MEMBER_ACTIVE, Workload

_LIBRARY = "zcrm_related_async"


# --- CPU ------------------------------------------------------------------------------


def _frames(stack: str) -> list[str]:
    # py-spy's raw format: "frame;frame;...;leaf COUNT", each frame "function (file:line)".
    return [frame.rsplit(":", 1)[0] + ")" if ":" in frame else frame for frame in stack.split(";")]


def hot_spots(raw: Iterable[str], top: int = 25) -> str:
    """Two rankings of a collapsed-stack profile, as shares of all samples."""
    leaf: Counter[str] = Counter()
    owner: Counter[str] = Counter()
    module: Counter[str] = Counter()
    total = skipped = collecting = 0
    for line in raw:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = _frames(stack)
        if any("importlib._bootstrap" in frame for frame in frames):
            skipped += count  # imports: before the client's clock starts
            continue
        total += count
        if any("gc_collect" in frame for frame in frames):  # seen with --native only
            collecting += count
        leaf[frames[-1]] += count
        mine = [f for f in frames if _mine(f)]
        where = mine[-1] if mine else "(outside the library) " + _package(frames[-1])
        if "benchmarks/" in where:
            where = "(the benchmark's generator of operations) " + where
        owner[where] += count
        module[_module(where)] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples ({skipped} more while importing, left out)"]
    if collecting:
        lines += [f"{collecting / total:.1%} of them in the cyclic garbage collector"]
    lines += [""]
    lines += ["self time, by leaf function:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in leaf.most_common(top)]
    lines += ["", "by the innermost library function on the stack (its callees included):"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in owner.most_common(top)]
    lines += ["", "the same, by library module:"]
    lines += [f"  {n / total:6.1%}  {name}" for name, n in module.most_common(top)]
    return "\n".join(lines)


def _module(where: str) -> str:
    # "send (zcrm_related_async/_transport.py)" -> "_transport.py"; attrs-generated methods
    # ("__init__ (<attrs generated methods zcrm_related_async._ops.Link>)") -> "_ops.py"
    if where.startswith("(outside"):
        return where  # already by package
    if where.startswith("("):
        return where.partition(")")[0] + ")"
    inside = where.rpartition("(")[2].rstrip(")>")
    if inside.endswith(".py"):
        return inside.rpartition("/")[2]
    parts = inside.split()[-1].split(".")
    return parts[1] + ".py" if len(parts) > 2 else inside


def _mine(frame: str) -> bool:
    """A frame of the library (its fake server aside) or of the harness's generator of
    operations (which the library calls, so it would count as the library's own)."""
    if "benchmarks/library.py" in frame or "benchmarks/workload.py" in frame:
        return True
    return _LIBRARY in frame and "/testing/" not in frame


def _package(frame: str) -> str:
    # "send (aiohttp/client.py)" -> "aiohttp"; "<native> (libc.so.6)" -> "libc.so.6"
    where = frame.rpartition("(")[2].rstrip(")")
    return where.split("/", 1)[0] if "/" in where else where


def profile_cpu(args: argparse.Namespace) -> None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        sys.exit("py-spy is not installed: pip install -e '.[bench]'")
    cores = pick_cores()
    out = Path(args.out)
    workload = Workload(args.links // 100, 100, MEMBER_ACTIVE)
    with fake_server(args.latency, 10, cores.server) as server:
        spec = ClientSpec(args.client, server.url, server.token, workload, 10)
        command = [py_spy, "record", "-r", str(args.rate), "-f", "raw", "-o", str(out)]
        if args.native:
            command.append("--native")
        command += ["--", sys.executable, "-m", "benchmarks.client", spec.to_json()]
        if cores.client is not None and shutil.which("taskset"):
            command = ["taskset", "-c", str(cores.client), *command]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    # py-spy writes its own lines to stdout too: the client's is the JSON one.
    run = json.loads(next(x for x in reversed(done.stdout.splitlines()) if x.startswith("{")))
    print(
        f"{args.client}, L={args.latency * 1000:g}ms: {run['records']} links in "
        f"{run['wall']:.2f}s, client CPU {run['cpu']:.2f}s; raw profile in {out}\n"
    )
    print(hot_spots(out.read_text().splitlines(), args.top))


# --- memory ---------------------------------------------------------------------------


def _children(obj: object) -> list[tuple[str, object]]:
    """What ``obj`` refers to, labelled by attribute name where it has one."""
    if isinstance(obj, dict):
        return [("[key]", k) for k in obj] + [("[value]", v) for v in obj.values()]
    if isinstance(obj, (list, tuple)):
        return [("[]", item) for item in obj]
    slots = [name for klass in type(obj).__mro__ for name in getattr(klass, "__slots__", ())]
    if slots:
        return [(f".{name}", getattr(obj, name)) for name in slots if hasattr(obj, name)]
    return [("", child) for child in gc.get_referents(obj)]


def census(root: object, depth: int = 5) -> Counter[str]:
    """Bytes of every object reachable from ``root`` (types and modules aside), each once,
    by the path that first reached it, such as ``Report._results[]:Result.op:Link``."""
    seen: set[int] = set()
    sizes: Counter[str] = Counter()
    frontier: list[tuple[object, str, int]] = [(root, type(root).__name__, 0)]
    while frontier:
        obj, path, level = frontier.pop()
        if id(obj) in seen or isinstance(obj, type) or type(obj).__name__ == "module":
            continue
        seen.add(id(obj))
        sizes[path] += sys.getsizeof(obj)
        if level < depth:
            frontier.extend(
                (child, f"{path}{label}:{type(child).__name__}", level + 1)
                for label, child in _children(obj)
            )
    return sizes


async def _memory_child(url: str, token: str, links: int) -> None:
    from zcrm_related_async import AsyncClient

    from .library import links as make_links

    workload = Workload(links // 100, 100)
    tracemalloc.start(4)
    async with AsyncClient(api_domain=url, access_token=token, max_concurrency=10) as zoho:
        report = await zoho.run(make_links(workload))
    current, peak = tracemalloc.get_traced_memory()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    mb = 1e6
    print(
        f"{len(report)} operations; traced: {current / mb:.0f} MB now, {peak / mb:.0f} MB at peak"
    )
    print(f"({current / len(report):.0f} bytes per operation still held with the report)\n")
    print("top allocation sites still alive (tracemalloc; innermost frame first):")
    for stat in snapshot.statistics("traceback")[:12]:
        print(f"  {stat.size / mb:8.1f} MB {stat.count:>9} blocks")
        for frame in list(stat.traceback)[::-1][:3]:
            print(f"      {frame.filename}:{frame.lineno}")
    print("\nwhat the report holds, per operation (census by type path):")
    sizes = census(report)
    for path, size in sizes.most_common(15):
        print(f"  {size / len(report):8.1f} B/op  {path}")
    print(f"  {sum(sizes.values()) / len(report):8.1f} B/op  total reachable from the report")


def profile_memory(args: argparse.Namespace) -> None:
    cores = pick_cores()
    with fake_server(0.0, 10, cores.server) as server:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.profiling",
                "_memory-child",
                server.url,
                server.token,
                str(args.links),
            ],
            cwd=ROOT,
            check=True,
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    cpu = commands.add_parser("cpu", help="py-spy profile of one client run")
    cpu.add_argument("--latency", type=float, default=0.0)
    cpu.add_argument("--links", type=int, default=100_000)
    cpu.add_argument("--client", choices=CLIENTS, default="library")
    cpu.add_argument("--rate", type=int, default=250, help="samples per second")
    cpu.add_argument("--native", action="store_true", help="C frames too (py-spy --native)")
    cpu.add_argument("--top", type=int, default=25)
    cpu.add_argument(
        "--out",
        default=str(Path(tempfile.gettempdir()) / "zcrm-bench-profile.txt"),
        help="raw collapsed stacks go here (speedscope and flamegraph.pl read them)",
    )
    memory = commands.add_parser("memory", help="tracemalloc and a census of the report")
    memory.add_argument("--links", type=int, default=200_000)
    child = commands.add_parser("_memory-child")
    child.add_argument("url")
    child.add_argument("token")
    child.add_argument("links", type=int)
    args = parser.parse_args(argv)
    if args.command == "cpu":
        profile_cpu(args)
    elif args.command == "memory":
        profile_memory(args)
    else:
        asyncio.run(_memory_child(args.url, args.token, args.links))


if __name__ == "__main__":
    main()
