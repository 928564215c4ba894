"""Checking a client's arguments and turning ``link()``/``delink()``/``update_records()``
items into operations: before anything is sent, every mistake is named where it is."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from ._exceptions import ConfigurationError, InvalidOperationError
from ._ops import Operation, parse_external

Related = Iterable["str | Mapping[str, Any]"]


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
