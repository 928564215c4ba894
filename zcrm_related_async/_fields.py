"""An operation's fields: checked, encoded to JSON once, and copied, when the operation is made.

Encoding them then both proves they are serialisable and saves encoding them again when the
call is built. A million members of one campaign carry the same ``{"Member_Status": "Active"}``:
flat fields of equal content (True, 1 and 1.0 apart) are encoded once, and their operations
share one encoded ``bytes`` object and one copy of the fields (which nobody may change: it is
an immutable operation's). A copy, not the caller's dict: one reused and changed afterwards
must not change what an operation shows, compares equal to and sends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._exceptions import InvalidOperationError

# Zoho's records nest a lookup or a subform a level or two deep; anything near this is garbage
# (or a circular reference), and refusing it here spares the JSON encoder a RecursionError.
_MAX_DEPTH = 32
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_SCALARS = frozenset({str, int, float, bool, type(None)})

#: flat fields by content (see _flat_key), one cache per key the fields may not name
_FLAT: dict[str | None, dict[tuple[Any, ...], tuple[bytes | None, Any]]] = {None: {}}
_FLAT_MAX = 4096
#: the last one-field dict encoded: (the dict, its name, its value, (JSON, copy)). One tuple,
#: replaced whole: threads making operations at once can only miss it, never see it torn.
#: (In a list, so that ``Link`` reads it without a call: see ``_ops``.)
LAST: list[tuple[Any, Any, Any, tuple[bytes | None, Any]]] = [(None, None, None, (None, None))]


def encode_fields(
    fields: object, field: str, other_key: str | None = None
) -> tuple[bytes | None, Any]:
    """``fields`` as a JSON object (UTF-8, or ``None`` when there are none), and a copy of the
    fields as they will be sent: ``{}`` is ``None``, a tuple a list, a mapping a dict. Keeping
    the latter makes an operation equal to itself rebuilt from what was sent (all the report
    keeps). ``"id"`` and ``other_key`` (an external field naming the record) may not appear:
    the operation gives them itself."""
    if fields is None:
        return None, None
    last = LAST[0]
    # The same dict object as last time (a constant, or the CLI's shared fields), still holding
    # the very same value object under its one name: then it holds the same content.
    if (
        fields is last[0]
        and other_key is None
        and len(fields) == 1
        and fields.get(last[1]) is last[2]
    ):
        return last[3]
    key = _flat_key(fields) if type(fields) is dict else None
    if key is None:
        encoded = _encode_checked(fields, field, other_key)
        return encoded, None if encoded is None else json.loads(encoded)
    cache = _FLAT.get(other_key)
    if cache is None:
        cache = _FLAT[other_key] = {}
    known = cache.get(key)
    if known is None:
        encoded = _encode_checked(fields, field, other_key)
        known = (encoded, None if encoded is None else dict(fields))  # type: ignore[call-overload]
        if len(cache) >= _FLAT_MAX:
            cache.clear()
        cache[key] = known
    if other_key is None and len(key) == 2:  # one field of a str value
        LAST[0] = (fields, key[0], key[1], known)
    return known


def _flat_key(fields: dict[Any, Any]) -> tuple[Any, ...] | None:
    """A key naming exactly this content, if it is flat and plain: str keys, scalar values
    (any value not a str is keyed by its repr, which tells True, 1 and 1.0 apart)."""
    if len(fields) == 1:  # the usual relation field, such as {"Member_Status": "Active"}
        for name, value in fields.items():
            if type(name) is str and type(value) is str:
                return (name, value)
    key: list[Any] = []
    for name, value in fields.items():
        kind = type(value)
        if type(name) is not str or kind not in _SCALARS:
            return None
        # repr: True, 1 and 1.0 are equal keys in Python (so are 0.0 and -0.0), not in JSON.
        key += (name, value) if kind is str else (name, kind, repr(value))
    return tuple(key)


def _encode_checked(fields: object, field: str, other_key: str | None) -> bytes | None:
    if not isinstance(fields, Mapping):
        raise InvalidOperationError(
            field, f"expected a mapping of field names, got {_kind(fields)}"
        )
    if not fields:
        return None
    # What is encoded is a plain copy of exactly what was checked: a dict subclass may iterate
    # other keys than its items() (which the encoder reads), a str subclass key may compare
    # unequal to "id", and nested keys that are not str would be coerced ({1: .., "1": ..}
    # becomes an object with a duplicate key).
    plain: dict[str, Any] = {}
    for key, value in fields.items():
        if not isinstance(key, str) or not key:
            raise InvalidOperationError(field, f"field names are non-empty str, got {_short(key)}")
        key = str.__str__(key)
        if key == "id" or key == other_key:
            raise InvalidOperationError(
                f"{field}.{key}", "is given by the operation itself; do not repeat it in fields"
            )
        plain[key] = _plain(value, field, f"{field}.{key}", 1)
    try:
        return _encode(plain).encode()
    except (TypeError, ValueError) as exc:  # not JSON, NaN/inf, lone surrogates
        raise InvalidOperationError(field, f"not JSON-serialisable: {exc}") from None


def _plain(value: object, field: str, path: str, depth: int) -> object:
    """``value`` with every mapping a dict of str keys and every sequence a list."""
    if value is None or isinstance(value, (str, int, float)):
        return value  # the encoder judges these (NaN, lone surrogates)
    if depth > _MAX_DEPTH:
        where = path if len(path) <= 60 else path[:50] + "..."
        raise InvalidOperationError(
            field, f"{where}: nested more than {_MAX_DEPTH} levels deep (or circular)"
        )
    if isinstance(value, Mapping):
        plain: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidOperationError(
                    field, f"{path}: keys of nested objects are str, got {_short(key)}"
                )
            key = str.__str__(key)
            plain[key] = _plain(item, field, f"{path}.{key}", depth + 1)
        return plain
    if isinstance(value, (list, tuple)):
        return [_plain(item, field, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    return value  # the encoder refuses it, naming its type


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _short(value: object) -> str:
    shown = repr(value) if isinstance(value, (str, int, float, type(None))) else _kind(value)
    return shown if len(shown) <= 60 else f"{shown[:40]}... ({len(shown)} characters)"
