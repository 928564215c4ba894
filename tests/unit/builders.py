"""Builders shared by the unit tests: operations, chunks, Zoho answer bodies, recorded samples.

Everything here is plain data over the pure core: no socket, no event loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from zcrm_related_async._batching import Batcher, Chunk, item_key
from zcrm_related_async._ops import Delink, Link, Operation, UpdateRecord

SAMPLES = Path(__file__).parent / "samples"

#: Ids as Zoho gives them: strings of 19 digits.
PARENT = "3652397000000327001"
RELATED = "3652397000000925128"
RECORD = "554023000000527002"

EXT_CONTACT = "Contacts.External_Contact_ID"
EXT_DEAL = "Deals.External_Deal_ID"
EXT_BOTH = f"{EXT_CONTACT},{EXT_DEAL}"

_DEFAULTS: dict[type[Operation], dict[str, Any]] = {
    Link: {
        "module": "Campaigns",
        "record_id": PARENT,
        "related_list": "Contacts",
        "related_id": RELATED,
    },
    Delink: {
        "module": "Campaigns",
        "record_id": PARENT,
        "related_list": "Contacts",
        "related_id": RELATED,
    },
    UpdateRecord: {"module": "Leads", "record_id": RECORD, "fields": {"Phone": "555 0100"}},
}


def build(kind: type[Operation], **overrides: Any) -> Operation:
    """An operation of ``kind`` from valid defaults, with ``overrides`` (of any type) applied."""
    return kind(**{**_DEFAULTS[kind], **overrides})


def rid(n: int) -> str:
    """The ``n``-th distinct related (or record) id, 19 digits like Zoho's."""
    return str(3652397000001000000 + n)


def links(count: int, parent: str = PARENT, **extra: Any) -> list[Link]:
    """``count`` links of distinct related ids to one parent record."""
    return [Link("Campaigns", parent, "Contacts", rid(n), **extra) for n in range(count)]


def batch(
    ops: Iterable[Operation], chunk_size: int = 100, max_buffered: int = 100_000
) -> list[Chunk]:
    """Every chunk a batcher makes of ``ops`` (input positions 0, 1, ...), in emission order."""
    batcher = Batcher(chunk_size, max_buffered)
    chunks: list[Chunk] = []
    for index, op in enumerate(ops):
        chunks.extend(batcher.add(index, op))
    chunks.extend(batcher.flush())
    return chunks


def one_chunk(ops: Iterable[Operation]) -> Chunk:
    """The single chunk ``ops`` make (they must share one group key and fit in one call)."""
    chunks = batch(ops)
    assert len(chunks) == 1, f"expected one chunk, got {len(chunks)}"
    return chunks[0]


def covered(chunks: Iterable[Chunk]) -> list[int]:
    """Every input position the chunks answer (sent or duplicate), sorted, repeats kept."""
    found: list[int] = []
    for chunk in chunks:
        found.extend(chunk.indices)
        for dups in chunk.duplicates.values():
            found.extend(dups)
    return sorted(found)


def ids_of(chunk: Chunk) -> list[str]:
    """The ids Zoho answers for, for each operation of the chunk."""
    return [item_key(op) for op in chunk.ops]


def ok_item(ident: str, message: str = "relation added", **details: Any) -> dict[str, Any]:
    """One success of a ``data`` list."""
    return {
        "code": "SUCCESS",
        "details": {"id": ident, **details},
        "message": message,
        "status": "success",
    }


def error_item(code: str, message: str = "invalid data", **details: Any) -> dict[str, Any]:
    """One error, of a ``data`` list or a whole call."""
    return {"code": code, "details": details, "message": message, "status": "error"}


def data_body(items: Sequence[object]) -> bytes:
    """A ``{"data": [...]}`` body."""
    return json.dumps({"data": list(items)}).encode()


def body(doc: object) -> bytes:
    """Any JSON document, as bytes."""
    return json.dumps(doc).encode()


def sample(name: str) -> bytes:
    """A recorded body from ``tests/unit/samples``."""
    return (SAMPLES / name).read_bytes()
