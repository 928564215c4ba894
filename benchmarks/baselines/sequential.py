"""What Zoho's official Python SDK does, minus its metadata fetching and file cache: one
blocking call at a time, and a new connection for every call.

Which unit per call? The SDK's ``RelatedRecordsOperations.update_related_records`` sends
whatever list its caller gives in one PUT and does not chunk (150 records get Zoho's
``LIMIT_EXCEEDED``), so a working caller cuts the list to 100 and calls once per chunk: we
measure that, one chunk at a time, the SDK's best case. One relation per call would be 100
times slower again. Each call is a fresh connection because the SDK's ``APIHTTPConnector``
calls ``requests.put(...)`` without a ``Session`` (zoho/zohocrm-python-sdk,
``zcrmsdk/src/com/zoho/crm/api/util/api_http_connector.py``). Like the SDK, it does not wait
and retry on 429: those records fail.
"""

from __future__ import annotations

import http.client
import json
from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import urlsplit

from ..outcome import Outcome
from ..workload import LinkRow


def link_all(
    url: str, token: str, module: str, related_list: str, rows: Iterable[LinkRow]
) -> Outcome:
    """Link every ``(parent, related id, fields)`` row, one call after the other."""
    by_parent: defaultdict[str, list[dict[str, object]]] = defaultdict(list)
    for parent, related_id, fields in rows:
        by_parent[parent].append({"id": related_id, **(fields or {})})
    split = urlsplit(url)
    headers = {"Authorization": f"Zoho-oauthtoken {token}", "Content-Type": "application/json"}
    outcome = Outcome()
    for parent, items in by_parent.items():
        for start in range(0, len(items), 100):
            chunk = items[start : start + 100]
            connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=30)
            try:
                connection.request(
                    "PUT",
                    f"{split.path}/crm/v8/{module}/{parent}/{related_list}",
                    json.dumps({"data": chunk}),
                    headers,
                )
                response = connection.getresponse()
                status, raw = response.status, response.read()
            finally:
                connection.close()
            outcome.requests += 1
            outcome.statuses[status] += 1
            answers = json.loads(raw).get("data", []) if raw else []
            ok = sum(1 for answer in answers if answer.get("status") == "success")
            outcome.succeeded += ok
            outcome.failed += len(chunk) - ok
    return outcome
