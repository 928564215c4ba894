"""How the harness drives zcrm_related_async: the way its README shows, ``run()`` fed by a
generator of ``Link`` operations, so building and checking them is part of the measured cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from types import SimpleNamespace

import aiohttp

from zcrm_related_async import AsyncClient, Link

from .outcome import Outcome
from .workload import MODULE, RELATED_LIST, Workload


def links(workload: Workload) -> Iterator[Link]:
    for parent, related_id, fields in workload.rows():
        yield Link(MODULE, parent, RELATED_LIST, related_id, fields)


async def link_all(
    url: str, token: str, workload: Workload, slots: int, count_statuses: bool = False
) -> Outcome:
    """Run the workload; with ``count_statuses`` the client gets a session that counts every
    answer's HTTP status (the library does not expose its 429s), else it makes its own."""
    statuses: Counter[int] = Counter()
    session = _counting_session(statuses, slots) if count_statuses else None
    try:
        async with AsyncClient(
            api_domain=url, access_token=token, max_concurrency=slots, session=session
        ) as zoho:
            report = await zoho.run(links(workload))
    finally:
        if session is not None:
            await session.close()
    return Outcome(report.succeeded, report.failed, report.calls, statuses)


async def stream_all(url: str, token: str, workload: Workload, slots: int) -> Outcome:
    """The same through ``stream()``, which keeps no report: what the streaming machinery
    alone costs. Its client makes its own session, as ``run()``'s does, and its requests are
    the stream's own count."""
    outcome = Outcome()
    client = AsyncClient(api_domain=url, access_token=token, max_concurrency=slots)
    async with client as zoho, zoho.stream(links(workload)) as results:
        async for _, result in results:
            if result.ok:
                outcome.succeeded += 1
            else:
                outcome.failed += 1
        outcome.requests = results.calls
    return outcome


def _counting_session(statuses: Counter[int], slots: int) -> aiohttp.ClientSession:
    async def on_end(
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        statuses[params.response.status] += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_end)
    # The same pool the client builds for itself (see AsyncClient._get_session).
    connector = aiohttp.TCPConnector(limit=max(100, slots * 2))
    return aiohttp.ClientSession(connector=connector, trace_configs=[trace])
