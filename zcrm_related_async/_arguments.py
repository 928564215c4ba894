"""Checking a client's arguments and turning ``link()``/``delink()``/``update_records()``
items into operations: before anything is sent, every mistake is named where it is."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from ._config import MAX_CHUNK_SIZE
from ._exceptions import ConfigurationError, InvalidOperationError
from ._ops import Delink, Link, Operation, UpdateRecord, parse_external

Related = Iterable["str | Mapping[str, Any]"]


def check_settings(
    *,
    access_token: object,
    auth: object,
    chunk_size: object,
    timeout: object,
    max_tries: object,
    max_retry_time: object,
    backoff_base: object,
    backoff_cap: object,
    max_buffered: object,
    max_outage: object,
    linger: object,
) -> None:
    """Check an :class:`AsyncClient`'s settings, in the order it takes them."""
    if (access_token is None) == (auth is None):
        raise ConfigurationError("give exactly one of access_token= or auth=")
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, int)
        or not (1 <= chunk_size <= MAX_CHUNK_SIZE)
    ):
        raise ConfigurationError(f"chunk_size: expected 1 to 100, got {chunk_size!r}")
    positive("timeout", timeout)
    positive("max_tries", max_tries, int)
    positive("max_retry_time", max_retry_time)
    positive("backoff_base", backoff_base)
    positive("backoff_cap", backoff_cap)
    positive("max_buffered", max_buffered, int)
    positive("max_outage", max_outage)
    if isinstance(linger, bool) or not isinstance(linger, (int, float)) or linger < 0:
        raise ConfigurationError(f"linger: expected seconds >= 0, got {linger!r}")


def positive(name: str, value: object, kind: type = float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigurationError(f"{name}: expected a number > 0, got {value!r}")
    if kind is int and not isinstance(value, int):
        raise ConfigurationError(f"{name}: expected a whole number, got {value!r}")


def budget(credit_budget: int | None) -> None:
    if credit_budget is not None and (
        isinstance(credit_budget, bool) or not isinstance(credit_budget, int) or credit_budget < 0
    ):
        raise ConfigurationError(f"credit_budget: expected an int >= 0, got {credit_budget!r}")


def related_key(external: str | None, module: str) -> str:
    ext = parse_external(external, module) if isinstance(external, str) else None
    return (ext.related_field if ext else None) or "id"


def split(item: object, key: str, need_fields: bool = False) -> tuple[str, dict[str, Any] | None]:
    """``"123"`` or ``{"id": "123", **fields}`` -> ``("123", fields)``."""
    if isinstance(item, str) and not need_fields:
        return item, None
    if not isinstance(item, Mapping):
        wanted = f"a dict with {key!r}" if need_fields else f"an id (str) or a dict with {key!r}"
        raise InvalidOperationError("item", f"expected {wanted}, got {type(item).__name__}")
    if key not in item:
        raise InvalidOperationError(key, f"missing: each item needs {key!r}")
    fields = {k: v for k, v in item.items() if k != key}
    return item[key], fields or None


def build(items: Iterable[Any], make: Any) -> Iterable[Operation]:
    """Operations from the items: all at once (so a bad item raises before any call) when they
    are a collection, lazily when they are a stream."""

    def each() -> Iterator[Operation]:
        for index, item in enumerate(items):
            try:
                yield make(item)
            except InvalidOperationError as error:
                raise error.at(index) from None

    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise InvalidOperationError(
            "items", f"expected a list of items, got {type(items).__name__}"
        )
    return list(each()) if isinstance(items, Collection) else each()


def links(
    module: str, record_id: str, related_list: str, related: Related, external: str | None
) -> Iterable[Operation]:
    """``link()``'s items as :class:`Link` operations."""
    key = related_key(external, module)

    def make(item: str | Mapping[str, Any]) -> Link:
        related_id, fields = split(item, key)
        return Link(module, record_id, related_list, related_id, fields, external)

    return build(related, make)


def delinks(
    module: str, record_id: str, related_list: str, related: Related, external: str | None
) -> Iterable[Operation]:
    """``delink()``'s items as :class:`Delink` operations (fields are ignored)."""
    key = related_key(external, module)

    def make(item: str | Mapping[str, Any]) -> Delink:
        related_id, _ = split(item, key)
        return Delink(module, record_id, related_list, related_id, external)

    return build(related, make)


def updates(
    module: str,
    records: Iterable[Mapping[str, Any]],
    trigger: list[str] | None,
    apply_layout_rules: bool,
    external: str | None,
) -> Iterable[Operation]:
    """``update_records()``'s records as :class:`UpdateRecord` operations."""
    ext = parse_external(external, module) if isinstance(external, str) else None
    key = (ext.parent_field if ext else None) or "id"

    def make(record: Mapping[str, Any]) -> UpdateRecord:
        record_id, fields = split(record, key, need_fields=True)
        return UpdateRecord(module, record_id, fields or {}, external, trigger, apply_layout_rules)

    return build(records, make)
