"""The operations a user asks for: link (or update) a relation, delink it, update a record.

Each operation checks itself when it is made, so a bad one fails in the caller's own code,
before anything is sent. Its fields are encoded to JSON right then: that both proves they are
serialisable and saves encoding them again when the call is built.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._config import TRIGGERS, unknown_triggers
from ._exceptions import InvalidOperationError
from ._fields import LAST as _LAST_FIELDS
from ._fields import encode_fields
from ._values import Value, field

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
# Zoho ids are strings of digits (19 usually, 16-17 seen in the EU); the cap only stops abuse.
_RECORD_ID = re.compile(r"[0-9]{1,64}")
_MAX_EXTERNAL_VALUE = 255
# "." and ".." are dot segments: a proxy or server that normalises the URL would turn
# ".../Leads/.." (a delink) into ".../Campaigns/{id}", a different call (a record's DELETE).
_DOT_SEGMENTS = frozenset({".", ".."})


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


def _kind(value: object) -> str:
    return "None" if value is None else type(value).__name__


def _clip(value: str) -> str:
    return repr(value) if len(value) <= 60 else f"{value[:40]!r}... ({len(value)} characters)"


# The group key (see _batching) of the last parent a Link, and a Delink, named by plain ids,
# once checked: input comes parent by parent, so the next one mostly names the very same
# objects, and needs no check and no new key. One tuple, replaced whole: threads making
# operations at once can at worst miss it, never pass an unchecked value.
_LAST_LINK: list[tuple[Any, ...]] = [("link", None, None, None, None)]
_LAST_DELINK: list[tuple[Any, ...]] = [("delink", None, None, None, None)]


def _parent(
    kind: str, module: object, record_id: object, related_list: object, external: object
) -> tuple[tuple[Any, ...], External | None]:
    """Check what names the parent record and its list; their group key, and the header."""
    _names(module, related_list)
    ext = _check_external(external, module)  # type: ignore[arg-type]
    _check_id(record_id, "record_id", ext.parent_field if ext else None)
    return (kind, module, record_id, related_list, external), ext


def _names(module: object, related_list: object) -> None:
    if not (type(module) is str and module in _GOOD_NAMES):
        _check_api_name(module, "module")
    if not (type(related_list) is str and related_list in _GOOD_NAMES):
        _check_api_name(related_list, "related_list")


class Link(Value):
    """Relate ``related_id`` to the parent record (or update the relation's own fields).

    ``fields`` are the relation's fields, such as ``{"Member_Status": "Active"}`` for a
    campaign member. ``external`` is the ``X-EXTERNAL`` header value when the parent and/or the
    related record are named by external field values instead of ids.
    """

    __slots__ = (
        "_ext",
        "_external",
        "_fields",
        "_fields_json",
        "_group",
        "_module",
        "_record_id",
        "_related_id",
        "_related_list",
    )
    __match_args__ = ("module", "record_id", "related_list", "related_id", "fields", "external")
    _FIELDS = __match_args__

    module: str = field("module")
    record_id: str = field("record_id")
    related_list: str = field("related_list")
    related_id: str = field("related_id")
    fields: Mapping[str, Any] | None = field("fields")
    external: str | None = field("external")
    _ext: External | None
    _fields_json: bytes | None
    #: what one call's operations share (see ``_batching.group_key``)
    _group: tuple[Any, ...]

    def __init__(
        self,
        module: str,
        record_id: str,
        related_list: str,
        related_id: str,
        fields: Mapping[str, Any] | None = None,
        external: str | None = None,
    ) -> None:
        last = _LAST_LINK[0]
        if (
            record_id is last[2]
            and module is last[1]
            and related_list is last[3]
            and external is None
        ):
            group, ext = last, None  # the same parent as the last link: checked then
        else:
            group, ext = _parent("link", module, record_id, related_list, external)
            if external is None:
                _LAST_LINK[0] = group
        if ext is None:
            related_field = None
            if not (  # the usual check, inline: a call here costs as much as the check
                type(related_id) is str
                and related_id.isdigit()
                and related_id.isascii()
                and len(related_id) <= 64
            ):
                _check_id(related_id, "related_id", None)
        else:
            related_field = ext.related_field
            _check_id(related_id, "related_id", related_field)
        self._group = group
        self._module = module
        self._record_id = record_id
        self._related_list = related_list
        self._related_id = related_id
        self._external = external
        self._ext = ext
        if fields is None:
            self._fields = self._fields_json = None
            return
        last = _LAST_FIELDS[0]  # encode_fields' own shortcut, without the call
        if (
            fields is last[0]
            and related_field is None
            and len(fields) == 1
            and fields.get(last[1]) is last[2]
        ):
            self._fields_json, self._fields = last[3]
        else:
            self._fields_json, self._fields = encode_fields(fields, "fields", related_field)


class Delink(Value):
    """Remove the relation between the parent record and ``related_id``."""

    __slots__ = (
        "_ext",
        "_external",
        "_group",
        "_module",
        "_record_id",
        "_related_id",
        "_related_list",
    )
    __match_args__ = ("module", "record_id", "related_list", "related_id", "external")
    _FIELDS = __match_args__
    _fields_json = None  # a delink carries no fields

    module: str = field("module")
    record_id: str = field("record_id")
    related_list: str = field("related_list")
    related_id: str = field("related_id")
    external: str | None = field("external")
    _ext: External | None
    _group: tuple[Any, ...]

    def __init__(
        self,
        module: str,
        record_id: str,
        related_list: str,
        related_id: str,
        external: str | None = None,
    ) -> None:
        last = _LAST_DELINK[0]
        if (
            record_id is last[2]
            and module is last[1]
            and related_list is last[3]
            and external is None
        ):
            group, ext = last, None  # the same parent as the last delink: checked then
        else:
            group, ext = _parent("delink", module, record_id, related_list, external)
            if external is None:
                _LAST_DELINK[0] = group
        _check_id(related_id, "related_id", ext.related_field if ext else None)
        if ext is not None and ext.related_field is not None and "," in related_id:
            # The ids travel comma-separated in one query parameter.
            raise InvalidOperationError("related_id", "an external value to delink has no ','")
        self._group = group
        self._module = module
        self._record_id = record_id
        self._related_list = related_list
        self._related_id = related_id
        self._external = external
        self._ext = ext


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


class UpdateRecord(Value):
    """Update fields of one record (``PUT /crm/{version}/{module}``).

    ``trigger``: ``None`` (the default) omits it, so all automation runs as in Zoho's UI;
    ``[]`` runs none; a subset (``["workflow"]``) runs only those. ``apply_layout_rules`` sends
    ``apply_feature_execution: [{"name": "layout_rules"}]``. Multi-select picklists append
    instead of replace with ``fields={..., "$append_values": {"Field": True}}``.
    """

    __slots__ = (
        "_apply_layout_rules",
        "_ext",
        "_external",
        "_fields",
        "_fields_json",
        "_group",
        "_module",
        "_record_id",
        "_trigger",
    )
    __match_args__ = ("module", "record_id", "fields", "external", "trigger", "apply_layout_rules")
    _FIELDS = __match_args__

    module: str = field("module")
    record_id: str = field("record_id")
    fields: Mapping[str, Any] = field("fields")
    external: str | None = field("external")
    trigger: tuple[str, ...] | None = field("trigger")
    apply_layout_rules: bool = field("apply_layout_rules")
    _ext: External | None
    _fields_json: bytes | None
    _group: tuple[Any, ...]

    def __init__(
        self,
        module: str,
        record_id: str,
        fields: Mapping[str, Any],
        external: str | None = None,
        trigger: Sequence[str] | None = None,
        apply_layout_rules: bool = False,
    ) -> None:
        if not (type(module) is str and module in _GOOD_NAMES):
            _check_api_name(module, "module")
        ext = _check_external(external, module)
        if ext is not None and ext.related_field is not None:
            raise InvalidOperationError(
                "external", f"an update of {module} records names only {module}.Field"
            )
        record_field = ext.parent_field if ext else None
        _check_id(record_id, "record_id", record_field)
        checked_trigger = _trigger(trigger)
        if not isinstance(apply_layout_rules, bool):
            raise InvalidOperationError("apply_layout_rules", "expected True or False")
        fields_json, as_sent = encode_fields(fields, "fields", record_field)
        if fields_json is None:
            raise InvalidOperationError("fields", "an update needs at least one field")
        self._module = module
        self._record_id = record_id
        self._external = external
        self._ext = ext
        self._trigger = checked_trigger
        self._apply_layout_rules = apply_layout_rules
        self._fields = as_sent
        self._fields_json = fields_json
        self._group = ("update", module, external, checked_trigger, apply_layout_rules)


Operation = Link | Delink | UpdateRecord
OPERATION_TYPES = (Link, Delink, UpdateRecord)
