"""The metadata reads other Zoho clients make first: ``GET /crm/{v}/settings/related_lists
?module=M`` and ``GET /crm/{v}/settings/fields?module=M``.

Zoho's official SDK reads both before it links (to find the related list's module and that
module's field types), so a fake that lacks them hosts our client only. The answers follow
Zoho's v8 docs and its OpenAPI spec (``related_lists.json``, ``fields.json`` in
``zoho/crm-oas``): every required key of a related list, and the field keys clients read
(``api_name``, ``data_type``, ``json_type``, ``system_mandatory``, ``lookup`` ...).

The fake knows a few standard modules (:data:`CATALOGUE`), or exactly the ones given to
``FakeZoho(modules=...)``: those not in the catalogue get a name field and no related lists.
Pure data: no HTTP here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._results import JsonDict, error

#: data type -> Zoho's json_type for it
_JSON_TYPES = {
    "text": "string",
    "email": "string",
    "picklist": "string",
    "currency": "double",
    "lookup": "jsonobject",
    "ownerlookup": "jsonobject",
}

#: module -> its fields: (api name, data type, mandatory, lookup module or "")
_FIELDS: dict[str, tuple[tuple[str, str, bool, str], ...]] = {
    "Leads": (
        ("Last_Name", "text", True, ""),
        ("First_Name", "text", False, ""),
        ("Email", "email", False, ""),
        ("Company", "text", False, ""),
        ("Lead_Status", "picklist", False, ""),
        ("Rating", "picklist", False, ""),
    ),
    "Contacts": (
        ("Last_Name", "text", True, ""),
        ("First_Name", "text", False, ""),
        ("Email", "email", False, ""),
        ("Account_Name", "lookup", False, "Accounts"),
    ),
    "Accounts": (("Account_Name", "text", True, ""),),
    "Campaigns": (
        ("Campaign_Name", "text", True, ""),
        ("Status", "picklist", False, ""),
        ("Type", "picklist", False, ""),
    ),
    "Deals": (
        ("Deal_Name", "text", True, ""),
        ("Stage", "picklist", True, ""),
        ("Amount", "currency", False, ""),
        ("Account_Name", "lookup", False, "Accounts"),
        ("Contact_Name", "lookup", False, "Contacts"),
    ),
    "Products": (
        ("Product_Name", "text", True, ""),
        ("Unit_Price", "currency", False, ""),
    ),
    "Price_Books": (("Price_Book_Name", "text", True, ""),),
}

#: module -> its related lists that link records: (related list API name, its module)
_RELATED: dict[str, tuple[tuple[str, str], ...]] = {
    "Leads": (("Campaigns", "Campaigns"), ("Products", "Products")),
    "Contacts": (("Campaigns", "Campaigns"), ("Deals", "Deals"), ("Products", "Products")),
    "Accounts": (("Contacts", "Contacts"), ("Deals", "Deals"), ("Products", "Products")),
    "Campaigns": (("Leads", "Leads"), ("Contacts", "Contacts"), ("Deals", "Deals")),
    "Deals": (("Contact_Roles", "Contacts"), ("Products", "Products"), ("Campaigns", "Campaigns")),
    "Products": (
        ("Leads", "Leads"),
        ("Contacts", "Contacts"),
        ("Accounts", "Accounts"),
        ("Price_Books", "Price_Books"),
    ),
    "Price_Books": (("Products", "Products"),),
}

# Every module has an owner, a lookup of users (not a module of the catalogue).
_OWNER = ("Owner", "ownerlookup", False, "")

#: The modules whose metadata the fake serves, in a stable order (their ids follow it).
CATALOGUE = tuple(_FIELDS)

# Zoho's ids of settings are 19-digit strings like record ids; these are the fake's own.
_MODULE_ID = 5000000000000000000
_FIELD_ID = 5100000000000000000
_LIST_ID = 5200000000000000000


class Metadata:
    """Answers the two settings reads for ``modules`` (None: the catalogue)."""

    __slots__ = ("_ids",)

    def __init__(self, modules: tuple[str, ...] | None = None) -> None:
        names = CATALOGUE if modules is None else modules
        self._ids: Mapping[str, str] = {m: str(_MODULE_ID + n) for n, m in enumerate(names)}

    def answer(self, what: str, query: Mapping[str, str]) -> tuple[int, JsonDict | None]:
        """(status, JSON) for ``settings/{what}``; None for an empty 204."""
        module = query.get("module")
        if not module:
            return 400, error(
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param_name": "module"},
            )
        if module not in self._ids:
            return 400, error(
                "INVALID_MODULE",
                "the module name given seems to be invalid",
                {"param_name": "module"},
            )
        if what == "fields":
            return 200, {"fields": self._fields(module)}
        # Only lists of modules this org has (a fake given modules= may lack some).
        known = [entry for entry in _RELATED.get(module, ()) if entry[1] in self._ids]
        lists = [self._related_list(module, n, *entry) for n, entry in enumerate(known)]
        return (200, {"related_lists": lists}) if lists else (204, None)

    def _module_ref(self, module: str) -> JsonDict:
        return {"api_name": module, "id": self._ids[module]}

    def _related_list(self, module: str, n: int, api_name: str, related: str) -> JsonDict:
        # Zoho's href is where the related records are read: {module}/{ENTITYID}/{list}.
        list_id = str(_LIST_ID + int(self._ids[module]) % 1000 * 100 + n)
        return {
            "id": list_id,
            "sequence_number": str(n + 1),
            "display_label": api_name.replace("_", " "),
            "api_name": api_name,
            "module": self._module_ref(related),
            "name": api_name.replace("_", " "),
            "action": None,
            "href": f"{module}/{{ENTITYID}}/{api_name}",
            "type": "default",
            "connectedmodule": None,
            "linkingmodule": None,
            "customize_sort": True,
            "customize_fields": True,
            "customize_display_label": True,
            "status": "visible",
        }

    def _fields(self, module: str) -> list[JsonDict]:
        fields = (*_FIELDS.get(module, (("Name", "text", True, ""),)), _OWNER)
        base = _FIELD_ID + int(self._ids[module]) % 1000 * 100
        return [self._field(base + n, *field) for n, field in enumerate(fields)]

    def _field(
        self, field_id: int, api_name: str, data_type: str, mandatory: bool, lookup: str
    ) -> JsonDict:
        label = api_name.replace("_", " ")
        found: JsonDict = {}
        if (
            lookup in self._ids
        ):  # which module a lookup names: a client fetches that module's fields too
            found = {
                "display_label": label,
                "api_name": api_name,
                "module": self._module_ref(lookup),
                "id": str(field_id + 50),
            }
        return {
            "api_name": api_name,
            "id": str(field_id),
            "field_label": label,
            "display_label": label,
            "data_type": data_type,
            "json_type": _JSON_TYPES[data_type],
            "system_mandatory": mandatory,
            "custom_field": False,
            "read_only": False,
            "field_read_only": False,
            "visible": True,
            "length": 120 if data_type in ("text", "email") else 50,
            "pick_list_values": [],
            "lookup": found,
        }
