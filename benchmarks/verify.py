"""Reading the server's final state back over HTTP (the fake's GET endpoint for a parent's
related list) and comparing it with what the workload must have left.

The fake is another process, so this is the only view of its state there is; the GET calls
count against the org's limit like any call, so they go at most ``org_limit`` at a time.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import aiohttp

from .server import Server
from .workload import MODULE, RELATED_LIST, Workload

_TRIES = 5


@dataclass(frozen=True)
class Verdict:
    parents: int
    relations: int
    wrong: list[str]

    @property
    def ok(self) -> bool:
        return not self.wrong

    def describe(self) -> str:
        if self.ok:
            return f"yes ({self.relations} relations on {self.parents} parents)"
        return f"NO: {len(self.wrong)} parents wrong, first: {self.wrong[0]}"


async def _relations(
    session: aiohttp.ClientSession, server: Server, parent: str
) -> dict[str, dict[str, object]]:
    url = f"{server.url}/crm/v8/{MODULE}/{parent}/{RELATED_LIST}"
    status, body = 0, b""
    for _ in range(_TRIES):
        async with session.get(url) as response:
            status, body = response.status, await response.read()
        if status == 204:  # Zoho's answer for an empty related list
            return {}
        if status == 200:
            return {item.pop("id"): item for item in json.loads(body)["data"]}
        await asyncio.sleep(0.1)  # a 429 while the client's last calls still hold slots
    raise RuntimeError(f"GET {url} answered {status}: {body[:200]!r}")


async def verify(server: Server, workload: Workload) -> Verdict:
    """Every parent of ``workload`` must list exactly its links, with their fields."""
    slots = asyncio.Semaphore(max(1, min(server.org_limit, 10)))
    headers = {"Authorization": f"Zoho-oauthtoken {server.token}"}
    wrong: list[str] = []
    found = 0

    async def check(session: aiohttp.ClientSession, p: int) -> None:
        nonlocal found
        parent = workload.parent_id(p)
        async with slots:
            actual = await _relations(session, server, parent)
        found += len(actual)
        expected = workload.expected(p)
        if actual != expected:
            missing = len(expected.keys() - actual.keys())
            extra = len(actual.keys() - expected.keys())
            wrong.append(f"{parent}: {missing} missing, {extra} extra, or other fields")

    async with aiohttp.ClientSession(headers=headers) as session:
        await asyncio.gather(*(check(session, p) for p in range(workload.parents)))
    return Verdict(workload.parents, found, wrong)
