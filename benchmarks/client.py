"""One client run in a process of its own: ``python -m benchmarks.client SPEC_JSON``.

The harness starts it pinned to the client core and reads one JSON line back. A fresh
process per run means its CPU time and its peak resident memory (ru_maxrss, which only
grows) belong to that run alone. The clock and the CPU meter start after the imports and
stop when the client returns its outcome; building the operations is inside.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from . import library
from .baselines import handrolled, sequential
from .machine import own_cpu_seconds, peak_rss_mb
from .outcome import Outcome
from .workload import MODULE, RELATED_LIST, Workload

CLIENTS = ("library", "library-stream", "handrolled", "sequential")


@dataclass(frozen=True)
class ClientSpec:
    """What to run: which client, against which server, with how many call slots."""

    client: str
    url: str
    token: str
    workload: Workload
    slots: int
    count_statuses: bool = False

    def to_json(self) -> str:
        doc = asdict(self)
        doc["workload"] = self.workload.to_json()
        return json.dumps(doc)

    @classmethod
    def from_json(cls, text: str) -> ClientSpec:
        doc = json.loads(text)
        doc["workload"] = Workload.from_json(doc["workload"])
        spec = cls(**doc)
        if spec.client not in CLIENTS:
            raise ValueError(f"unknown client {spec.client!r}; expected one of {CLIENTS}")
        return spec


@dataclass(frozen=True)
class ClientRun:
    """What one run measured: outcome, wall and CPU seconds, memory (MB)."""

    client: str
    records: int
    succeeded: int
    failed: int
    requests: int | None  # None: the client does not say (the CLI)
    statuses: dict[str, int]
    wall: float
    cpu: float
    rss_at_start: float
    peak_rss: float

    @property
    def rate(self) -> float:
        """Records per second."""
        return self.records / self.wall

    @property
    def cpu_per_million(self) -> float:
        """Client CPU seconds per million records."""
        return self.cpu / self.records * 1e6

    @classmethod
    def from_json(cls, text: str) -> ClientRun:
        return cls(**json.loads(text))


def _run(spec: ClientSpec) -> Outcome:
    if spec.client == "library":
        return asyncio.run(
            library.link_all(spec.url, spec.token, spec.workload, spec.slots, spec.count_statuses)
        )
    if spec.client == "library-stream":
        return asyncio.run(library.stream_all(spec.url, spec.token, spec.workload, spec.slots))
    rows = spec.workload.rows()
    if spec.client == "handrolled":
        return asyncio.run(
            handrolled.link_all(spec.url, spec.token, MODULE, RELATED_LIST, rows, spec.slots)
        )
    return sequential.link_all(spec.url, spec.token, MODULE, RELATED_LIST, rows)


def measure(spec: ClientSpec) -> ClientRun:
    """Run ``spec`` in this process and measure it."""
    rss_at_start = peak_rss_mb()
    cpu_start, wall_start = own_cpu_seconds(), time.perf_counter()
    outcome = _run(spec)
    wall, cpu = time.perf_counter() - wall_start, own_cpu_seconds() - cpu_start
    return ClientRun(
        client=spec.client,
        records=spec.workload.records,
        succeeded=outcome.succeeded,
        failed=outcome.failed,
        requests=outcome.requests,
        statuses={str(status): n for status, n in sorted(outcome.statuses.items())},
        wall=wall,
        cpu=cpu,
        rss_at_start=rss_at_start,
        peak_rss=peak_rss_mb(),
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m benchmarks.client SPEC_JSON")
    print(json.dumps(asdict(measure(ClientSpec.from_json(args[0])))), flush=True)


if __name__ == "__main__":
    main()
