"""A competent hand-rolled script, as an engineer would write it in an afternoon: group the
links by parent, PUT 100 a call, an ``asyncio.Semaphore`` for the org's limit, a simple
retry with exponential backoff and jitter on 429, 5xx and dropped connections, stdlib json.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import defaultdict
from collections.abc import Iterable

import aiohttp

from ..outcome import Outcome
from ..workload import LinkRow

MAX_TRIES = 6
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


async def link_all(
    url: str, token: str, module: str, related_list: str, rows: Iterable[LinkRow], slots: int
) -> Outcome:
    """Link every ``(parent, related id, fields)`` row; count per-record outcomes."""
    by_parent: defaultdict[str, list[dict[str, object]]] = defaultdict(list)
    for parent, related_id, fields in rows:
        by_parent[parent].append({"id": related_id, **(fields or {})})
    outcome = Outcome()
    semaphore = asyncio.Semaphore(slots)
    headers = {"Authorization": f"Zoho-oauthtoken {token}", "Content-Type": "application/json"}

    async def put(
        session: aiohttp.ClientSession, parent: str, items: list[dict[str, object]]
    ) -> None:
        body = json.dumps({"data": items})
        answers: list[dict[str, object]] = []
        for attempt in range(MAX_TRIES):
            try:
                async with (
                    semaphore,
                    session.put(
                        f"{url}/crm/v8/{module}/{parent}/{related_list}", data=body
                    ) as response,
                ):
                    status, raw = response.status, await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError):
                status, raw = 0, b""
            outcome.requests += 1
            outcome.statuses[status] += 1
            if status not in RETRY_STATUSES and status != 0:
                answers = json.loads(raw).get("data", []) if raw else []
                break
            await asyncio.sleep(min(30.0, 0.5 * 2**attempt) * random.uniform(0.5, 1.0))
        ok = sum(1 for answer in answers if answer.get("status") == "success")
        outcome.succeeded += ok
        outcome.failed += len(items) - ok

    async with aiohttp.ClientSession(headers=headers) as session:
        await asyncio.gather(
            *(
                put(session, parent, items[start : start + 100])
                for parent, items in by_parent.items()
                for start in range(0, len(items), 100)
            )
        )
    return outcome
