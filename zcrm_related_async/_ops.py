"""The operations a user asks for: link (or update) a relation, delink it, update a record.

Each operation checks itself when it is made, so a bad one fails in the caller's own code,
before anything is sent. Its fields are encoded to JSON right then: that both proves they are
serialisable and saves encoding them again when the call is built.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._config import TRIGGERS, unknown_triggers
from ._exceptions import InvalidOperationError

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
# Zoho ids are strings of digits (19 usually, 16-17 seen in the EU); the cap only stops abuse.
_RECORD_ID = re.compile(r"[0-9]{1,64}")
_MAX_EXTERNAL_VALUE = 255
# "." and ".." are dot segments: a proxy or server that normalises the URL would turn
# ".../Leads/.." (a delink) into ".../Campaigns/{id}", a different call (a record's DELETE).
_DOT_SEGMENTS = frozenset({".", ".."})
# Zoho's records nest a lookup or a subform a level or two deep; anything near this is garbage
# (or a circular reference), and refusing it here spares the JSON encoder a RecursionError.
_MAX_DEPTH = 32
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


@attrs.frozen
class External:
    """What an ``X-EXTERNAL`` header says for one operation.

    ``parent_field`` names the parent record's external field (its value stands in the URL in
    place of the record id); ``related_field`` the related records' (their values stand in the
    body, or the ``ids`` query, in place of ids).
    """

    header: str
    parent_field: str | None
    related_field: str | None


@functools.lru_cache(maxsize=256)
def parse_external(header: str, module: str) -> External:
    """Read ``"Contacts.External_Contact_ID,Deals.External_Deal_ID"`` for a call on ``module``.

    An entry for ``module`` itself names the parent's external field; an entry for any other
    module names the related records' (Zoho's "Update Related Records Using External ID").
    """
    parent = related = None
    for entry in header.split(","):
        name, dot, field = entry.strip().partition(".")
        if not (dot and _API_NAME.fullmatch(name) and _API_NAME.fullmatch(field)):
            raise InvalidOperationError(
                "external", f"expected 'Module.Field[,Module.Field]', got {header!r}"
            )
        if name == module:
            parent = field
        elif related is None:
            related = field
        else:
            raise InvalidOperationError("external", f"names two related modules: {header!r}")
    return External(header, parent, related)


# API names already found good: a million operations name the same few modules and lists.
_GOOD_NAMES: set[str] = set()


def _check_api_name(value: object, field: str) -> None:
    if type(value) is str and value in _GOOD_NAMES:
        return
    if not isinstance(value, str):
        raise InvalidOperationError(field, f"expected an API name (str), got {_kind(value)}")
    if not _API_NAME.fullmatch(value):
        raise InvalidOperationError(
            field, f"expected an API name of letters, digits and _, got {_clip(value)}"
        )
    if type(value) is str:
        if len(_GOOD_NAMES) >= 4096:
            _GOOD_NAMES.clear()
        _GOOD_NAMES.add(value)


def _is_plain_id(value: str) -> bool:
    return len(value) <= 64 and value.isascii() and value.isdigit()


def _check_id(value: object, field: str, external_field: str | None) -> None:
    """A record id (digits), or an external value when ``external_field`` names one."""
    if external_field is None and type(value) is str and _is_plain_id(value):
        return  # the usual case, without the regular expression
    if not isinstance(value, str):
        raise InvalidOperationError(field, f"expected a str, got {_kind(value)}")
    if external_field is None:
        if not _RECORD_ID.fullmatch(value):
            raise InvalidOperationError(
                field, f"expected a record id of digits, got {_clip(value)}"
            )
    elif not value or len(value) > _MAX_EXTERNAL_VALUE or not value.isprintable():
        raise InvalidOperationError(
            field, f"expected an external value of 1-255 printable characters, got {_clip(value)}"
        )
    elif value in _DOT_SEGMENTS:
        raise InvalidOperationError(field, f"{value!r} cannot name a record in a URL")


def _check_external(value: object, module: str) -> External | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidOperationError("external", f"expected a str, got {_kind(value)}")
    return parse_external(value, module)


_SCALARS = frozenset({str, int, float, bool, type(None)})
# Encoded flat fields, by content: the same {"Member_Status": "Active"} for a million members is
# encoded once, and they all share one bytes object (which the report keeps). Bounded.
_FLAT: dict[tuple[Any, ...], bytes] = {}


def _flat_key(fields: dict[Any, Any], reserved: Sequence[str | None]) -> tuple[Any, ...] | None:
    """A key naming exactly this content (True, 1 and 1.0 apart), if it is flat and plain."""
    items: list[tuple[str, type, object]] = []
    for key, value in fields.items():
        kind = type(value)
        if type(key) is not str or kind not in _SCALARS:
            return None
        items.append((key, kind, value))
    return (tuple(reserved), *items)


def encode_fields(
    fields: object, field: str, reserved: Sequence[str | None]
) -> tuple[bytes | None, Any]:
    """``fields`` as a JSON object (UTF-8, or ``None`` when there are none), and the fields as
    they will be sent: ``{}`` is ``None``, a tuple a list, a mapping a dict. Keeping the latter
    makes an operation equal to itself rebuilt from what was sent (all the report keeps)."""
    if fields is None:
        return None, None
    flat = _flat_key(fields, reserved) if type(fields) is dict and fields else None
    if flat is None:
        encoded = _encode_checked(fields, field, reserved)
        return encoded, None if encoded is None else json.loads(encoded)
    encoded = _FLAT.get(flat)
    if encoded is None:
        encoded = _encode_checked(fields, field, reserved)
        if encoded is not None:
            if len(_FLAT) >= 4096:
                _FLAT.clear()
            _FLAT[flat] = encoded
    return encoded, fields  # flat and plain: already as sent


def _encode_checked(fields: object, field: str, reserved: Sequence[str | None]) -> bytes | None:
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
        if key in reserved:
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


def _clip(value: str) -> str:
    return repr(value) if len(value) <= 60 else f"{value[:40]!r}... ({len(value)} characters)"


@attrs.frozen
class Link:
    """Relate ``related_id`` to the parent record (or update the relation's own fields).

    ``fields`` are the relation's fields, such as ``{"Member_Status": "Active"}`` for a
    campaign member. ``external`` is the ``X-EXTERNAL`` header value when the parent and/or the
    related record are named by external field values instead of ids.
    """

    module: str
    record_id: str
    related_list: str
    related_id: str
    fields: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    external: str | None = None
    _external: External | None = attrs.field(init=False, repr=False, eq=False, hash=False)
    _fields_json: bytes | None = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _check_api_name(self.module, "module")
        _check_api_name(self.related_list, "related_list")
        ext = _check_external(self.external, self.module)
        _check_id(self.record_id, "record_id", ext.parent_field if ext else None)
        related_field = ext.related_field if ext else None
        _check_id(self.related_id, "related_id", related_field)
        fields_json, as_sent = encode_fields(self.fields, "fields", ("id", related_field))
        object.__setattr__(self, "_external", ext)
        object.__setattr__(self, "_fields_json", fields_json)
        object.__setattr__(self, "fields", as_sent)


@attrs.frozen
class Delink:
    """Remove the relation between the parent record and ``related_id``."""

    module: str
    record_id: str
    related_list: str
    related_id: str
    external: str | None = None
    _external: External | None = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _check_api_name(self.module, "module")
        _check_api_name(self.related_list, "related_list")
        ext = _check_external(self.external, self.module)
        _check_id(self.record_id, "record_id", ext.parent_field if ext else None)
        _check_id(self.related_id, "related_id", ext.related_field if ext else None)
        if ext is not None and ext.related_field is not None and "," in self.related_id:
            # The ids travel comma-separated in one query parameter.
            raise InvalidOperationError("related_id", "an external value to delink has no ','")
        object.__setattr__(self, "_external", ext)


def _trigger(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidOperationError(
            "trigger", f"expected a list of str or None, got {_kind(value)}"
        )
    for item in value:
        _check_api_name(item, "trigger")
    unknown = unknown_triggers(value)
    if unknown:
        raise InvalidOperationError(
            "trigger",
            f"unknown {', '.join(map(repr, unknown))}; expected some of {', '.join(TRIGGERS)}",
        )
    return tuple(value)


@attrs.frozen
class UpdateRecord:
    """Update fields of one record (``PUT /crm/{version}/{module}``).

    ``trigger``: ``None`` (the default) omits it, so all automation runs as in Zoho's UI;
    ``[]`` runs none; a subset (``["workflow"]``) runs only those. ``apply_layout_rules`` sends
    ``apply_feature_execution: [{"name": "layout_rules"}]``. Multi-select picklists append
    instead of replace with ``fields={..., "$append_values": {"Field": True}}``.
    """

    module: str
    record_id: str
    fields: Mapping[str, Any] = attrs.field(hash=False)
    external: str | None = None
    trigger: tuple[str, ...] | None = attrs.field(default=None, converter=_trigger)
    apply_layout_rules: bool = False
    _external: External | None = attrs.field(init=False, repr=False, eq=False, hash=False)
    _fields_json: bytes | None = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _check_api_name(self.module, "module")
        ext = _check_external(self.external, self.module)
        if ext is not None and ext.related_field is not None:
            raise InvalidOperationError(
                "external", f"an update of {self.module} records names only {self.module}.Field"
            )
        record_field = ext.parent_field if ext else None
        _check_id(self.record_id, "record_id", record_field)
        if not isinstance(self.apply_layout_rules, bool):
            raise InvalidOperationError("apply_layout_rules", "expected True or False")
        fields_json, as_sent = encode_fields(self.fields, "fields", ("id", record_field))
        if fields_json is None:
            raise InvalidOperationError("fields", "an update needs at least one field")
        object.__setattr__(self, "_external", ext)
        object.__setattr__(self, "_fields_json", fields_json)
        object.__setattr__(self, "fields", as_sent)


Operation = Link | Delink | UpdateRecord
OPERATION_TYPES = (Link, Delink, UpdateRecord)
