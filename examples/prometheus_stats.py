"""A client's stats() served to Prometheus, in its text format, with aiohttp.web alone.

    python examples/prometheus_stats.py            # runs a job, prints /metrics, stops
    python examples/prometheus_stats.py --serve    # serves http://127.0.0.1:9464/metrics

Prometheus scrapes ``/metrics``; each scrape takes a fresh ``client.stats()`` snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from _local_zoho import zoho_settings
from aiohttp import web

from zcrm_related_async import AsyncClient, ClientStats, Link

ZOHO = web.AppKey("zoho", AsyncClient)
PREFIX = "zcrm_related"


def prometheus_text(stats: ClientStats) -> str:
    """``stats`` in Prometheus' text exposition format (version 0.0.4)."""
    lines: list[str] = []

    def metric(name: str, kind: str, doc: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {PREFIX}_{name} {doc}")
        lines.append(f"# TYPE {PREFIX}_{name} {kind}")
        lines.extend(f"{PREFIX}_{name}{labels} {value:g}" for labels, value in samples)

    metric(
        "calls_sent_total",
        "counter",
        "Requests that may have reached Zoho.",
        [("", stats.calls_sent)],
    )
    metric(
        "calls_not_connected_total",
        "counter",
        "Tries that never connected.",
        [("", stats.calls_not_connected)],
    )
    metric(
        "answers_total",
        "counter",
        "HTTP answers by status.",
        [(f'{{status="{s}"}}', n) for s, n in sorted(stats.answers_by_status.items())],
    )
    metric(
        "results_total",
        "counter",
        "Operations' outcomes by code.",
        [(f'{{code="{c}"}}', n) for c, n in sorted(stats.results_by_code.items())],
    )
    metric("retries_total", "counter", "Tries after a chunk's first.", [("", stats.retries)])
    metric("throttled_total", "counter", "429 answers for concurrency.", [("", stats.throttled)])
    if stats.window is not None:
        metric("window", "gauge", "Calls the adaptive window lets in flight.", [("", stats.window)])
    metric(
        "slot_wait_seconds_total",
        "counter",
        "Time tries waited for a slot.",
        [("", stats.slot_wait_seconds)],
    )
    metric(
        "outage_wait_seconds_total",
        "counter",
        "Time spent waiting out outages.",
        [("", stats.outage_wait_seconds)],
    )
    if stats.credits_remaining is not None:
        metric(
            "credits_remaining",
            "gauge",
            "API credits left, as Zoho last said.",
            [("", stats.credits_remaining)],
        )
    return "\n".join(lines) + "\n"


async def metrics(request: web.Request) -> web.Response:
    text = prometheus_text(request.app[ZOHO].stats())
    return web.Response(text=text, content_type="text/plain", charset="utf-8")


def make_app(zoho: AsyncClient) -> web.Application:
    app = web.Application()
    app[ZOHO] = zoho
    app.router.add_get("/metrics", metrics)
    return app


@contextlib.asynccontextmanager
async def serving(zoho: AsyncClient, port: int) -> AsyncIterator[str]:
    runner = web.AppRunner(make_app(zoho))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        host, bound = runner.addresses[0][:2]
        yield f"http://{host}:{bound}/metrics"
    finally:
        await runner.cleanup()


async def main(serve: bool, port: int) -> None:
    ops = [
        Link("Campaigns", str(3652397000000000000 + c), "Leads", str(4876876000000000000 + m))
        for c in range(5)
        for m in range(100)
    ]
    async with (
        zoho_settings() as settings,
        AsyncClient(**settings) as zoho,
        serving(zoho, port if serve else 0) as url,
    ):
        report = await zoho.run(ops)
        print(report.summary())
        if serve:
            print(f"serving {url}; Ctrl-C to stop")
            await asyncio.Event().wait()
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            print(await response.text())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--port", type=int, default=9464)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.serve, args.port))
