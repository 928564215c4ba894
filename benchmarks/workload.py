"""The job every client runs: link leads to campaigns (Zoho's campaign members), and the
state the fake server must hold afterwards. Deterministic, so the harness can check it.

Input comes parent by parent, as an export sorted by campaign does; every client groups by
parent anyway, so the order changes how soon calls start, not what is sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

MODULE = "Campaigns"
RELATED_LIST = "Leads"
# 19-digit ids, as Zoho's are; they stay str everywhere.
_PARENT_BASE = 3652397000000000000
_RELATED_BASE = 4876876000000000000

#: (parent record id, related record id, the relation's fields or None)
LinkRow = tuple[str, str, Mapping[str, str] | None]

MEMBER_ACTIVE: Mapping[str, str] = {"Member_Status": "Active"}


@dataclass(frozen=True)
class Workload:
    """``parents`` campaigns with ``per_parent`` leads each; every link carries ``fields``
    (the same mapping object for every row, as a script with a constant would)."""

    parents: int
    per_parent: int
    fields: Mapping[str, str] | None = None

    @property
    def records(self) -> int:
        return self.parents * self.per_parent

    def parent_id(self, p: int) -> str:
        return str(_PARENT_BASE + p)

    def related_id(self, p: int, m: int) -> str:
        return str(_RELATED_BASE + p * self.per_parent + m)

    def rows(self) -> Iterator[LinkRow]:
        """The links as plain data, parent by parent (a generator: never held whole)."""
        fields = self.fields
        for p in range(self.parents):
            parent = self.parent_id(p)
            base = _RELATED_BASE + p * self.per_parent
            for m in range(self.per_parent):
                yield parent, str(base + m), fields

    def expected(self, p: int) -> dict[str, dict[str, str]]:
        """What ``GET /crm/v8/Campaigns/{parent}/Leads`` must list: id -> relation fields."""
        fields = dict(self.fields or {})
        return {self.related_id(p, m): fields for m in range(self.per_parent)}

    def first_parents(self, parents: int) -> Workload:
        """The same job cut to its first ``parents`` (slow clients run a slice)."""
        return Workload(min(parents, self.parents), self.per_parent, self.fields)

    def to_json(self) -> dict[str, object]:
        return {
            "parents": self.parents,
            "per_parent": self.per_parent,
            "fields": None if self.fields is None else dict(self.fields),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, object]) -> Workload:
        parents, per_parent, fields = doc["parents"], doc["per_parent"], doc["fields"]
        if not isinstance(parents, int) or not isinstance(per_parent, int):
            raise ValueError(f"bad workload: {doc!r}")
        if fields is not None and not isinstance(fields, dict):
            raise ValueError(f"bad workload fields: {fields!r}")
        return cls(parents, per_parent, fields)
