"""The fake CRM's in-memory data: relations, records and external ids.

Pure data and Zoho's per-record rules, no HTTP: each operation takes the already parsed
items of one call and adds one Zoho result item per input item, in input order, to an
:class:`~._results.Answers`. Every lookup is a dict access, so a call costs O(items),
whatever the size of the state; plain ids (the common case) take a formatted fast path.

Ids are strings of ASCII digits that are not in :attr:`CrmState.missing_ids`; any such id
"exists" (the fake has no record catalogue), which keeps tests free of set-up. Input items
are never mutated (the request log may share them).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ._results import (
    ADDED_TEMPLATE,
    FAKE_USER,
    RECORD_UPDATED,
    RELATION_ADDED,
    RELATION_REMOVED,
    REMOVED_TEMPLATE,
    Answers,
    JsonDict,
    invalid_external,
    invalid_id,
    invalid_item,
    invalid_related_id,
    mandatory_not_found,
    success,
)

#: (module, record id, related list) -> the relations of that parent in that list.
RelationKey = tuple[str, str, str]
#: (module, field) of an external-id field named by ``X-EXTERNAL``.
ExternalRef = tuple[str, str]

_APPEND = "$append_values"
_USER = json.dumps(FAKE_USER, separators=(",", ":"))


class CrmState:
    """Relations, records and external-id registrations of one fake org."""

    __slots__ = ("_created", "externals", "missing_ids", "records", "relations")

    def __init__(self, missing_ids: Iterable[str] = ()) -> None:
        self.missing_ids: set[str] = {str(i) for i in missing_ids}
        self.relations: dict[RelationKey, dict[str, JsonDict]] = {}
        self.records: dict[tuple[str, str], JsonDict] = {}
        self.externals: dict[tuple[str, str, str], str] = {}
        self._created: dict[tuple[str, str], str] = {}

    # --- identities -----------------------------------------------------------------

    def is_valid_id(self, value: object) -> bool:
        """A string of ASCII digits that does not name a missing record."""
        return (
            type(value) is str
            and value.isdigit()
            and value.isascii()
            and value not in self.missing_ids
        )

    def add_external(self, module: str, field: str, value: str, record_id: str) -> None:
        """Make ``value`` of ``module.field`` name the record ``record_id``."""
        self.externals[(module, field, value)] = record_id

    def resolve_external(self, module: str, field: str, value: object) -> str | None:
        """The id an external value names, or None when unknown (or the record is missing)."""
        if not isinstance(value, str):
            return None
        record_id = self.externals.get((module, field, value))
        if record_id is None or record_id in self.missing_ids:
            return None
        return record_id

    def _resolve(
        self, value: object, ext: ExternalRef | None, *, related: bool
    ) -> tuple[str | None, JsonDict]:
        """Resolve an id or external value: (id, success details) or (None, error item)."""
        shown = value if isinstance(value, str) else str(value)
        if ext is None:
            if self.is_valid_id(value):
                return shown, {"id": shown}
            return None, invalid_related_id(shown) if related else invalid_id(shown)
        module, field = ext
        resolved = self.resolve_external(module, field, value)
        if resolved is None:
            return None, invalid_external(field, shown)
        # Zoho echoes the external field first, then the resolved id.
        return resolved, {field: value, "id": resolved}

    # --- relations ------------------------------------------------------------------

    def link(
        self, key: RelationKey, items: Sequence[object], ext: ExternalRef | None, out: Answers
    ) -> None:
        """Add or update relations; a relation's fields are replaced by the item's."""
        id_key = "id" if ext is None else ext[1]
        relations = self.relations.get(key)
        if relations is None:
            relations = self.relations[key] = {}
        missing = self.missing_ids
        parts = out.parts
        for index, item in enumerate(items):
            if type(item) is not dict:
                out.add(invalid_item(index))
                continue
            value = item.get(id_key)
            if type(value) is int:  # as _id(), inline: this loop is the fake's hot path
                value = str(value)
            if (
                ext is None
                and type(value) is str
                and value.isdigit()
                and value.isascii()
                and value not in missing
            ):
                fields = item.copy()
                del fields["id"]
                relations[value] = fields
                parts.append(ADDED_TEMPLATE % value)
                out.ok += 1
                continue
            if value is None:
                out.add(mandatory_not_found(id_key, index))
                continue
            related_id, details = self._resolve(value, ext, related=True)
            if related_id is None:
                out.add(details)
                continue
            relations[related_id] = {k: v for k, v in item.items() if k != "id" and k != id_key}
            out.add(success(RELATION_ADDED, details))

    def delink(
        self, key: RelationKey, values: Sequence[str], ext: ExternalRef | None, out: Answers
    ) -> None:
        """Remove relations; removing an absent relation succeeds, as Zoho's does."""
        relations = self.relations.get(key) or {}
        missing = self.missing_ids
        parts = out.parts
        for value in values:
            if ext is None and value.isdigit() and value.isascii() and value not in missing:
                relations.pop(value, None)
                parts.append(REMOVED_TEMPLATE % value)
                out.ok += 1
                continue
            related_id, details = self._resolve(value, ext, related=True)
            if related_id is None:
                out.add(details)
                continue
            relations.pop(related_id, None)
            out.add(success(RELATION_REMOVED, details))

    def add_relation(self, key: RelationKey, related_id: str, fields: JsonDict) -> None:
        """Seed a relation directly (no validation)."""
        self.relations.setdefault(key, {})[related_id] = copy.deepcopy(fields)

    def related(self, key: RelationKey) -> dict[str, JsonDict]:
        """The live relations of a parent in a related list (empty dict when none)."""
        return self.relations.get(key) or {}

    # --- records --------------------------------------------------------------------

    def update_records(
        self,
        module: str,
        items: Sequence[object],
        ext_field: str | None,
        now: str,
        out: Answers,
    ) -> None:
        """Merge each item's fields into its record (``$append_values`` appends lists)."""
        ext = None if ext_field is None else (module, ext_field)
        id_key = "id" if ext_field is None else ext_field
        # Modified_Time, Modified_By, Created_Time, id, Created_By: Zoho's order.
        template = (
            '{"code":"SUCCESS","details":{"Modified_Time":"%s","Modified_By":%s,'
            '"Created_Time":"%s","id":"%s","Created_By":%s},'
            '"message":"record updated","status":"success"}'
        )
        for index, item in enumerate(items):
            if type(item) is not dict:
                out.add(invalid_item(index))
                continue
            value = _id(item.get(id_key))
            if value is None:
                out.add(mandatory_not_found(id_key, index))
                continue
            record_id, ref = self._resolve(value, ext, related=False)
            if record_id is None:
                out.add(ref)
                continue
            append = item.get(_APPEND)
            if append is not None and type(append) is not dict:
                out.add(invalid_item(index, "." + _APPEND))
                continue
            rkey = (module, record_id)
            record = self.records.get(rkey)
            if record is None:
                record = self.records[rkey] = {}
                self._created[rkey] = now
            _merge(record, item, id_key, append)
            created = self._created[rkey]
            if ext_field is None:
                out.parts.append(template % (now, _USER, created, record_id, _USER))
                out.ok += 1
                continue
            details: JsonDict = {
                "Modified_Time": now,
                "Modified_By": FAKE_USER,
                "Created_Time": created,
                "id": record_id,
                "Created_By": FAKE_USER,
                ext_field: value,
            }
            out.add(success(RECORD_UPDATED, details))


def _id(value: object) -> object:
    """An id as Zoho takes it: a JSON number (the official SDK sends ints) is the same id as
    its string of digits."""
    return str(value) if type(value) is int else value


def _merge(record: JsonDict, item: dict[str, Any], id_key: str, append: Any) -> None:
    """Merge one update item into a stored record (identifier keys are not fields)."""
    for field, value in item.items():
        if field in ("id", id_key, _APPEND):
            continue
        if append and append.get(field) is True and isinstance(value, list):
            old = record.get(field)
            if isinstance(old, list):
                # A multi-select picklist holds each value once: append only new values.
                record[field] = old + [v for v in value if v not in old]
                continue
        record[field] = value
