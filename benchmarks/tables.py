"""The results as Markdown tables (readable in a terminal, pasted as is into the README):
every run, the fake's ceiling, and the issue's figures against its goals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .ceiling import Ceiling
from .command_line import CLIENT as CLI
from .runner import Measured
from .suite import Results, Row, latency_label

CLI_PENDING = (
    "pending: this checkout's CLI has no `run` command; once it has, "
    "`python -m benchmarks --only memory` measures it"
)


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _share_429(m: Measured) -> str:
    statuses = m.run.statuses
    if not statuses:
        return "not counted"
    return f"{statuses.get('429', 0)} ({statuses.get('429', 0) / sum(statuses.values()):.0%})"


def _range(rates: Sequence[float]) -> str:
    if len(rates) < 2:
        return "-"
    return f"{min(rates):,.0f}-{max(rates):,.0f}"


def runs_table(rows: Sequence[Row]) -> str:
    header = [
        "scenario",
        "client",
        "links",
        "requests",
        "429 answers",
        "wall s",
        "links/s",
        "runs' range",
        "÷ limit",
        "client CPU s per 1M",
        "client CPU busy",
        "server CPU busy",
        "others' CPU",
        "peak RSS MB",
        "state verified",
    ]
    body = []
    for row in rows:
        m, run = row.measured, row.measured.run
        limit = m.limit
        body.append(
            [
                row.scenario,
                row.client,
                f"{run.records:,}",
                "-" if run.requests is None else f"{run.requests:,}",
                _share_429(m),
                _num(run.wall, 2),
                _num(run.succeeded / run.wall),
                _range(row.rates),
                "-" if limit is None else f"{run.succeeded / run.wall / limit:.3f}",
                _num(run.cpu_per_million, 1),
                _pct(run.cpu / run.wall),
                _pct(m.server_cpu_share),
                _pct(m.others_cpu_share),
                _num(run.peak_rss, 1),
                m.verdict.describe(),
            ]
        )
    return markdown(header, body)


def ceilings_table(ceilings: Sequence[Ceiling]) -> str:
    header = ["fake server, wrk -t1", "requests/s", "links/s", "÷ limit", "server CPU busy"]
    body = []
    for c in ceilings:
        label = f"{latency_label(c.latency)} C={c.org_limit}"
        if c.records_per_second is None:
            body.append([label, "wrk not installed", "-", "-", "-"])
            continue
        limit = c.org_limit * 100 / c.latency if c.latency > 0 else None
        ratio = "-" if limit is None else f"{c.records_per_second / limit:.3f}"
        errors = f" ({c.non_2xx} non-2xx)" if c.non_2xx else ""
        body.append(
            [
                label,
                _num(c.requests_per_second) + errors,
                _num(c.records_per_second),
                ratio,
                _pct(c.server_cpu_share),
            ]
        )
    return markdown(header, body)


@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    goal: str = ""
    met: bool | None = None


def _rate(m: Measured | None) -> float | None:
    return None if m is None else m.run.succeeded / m.run.wall


def _us(m: Measured) -> float:
    """Client CPU microseconds per record."""
    return m.run.cpu / m.run.records * 1e6


def _versus(name: str, ours: Measured, theirs: Measured, goal: float) -> Figure:
    a, b = _us(ours), _us(theirs)
    return Figure(name, f"{a:.2f} / {b:.2f} µs = {a / b:.2f}x", f"<= {goal:g}x", a / b <= goal)


def figures(results: Results) -> list[Figure]:
    """The issue's figures, each a ratio of two measurements of this one run."""
    out: list[Figure] = []
    lib50 = results.find("throughput", "library", 0.05)
    if lib50 is not None and lib50.limit is not None:
        ratio = (_rate(lib50) or 0) / lib50.limit
        out.append(Figure("L=50ms C=10: library ÷ limit", f"{ratio:.3f}"))
        ceiling = results.ceiling(0.05)
        if ceiling is not None and ceiling.records_per_second:
            out.append(
                Figure(
                    "L=50ms C=10: library ÷ the fake's wrk ceiling",
                    f"{(_rate(lib50) or 0) / ceiling.records_per_second:.3f}",
                )
            )
    for latency in (0.05, 0.005):
        lib, hand = (
            results.find("throughput", "library", latency),
            results.find("throughput", "handrolled", latency),
        )
        if lib is not None and hand is not None:
            vs = (_rate(lib) or 0) / (_rate(hand) or 1)
            out.append(
                Figure(
                    f"{latency_label(latency)}: links/s, library ÷ hand-rolled",
                    f"{vs:.2f}x",
                    ">= 0.97x",
                    vs >= 0.97,
                )
            )
    for latency in (0.005, 0.0):
        label = latency_label(latency)
        lib, hand, stream = (
            results.find("throughput", "library", latency),
            results.find("throughput", "handrolled", latency),
            results.find("throughput", "library-stream", latency),
        )
        if lib is not None and hand is not None:
            out.append(
                _versus(f"{label}: CPU per link in the job, run() ÷ hand-rolled", lib, hand, 1)
            )
        if lib is not None and stream is not None:
            out.append(_versus(f"{label}: CPU per result, stream() ÷ run()", stream, lib, 1.1))
        ceiling = results.ceiling(latency)
        if lib is not None and ceiling is not None and ceiling.records_per_second:
            out.append(
                Figure(
                    f"{label}: library links/s ÷ the fake's wrk ceiling",
                    f"{(_rate(lib) or 0) / ceiling.records_per_second:.3f}",
                )
            )
    cli_cpu, run_cpu = results.find("cli", CLI), results.find("cli", "library")
    if cli_cpu is not None and run_cpu is not None:
        out.append(
            _versus(
                f"CLI with --journal (process CPU per line) ÷ run() (CPU per link in the job), "
                f"{cli_cpu.run.records:,} links",
                cli_cpu,
                run_cpu,
                1.5,
            )
        )
    mem = results.find("memory", "library")
    if mem is not None:
        peak = mem.run.peak_rss
        out.append(
            Figure(
                f"peak RSS, run() of {mem.run.records:,} links from a generator "
                f"(after imports: {mem.run.rss_at_start:.0f} MB)",
                f"{peak:.0f} MB",
                "<= 144 MB",
                peak <= 144,
            )
        )
    cli = results.find("memory", CLI)
    if cli is None and any(row.kind == "memory" for row in results.rows):
        out.append(Figure("peak RSS, CLI on a 1,000,000-line file", CLI_PENDING, "<= 44 MB"))
    elif cli is not None:
        peak = cli.run.peak_rss
        out.append(
            Figure(
                f"peak RSS, CLI on a {cli.run.records:,}-line file",
                f"{peak:.0f} MB",
                "<= 44 MB",
                peak <= 44,
            )
        )
    for client in ("library", "handrolled"):
        storm = results.find("storm", client)
        if storm is not None and storm.run.statuses:
            total = sum(storm.run.statuses.values())
            share = storm.run.statuses.get("429", 0) / total
            goodput = _rate(storm) or 0
            out.append(
                Figure(
                    f"429 storm, {client}: 429 share of requests; goodput (÷ limit)",
                    f"{share:.0%}; {goodput:,.0f} links/s ({goodput / (storm.limit or 1):.2f})",
                )
            )
    return out


def figures_table(results: Results) -> str:
    def met(f: Figure) -> str:
        return "" if f.met is None else ("yes" if f.met else "NO")

    return markdown(
        ["figure", "value", "goal", "met"],
        [[f.name, f.value, f.goal, met(f)] for f in figures(results)],
    )


def profiles_table(profiles: dict[str, list[tuple[str, float]]]) -> str:
    """Each client's top places, side by side, as shares of its profiled CPU."""
    clients = list(profiles)
    depth = max((len(p) for p in profiles.values()), default=0)
    body = []
    for i in range(depth):
        row = []
        for client in clients:
            top = profiles[client]
            row += [top[i][0], f"{top[i][1]:.0%}"] if i < len(top) else ["", ""]
        body.append(row)
    header = [cell for client in clients for cell in (f"{client}: where CPU goes", "share")]
    return markdown(header, body)
