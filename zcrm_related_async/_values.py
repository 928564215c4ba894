"""Immutable values that are cheap to make: the operations and the results.

Hand-written rather than ``attrs.frozen``: a frozen attrs class sets each attribute through
``object.__setattr__``, which made building a ``Link`` cost more than a hand-rolled script
spends on a whole record, and building a ``Result`` per streamed record half as much again.
Here each field lives in a private slot (``_name``), set once in ``__init__``, and reads
through a read-only property: assigning raises attrs' ``FrozenInstanceError``, as before.
Equality, hash, ``repr``, pickling and ``match`` by position work as attrs' did.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, ClassVar

import attrs


class _ReadOnly(property):
    """A public field: read from its slot, never set."""

    def __set__(self, instance: object, value: object) -> None:
        raise attrs.exceptions.FrozenInstanceError()

    def __delete__(self, instance: object) -> None:
        raise attrs.exceptions.FrozenInstanceError()


def field(name: str) -> Any:
    """The read-only property of the field ``name`` (kept in the slot ``_name``)."""
    return _ReadOnly(attrgetter(f"_{name}"), doc=f"The ``{name}`` given.")


class Value:
    """Base of the immutable values: equal and hashed by their fields (in constructor order,
    ``_FIELDS``), but for those in ``_UNHASHED`` (mappings, which have no hash)."""

    __slots__ = ()
    _FIELDS: ClassVar[tuple[str, ...]]
    _UNHASHED: ClassVar[frozenset[str]] = frozenset({"fields", "details"})

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f"_{name}") for name in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        pairs = zip(self._FIELDS, self._values(), strict=True)
        return hash((self.__class__.__name__, *(v for n, v in pairs if n not in self._UNHASHED)))

    def __repr__(self) -> str:
        pairs = zip(self._FIELDS, self._values(), strict=True)
        return f"{self.__class__.__name__}({', '.join(f'{n}={v!r}' for n, v in pairs)})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and copy: made again (and checked)
        return self.__class__, self._values()
