"""The scenarios of ``make bench`` and the figures the issue asks for, all from one run.

Every scenario runs each client against a fresh fake server; with ``repeat`` > 1 each run
is repeated and the median kept (by wall time, or by CPU time where CPU is the figure).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from . import command_line
from .ceiling import Ceiling, wrk_ceiling
from .cpu_profile import where_cpu_goes
from .machine import Cores
from .runner import Measured, measure
from .workload import MEMBER_ACTIVE, Workload


@dataclass(frozen=True)
class Settings:
    """Sizes of everything; :data:`FULL` for ``make bench``, :data:`SMOKE` for the tests."""

    throughput: Workload  # the 100,000 links over 1,000 parents
    sequential_parents: int  # the one-call-at-a-time baseline runs this slice of it
    latencies: tuple[float, ...]
    org_limit: int
    storm: Workload
    storm_latency: float
    storm_slots: int
    memory: Workload  # fed to run() by a generator; ids only, so it measures the library
    wrk_seconds: int
    cli: Workload  # the CLI with a journal against run(), both at L = 0: CPU per line
    profile: Workload  # run() under cProfile at L = 0: where its CPU goes
    repeat: int = 1


FULL = Settings(
    throughput=Workload(1_000, 100, MEMBER_ACTIVE),
    sequential_parents=100,
    latencies=(0.05, 0.005, 0.0),
    org_limit=10,
    storm=Workload(500, 100, MEMBER_ACTIVE),
    storm_latency=0.05,
    storm_slots=25,
    memory=Workload(10_000, 100),
    wrk_seconds=5,
    cli=Workload(2_000, 100, MEMBER_ACTIVE),
    profile=Workload(200, 100, MEMBER_ACTIVE),
)

SMOKE = Settings(
    throughput=Workload(20, 100, MEMBER_ACTIVE),
    sequential_parents=2,
    latencies=(0.005, 0.0),
    org_limit=10,
    storm=Workload(30, 100, MEMBER_ACTIVE),
    storm_latency=0.02,
    storm_slots=25,
    memory=Workload(100, 100),
    wrk_seconds=1,
    cli=Workload(20, 100, MEMBER_ACTIVE),
    profile=Workload(10, 100, MEMBER_ACTIVE),
)


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    scenario: str
    kind: str  # "throughput", "storm", "memory" or "cli"
    client: str
    measured: Measured  # the median run
    rates: tuple[float, ...] = ()  # links/s of every run, to show the spread


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    ceilings: list[Ceiling] = field(default_factory=list)
    #: client -> its top places by share of profiled CPU (the "profile" scenario)
    profiles: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def find(self, kind: str, client: str, latency: float | None = None) -> Measured | None:
        for row in self.rows:
            m = row.measured
            if row.kind == kind and row.client == client and latency in (None, m.latency):
                return m
        return None

    def ceiling(self, latency: float) -> Ceiling | None:
        return next((c for c in self.ceilings if c.latency == latency), None)


def latency_label(latency: float) -> str:
    return f"L={latency * 1000:g}ms"


def _median(runs: list[Measured], key: Callable[[Measured], float]) -> Measured:
    ordered = sorted(runs, key=key)
    return ordered[(len(ordered) - 1) // 2]


def _repeat(
    settings: Settings, once: Callable[[], Measured], by_cpu: bool
) -> tuple[Measured, tuple[float, ...]]:
    """The median of ``settings.repeat`` runs (by CPU time or by wall time), and the rate of
    each run."""
    runs = [once() for _ in range(settings.repeat)]
    rates = tuple(m.run.succeeded / m.run.wall for m in runs)
    failed = [m for m in runs if not m.verdict.ok]
    if failed:  # a wrong state is never hidden behind a median
        return failed[0], rates
    return _median(runs, (lambda m: m.run.cpu) if by_cpu else (lambda m: m.run.wall)), rates


SCENARIOS = ("throughput", "cli", "storm", "memory", "ceiling", "profile")


def run_suite(
    settings: Settings,
    cores: Cores,
    only: Collection[str] = SCENARIOS,
    progress: Callable[[str], None] = print,
) -> Results:
    """The scenarios named in ``only``, in order; ``progress`` hears about each step."""
    results = Results()
    if "throughput" in only:
        results.rows.extend(_throughput(settings, cores, progress))
    if "cli" in only:
        results.rows.extend(_cli(settings, cores, progress))
    if "storm" in only:
        results.rows.extend(_storm(settings, cores, progress))
    if "memory" in only:
        results.rows.extend(_memory(settings, cores, progress))
    if "ceiling" in only:
        for latency in settings.latencies:
            progress(f"wrk ceiling of the fake at {latency_label(latency)} C={settings.org_limit}")
            results.ceilings.append(
                wrk_ceiling(latency, settings.org_limit, settings.wrk_seconds, cores)
            )
    if "profile" in only:
        for client in ("library", "handrolled"):
            progress(f"profile: {client}, {settings.profile.records} links, L=0")
            results.profiles[client] = where_cpu_goes(
                client, settings.profile, settings.org_limit, cores
            )
    return results


def _throughput(settings: Settings, cores: Cores, progress: Callable[[str], None]) -> Iterator[Row]:
    for latency in settings.latencies:
        label = f"{latency_label(latency)} C={settings.org_limit}"
        # stream() beside run() where CPU shows (at 50 ms both wait on the network)
        streamed = ("library-stream",) if latency < 0.05 else ()
        for client in ("library", *streamed, "handrolled", "sequential"):
            workload = settings.throughput
            if client == "sequential":
                workload = workload.first_parents(settings.sequential_parents)
            progress(f"{label}: {client}, {workload.records} links")

            def once(
                client: str = client, workload: Workload = workload, latency: float = latency
            ) -> Measured:
                return measure(
                    client, workload, latency=latency, org_limit=settings.org_limit, cores=cores
                )

            median, rates = _repeat(settings, once, by_cpu=latency == 0)
            yield Row(label, "throughput", client, median, rates)


def _cli(settings: Settings, cores: Cores, progress: Callable[[str], None]) -> Iterator[Row]:
    """The CLI with ``--journal`` (process CPU, start-up and reading included) and the same
    links through ``run()`` (CPU inside the job), at L = 0."""
    if not command_line.available():
        progress("the CLI has no `run` command yet: its CPU row stays pending")
        return
    label = f"CLI: {settings.cli.records:,} links, L=0 C={settings.org_limit}"
    for client in ("library", command_line.CLIENT):
        progress(f"{label}: {client}")

        def once(client: str = client) -> Measured:
            if client == command_line.CLIENT:
                return command_line.measure_cli(
                    settings.cli, settings.org_limit, cores, journal=True
                )
            return measure(
                client, settings.cli, latency=0.0, org_limit=settings.org_limit, cores=cores
            )

        median, rates = _repeat(settings, once, by_cpu=True)
        yield Row(label, "cli", client, median, rates)


def _storm(settings: Settings, cores: Cores, progress: Callable[[str], None]) -> Iterator[Row]:
    label = (
        f"429 storm: {settings.storm_slots} slots, org limit {settings.org_limit}, "
        f"{latency_label(settings.storm_latency)}"
    )
    for client in ("library", "handrolled"):
        progress(f"{label}: {client}, {settings.storm.records} links")

        def once(client: str = client) -> Measured:
            return measure(
                client,
                settings.storm,
                latency=settings.storm_latency,
                org_limit=settings.org_limit,
                cores=cores,
                slots=settings.storm_slots,
                count_statuses=True,
            )

        median, rates = _repeat(settings, once, by_cpu=False)
        yield Row(label, "storm", client, median, rates)


def _memory(settings: Settings, cores: Cores, progress: Callable[[str], None]) -> Iterator[Row]:
    """Peak RSS, once each (memory does not vary with the machine's load)."""
    label = f"memory: {settings.memory.records:,} links from a generator, L=0"
    for client in ("library", "library-stream", "handrolled"):
        progress(f"{label}: {client}")
        measured = measure(
            client, settings.memory, latency=0.0, org_limit=settings.org_limit, cores=cores
        )
        yield Row(label, "memory", client, measured)
    if command_line.available():
        label = f"memory: {settings.memory.records:,}-line JSONL file, L=0"
        progress(f"{label}: {command_line.CLIENT}")
        measured = command_line.measure_cli(settings.memory, settings.org_limit, cores)
        yield Row(label, "memory", command_line.CLIENT, measured)
    else:
        progress("the CLI has no `run` command yet: its memory row stays pending")
