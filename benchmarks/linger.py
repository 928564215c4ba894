"""What linger pools cost and save: ``python benchmarks/linger.py`` (about 15 s).

Starts the fake Zoho server in its own process (round trip 50 ms, org limit 10) and times a lone
``link()`` with and without linger, then 2,000 concurrent one-record ``link()`` calls over 20
campaigns: the PUTs they make and how long each caller waits.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time

from zcrm_related_async import AsyncClient

LATENCY = 0.05


async def lone(url: str, linger: float) -> list[float]:
    async with AsyncClient(api_domain=url, access_token="T0", linger=linger) as zoho:
        await zoho.link("Campaigns", "1", "Leads", ["1"])  # a kept-alive connection
        waits = []
        for n in range(30):
            started = time.perf_counter()
            await zoho.link("Campaigns", "2", "Leads", [str(10 + n)])
            waits.append(time.perf_counter() - started)
        return waits


async def burst(url: str, linger: float) -> tuple[int, list[float]]:
    async with AsyncClient(api_domain=url, access_token="T0", linger=linger) as zoho:
        await zoho.link("Campaigns", "1", "Leads", ["1"])
        before = zoho.calls

        async def one(n: int) -> float:
            started = time.perf_counter()
            report = await zoho.link("Campaigns", str(100 + n % 20), "Leads", [str(5000 + n)])
            assert report.succeeded == 1
            return time.perf_counter() - started

        waits = await asyncio.gather(*(one(n) for n in range(2000)))
        return zoho.calls - before, sorted(waits)


async def main(url: str) -> None:
    for linger in (0.005, 0.0):
        waits = await lone(url, linger)
        puts, burst_waits = await burst(url, linger)
        lone_ms = statistics.median(waits) * 1000
        median_ms, max_ms = statistics.median(burst_waits) * 1000, burst_waits[-1] * 1000
        print(
            f"linger {linger * 1000:.0f} ms: lone link() median {lone_ms:.1f} ms; 2,000"
            f" concurrent one-record link(): {puts} PUTs, median {median_ms:.0f} ms,"
            f" max {max_ms:.0f} ms"
        )


if __name__ == "__main__":
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zcrm_related_async.testing",
            "--port",
            "0",
            "--latency",
            str(LATENCY),
            "--org-concurrency",
            "10",
            "--access-token",
            "T0",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        asyncio.run(main(server.stdout.readline().split()[-1]))
    finally:
        server.terminate()
        server.wait()
