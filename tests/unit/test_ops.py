"""Operations check themselves when made: every bad input raises before anything is sent."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from tests.unit.builders import EXT_BOTH, EXT_CONTACT, EXT_DEAL, PARENT, RECORD, RELATED, build
from zcrm_related_async import Delink, InvalidOperationError, Link, UpdateRecord, ZohoError
from zcrm_related_async._ops import Operation, parse_external

EXT_LEAD = "Leads.External_Lead_ID"

INVALID: list[Any] = [
    # ids: str of digits, never int
    pytest.param(Link, {"record_id": 3652397000000327001}, "record_id", id="link-int-record-id"),
    pytest.param(Link, {"related_id": 3652397000000925128}, "related_id", id="link-int-related"),
    pytest.param(Link, {"record_id": None}, "record_id", id="link-none-record-id"),
    pytest.param(Link, {"record_id": b"123"}, "record_id", id="link-bytes-record-id"),
    pytest.param(Link, {"record_id": "12a4"}, "record_id", id="link-letter-in-record-id"),
    pytest.param(Link, {"record_id": ""}, "record_id", id="link-empty-record-id"),
    pytest.param(Link, {"record_id": " 123"}, "record_id", id="link-space-in-record-id"),
    pytest.param(Link, {"record_id": "123\n"}, "record_id", id="link-newline-after-record-id"),
    pytest.param(Link, {"record_id": "-123"}, "record_id", id="link-negative-record-id"),
    pytest.param(Link, {"related_id": "\uff11\uff12"}, "related_id", id="link-fullwidth-digits"),
    pytest.param(Link, {"related_id": "1,2"}, "related_id", id="link-comma-in-related-id"),
    pytest.param(Delink, {"record_id": 1}, "record_id", id="delink-int-record-id"),
    pytest.param(Delink, {"related_id": 2}, "related_id", id="delink-int-related-id"),
    pytest.param(Delink, {"related_id": "abc"}, "related_id", id="delink-non-digit-related"),
    pytest.param(UpdateRecord, {"record_id": 554023000000527002}, "record_id", id="update-int"),
    pytest.param(UpdateRecord, {"record_id": "x1"}, "record_id", id="update-non-digit-id"),
    # module and related list: API names
    pytest.param(Link, {"module": ""}, "module", id="link-empty-module"),
    pytest.param(Link, {"module": None}, "module", id="link-none-module"),
    pytest.param(Link, {"module": "Deals/1"}, "module", id="link-slash-in-module"),
    pytest.param(Link, {"module": "1Deals"}, "module", id="link-module-starts-with-digit"),
    pytest.param(Link, {"module": "D\u00e9als"}, "module", id="link-non-ascii-module"),
    pytest.param(Link, {"module": "Deals\n"}, "module", id="link-newline-after-module"),
    pytest.param(Link, {"module": "A" * 101}, "module", id="link-101-character-module"),
    pytest.param(Delink, {"module": "Deals?x=1"}, "module", id="delink-query-in-module"),
    pytest.param(UpdateRecord, {"module": "Le ads"}, "module", id="update-space-in-module"),
    pytest.param(UpdateRecord, {"module": 5}, "module", id="update-int-module"),
    pytest.param(Link, {"related_list": ""}, "related_list", id="link-empty-related-list"),
    pytest.param(Link, {"related_list": "Contacts/1"}, "related_list", id="link-slash-list"),
    pytest.param(Link, {"related_list": 42}, "related_list", id="link-int-related-list"),
    pytest.param(Delink, {"related_list": "Con tacts"}, "related_list", id="delink-space-list"),
    # fields: a mapping of non-empty str to JSON values
    pytest.param(Link, {"fields": [("Member_Status", "Active")]}, "fields", id="link-list-fields"),
    pytest.param(Link, {"fields": "Member_Status=Active"}, "fields", id="link-str-fields"),
    pytest.param(Link, {"fields": {1: "Active"}}, "fields", id="link-int-key"),
    pytest.param(Link, {"fields": {None: "Active"}}, "fields", id="link-none-key"),
    pytest.param(Link, {"fields": {"": "Active"}}, "fields", id="link-empty-key"),
    pytest.param(Link, {"fields": {"id": RELATED}}, "fields.id", id="link-id-in-fields"),
    pytest.param(Link, {"fields": {"A": float("nan")}}, "fields", id="link-nan"),
    pytest.param(Link, {"fields": {"A": float("inf")}}, "fields", id="link-inf"),
    pytest.param(Link, {"fields": {"A": {"B": float("-inf")}}}, "fields", id="link-nested-inf"),
    pytest.param(Link, {"fields": {"Tags": {"a", "b"}}}, "fields", id="link-set-value"),
    pytest.param(Link, {"fields": {"A": object()}}, "fields", id="link-object-value"),
    pytest.param(Link, {"fields": {"A": b"bytes"}}, "fields", id="link-bytes-value"),
    pytest.param(Link, {"fields": {"A": "\ud800"}}, "fields", id="link-lone-surrogate-value"),
    pytest.param(Link, {"fields": {"\udc00": 1}}, "fields", id="link-lone-surrogate-key"),
    pytest.param(Link, {"fields": {"A": ["ok", "\udfff"]}}, "fields", id="link-nested-surrogate"),
    pytest.param(UpdateRecord, {"fields": {"id": RECORD}}, "fields.id", id="update-id-in-fields"),
    pytest.param(UpdateRecord, {"fields": {"A": float("nan")}}, "fields", id="update-nan"),
    pytest.param(UpdateRecord, {"fields": {"A": {1, 2}}}, "fields", id="update-set-value"),
    pytest.param(UpdateRecord, {"fields": {2: "x"}}, "fields", id="update-int-key"),
    pytest.param(UpdateRecord, {"fields": ["Phone"]}, "fields", id="update-list-fields"),
    # an update needs fields
    pytest.param(UpdateRecord, {"fields": {}}, "fields", id="update-empty-fields"),
    pytest.param(UpdateRecord, {"fields": None}, "fields", id="update-none-fields"),
    # trigger: None or a list of names
    pytest.param(UpdateRecord, {"trigger": "workflow"}, "trigger", id="update-str-trigger"),
    pytest.param(UpdateRecord, {"trigger": 1}, "trigger", id="update-int-trigger"),
    pytest.param(UpdateRecord, {"trigger": {"workflow"}}, "trigger", id="update-set-trigger"),
    pytest.param(UpdateRecord, {"trigger": [1]}, "trigger", id="update-int-in-trigger"),
    pytest.param(UpdateRecord, {"trigger": ["work flow"]}, "trigger", id="update-bad-trigger"),
    pytest.param(UpdateRecord, {"trigger": ["workflows"]}, "trigger", id="update-trigger-typo"),
    pytest.param(UpdateRecord, {"trigger": ["Workflow"]}, "trigger", id="update-trigger-case"),
    pytest.param(UpdateRecord, {"apply_layout_rules": "yes"}, "apply_layout_rules", id="alr-str"),
    pytest.param(UpdateRecord, {"apply_layout_rules": 1}, "apply_layout_rules", id="alr-int"),
    # X-EXTERNAL: "Module.Field[,Module.Field]"
    pytest.param(Link, {"external": "Contacts"}, "external", id="external-without-field"),
    pytest.param(Link, {"external": ""}, "external", id="external-empty"),
    pytest.param(Link, {"external": "Contacts."}, "external", id="external-empty-field"),
    pytest.param(Link, {"external": ".External_ID"}, "external", id="external-empty-module"),
    pytest.param(Link, {"external": "Contacts.External ID"}, "external", id="external-space"),
    pytest.param(Link, {"external": "Contacts.A;Deals.B"}, "external", id="external-semicolon"),
    pytest.param(Link, {"external": "Contacts.A.B"}, "external", id="external-two-dots"),
    pytest.param(Link, {"external": 5}, "external", id="external-int"),
    pytest.param(Link, {"external": ["Contacts.A"]}, "external", id="external-list"),
    pytest.param(
        Link,
        {"module": "Contacts", "external": "Deals.A,Leads.B"},
        "external",
        id="external-two-related-modules",
    ),
    pytest.param(
        UpdateRecord,
        {"external": "Contacts.External_Contact_ID"},
        "external",
        id="update-external-of-another-module",
    ),
    pytest.param(Delink, {"external": "Contacts"}, "external", id="delink-bad-external"),
]


@pytest.mark.parametrize(("kind", "overrides", "field"), INVALID)
def test_invalid_operation_raises_value_error_naming_the_field(
    kind: type[Operation], overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOperationError) as caught:
        build(kind, **overrides)
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, ZohoError)
    assert error.field == field
    assert str(error).startswith(f"{field}: ")
    assert error.problem in str(error)
    assert error.index is None


EXTERNAL_INVALID: list[Any] = [
    # parent named by an external value: the related id must still be digits, and vice versa
    pytest.param(
        Link,
        {
            "module": "Contacts",
            "record_id": "extc3",
            "related_id": "extdeal3",
            "external": EXT_CONTACT,
        },
        "related_id",
        id="parent-external-only-related-must-be-digits",
    ),
    pytest.param(
        Link,
        {
            "module": "Contacts",
            "record_id": "extc3",
            "related_id": "extdeal3",
            "external": EXT_DEAL,
        },
        "record_id",
        id="related-external-only-parent-must-be-digits",
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "record_id": "", "external": EXT_CONTACT},
        "record_id",
        id="empty-external-value",
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "record_id": "x" * 256, "external": EXT_CONTACT},
        "record_id",
        id="external-value-over-255-characters",
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "record_id": "ext\n3", "external": EXT_CONTACT},
        "record_id",
        id="external-value-with-newline",
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "related_id": "ext\ud8003", "external": EXT_BOTH},
        "related_id",
        id="external-value-with-lone-surrogate",
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "related_id": 7, "external": EXT_BOTH},
        "related_id",
        id="external-value-int",
    ),
    pytest.param(
        Delink,
        {"module": "Contacts", "related_id": "extdeal3,extdeal4", "external": EXT_DEAL},
        "related_id",
        id="delink-external-value-with-comma",
    ),
    pytest.param(
        Link,
        {
            "module": "Contacts",
            "related_id": "extdeal3",
            "external": EXT_DEAL,
            "fields": {"External_Deal_ID": "extdeal9"},
        },
        "fields.External_Deal_ID",
        id="link-external-field-repeated-in-fields",
    ),
    pytest.param(
        UpdateRecord,
        {"record_id": "extlead1", "external": EXT_LEAD, "fields": {"External_Lead_ID": "x"}},
        "fields.External_Lead_ID",
        id="update-external-field-repeated-in-fields",
    ),
    pytest.param(
        UpdateRecord,
        {"record_id": "extlead1", "external": EXT_LEAD, "fields": {"id": RECORD}},
        "fields.id",
        id="update-external-with-id-in-fields",
    ),
]


@pytest.mark.parametrize(("kind", "overrides", "field"), EXTERNAL_INVALID)
def test_invalid_external_operation_raises_naming_the_field(
    kind: type[Operation], overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOperationError) as caught:
        build(kind, **overrides)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_million_character_module_name_is_refused_with_a_short_message() -> None:
    with pytest.raises(InvalidOperationError) as caught:
        Link("A" * 1_000_000, PARENT, "Contacts", RELATED)
    assert caught.value.field == "module"
    assert len(str(caught.value)) < 200
    assert "1000000 characters" in str(caught.value)


def test_invalid_fields_message_says_why() -> None:
    with pytest.raises(InvalidOperationError, match=r"^fields: not JSON-serialisable: .*set"):
        build(Link, fields={"Tags": {"a"}})
    with pytest.raises(InvalidOperationError, match="do not repeat it in fields"):
        build(Link, fields={"id": RELATED})


VALID: list[Any] = [
    pytest.param(Link, {}, id="link-plain"),
    pytest.param(Link, {"fields": {"Member_Status": "Active"}}, id="link-with-fields"),
    pytest.param(Link, {"fields": {}}, id="link-empty-fields"),
    pytest.param(Link, {"fields": None}, id="link-none-fields"),
    pytest.param(Link, {"record_id": "1", "related_id": "1234567890123456"}, id="short-ids"),
    pytest.param(Link, {"related_id": "12345678901234567"}, id="17-digit-eu-id"),
    pytest.param(Link, {"related_id": "1234567890123456789012345"}, id="25-digit-id"),
    pytest.param(Link, {"module": "A" * 100}, id="100-character-module"),
    pytest.param(
        Link, {"fields": {"Note": "Zo\u00eb \u2713", "N": None, "L": [1, 2.5, True]}}, id="json"
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "record_id": "ext/c 3?#%", "external": EXT_CONTACT},
        id="link-external-parent-only",
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "related_id": "extdeal3", "external": EXT_DEAL},
        id="link-external-related-only",
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "record_id": "extc3", "related_id": "extd3", "external": EXT_BOTH},
        id="link-external-both",
    ),
    pytest.param(
        Link,
        {
            "module": "Contacts",
            "record_id": "extc3",
            "related_id": "extd,3",
            "external": f"{EXT_CONTACT}, {EXT_DEAL}",
        },
        id="link-external-comma-in-value-and-space-in-header",
    ),
    pytest.param(
        Link,
        {"module": "Contacts", "related_id": "x" * 255, "external": EXT_DEAL},
        id="link-external-255-characters",
    ),
    pytest.param(
        Delink,
        {"module": "Contacts", "record_id": "extc3", "external": EXT_CONTACT},
        id="delink-external-parent-only",
    ),
    pytest.param(
        Delink,
        {"module": "Contacts", "related_id": "ext&d=3", "external": EXT_DEAL},
        id="delink-external-related-only",
    ),
    pytest.param(
        Delink,
        {"module": "Contacts", "record_id": "a,b", "external": EXT_CONTACT},
        id="delink-external-parent-with-comma",
    ),
    pytest.param(UpdateRecord, {"trigger": None}, id="update-trigger-omitted"),
    pytest.param(UpdateRecord, {"trigger": []}, id="update-trigger-empty"),
    pytest.param(UpdateRecord, {"trigger": ["workflow", "approval"]}, id="update-trigger-list"),
    pytest.param(UpdateRecord, {"trigger": ("blueprint",)}, id="update-trigger-tuple"),
    pytest.param(
        UpdateRecord,
        {"trigger": ["workflow", "approval", "blueprint", "pathfinder", "orchestration"]},
        id="update-trigger-every-value",
    ),
    pytest.param(UpdateRecord, {"apply_layout_rules": True}, id="update-layout-rules"),
    pytest.param(
        UpdateRecord,
        {"fields": {"Tags": ["a"], "$append_values": {"Tags": True}}},
        id="update-append-values",
    ),
    pytest.param(
        UpdateRecord,
        {"record_id": "ext lead/1", "external": EXT_LEAD},
        id="update-external-record",
    ),
]


@pytest.mark.parametrize(("kind", "overrides"), VALID)
def test_valid_operation_is_accepted_and_keeps_its_values(
    kind: type[Operation], overrides: dict[str, Any]
) -> None:
    op = build(kind, **overrides)
    for name, value in overrides.items():
        expected = tuple(value) if name == "trigger" and value is not None else value
        if name == "fields" and kind is Link and not value:
            expected = None  # {} sends the same as None: the same operation
        assert getattr(op, name) == expected


def test_unknown_trigger_is_named_in_the_error() -> None:
    # "workflows" would make Zoho run no automation at all, silently.
    with pytest.raises(InvalidOperationError, match=r"^trigger: unknown 'workflows'; expected"):
        build(UpdateRecord, trigger=["workflow", "workflows"])


def test_trigger_list_is_kept_as_a_tuple() -> None:
    op = build(UpdateRecord, trigger=["workflow"])
    assert isinstance(op, UpdateRecord)
    assert op.trigger == ("workflow",)


@pytest.mark.parametrize(
    ("header", "module", "parent", "related"),
    [
        (EXT_CONTACT, "Contacts", "External_Contact_ID", None),
        (EXT_DEAL, "Contacts", None, "External_Deal_ID"),
        (EXT_BOTH, "Contacts", "External_Contact_ID", "External_Deal_ID"),
        (f"{EXT_DEAL},{EXT_CONTACT}", "Contacts", "External_Contact_ID", "External_Deal_ID"),
        (f" {EXT_CONTACT} , {EXT_DEAL} ", "Contacts", "External_Contact_ID", "External_Deal_ID"),
        (EXT_BOTH, "Deals", "External_Deal_ID", "External_Contact_ID"),
    ],
)
def test_parse_external_tells_the_parent_field_from_the_related_field(
    header: str, module: str, parent: str | None, related: str | None
) -> None:
    ext = parse_external(header, module)
    assert (ext.header, ext.parent_field, ext.related_field) == (header, parent, related)


EQUAL_PAIRS: list[Any] = [
    pytest.param(lambda: build(Link), id="link"),
    pytest.param(lambda: build(Link, fields={"Member_Status": "Active"}), id="link-fields"),
    pytest.param(lambda: build(Delink), id="delink"),
    pytest.param(lambda: build(UpdateRecord, trigger=["workflow"]), id="update"),
    pytest.param(
        lambda: build(Link, module="Contacts", related_id="e1", external=EXT_DEAL), id="external"
    ),
]


@pytest.mark.parametrize("make", EQUAL_PAIRS)
def test_operations_are_hashable_and_equal_by_value(make: Any) -> None:
    first, second = make(), make()
    assert first is not second
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


def test_update_trigger_given_as_list_or_tuple_is_the_same_operation() -> None:
    a = build(UpdateRecord, trigger=["workflow", "approval"])
    b = build(UpdateRecord, trigger=("workflow", "approval"))
    assert a == b
    assert hash(a) == hash(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(build(Link), build(Delink), id="link-vs-delink"),
        pytest.param(build(Link), build(Link, related_id="1"), id="other-related-id"),
        pytest.param(build(Link), build(Link, fields={"A": 1}), id="fields-vs-none"),
        pytest.param(build(Link, fields={"A": 1}), build(Link, fields={"A": 2}), id="fields"),
        pytest.param(build(UpdateRecord), build(UpdateRecord, trigger=[]), id="trigger"),
        pytest.param(
            build(UpdateRecord), build(UpdateRecord, apply_layout_rules=True), id="layout-rules"
        ),
    ],
)
def test_operations_that_differ_are_not_equal(a: Operation, b: Operation) -> None:
    assert a != b


def test_operations_are_frozen() -> None:
    op = Link("Campaigns", PARENT, "Contacts", RELATED)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        op.related_id = "1"  # type: ignore[misc]


def test_error_at_names_the_operation_position() -> None:
    with pytest.raises(InvalidOperationError) as caught:
        build(Link, related_id="x")
    located = caught.value.at(7)
    assert located.index == 7
    assert located.field == "related_id"
    assert located.problem == caught.value.problem
    assert str(located) == f"operation 7: {caught.value}"


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_an_operation_copies_its_fields_so_a_reused_dict_changes_nothing(nested: bool) -> None:
    # Before: the first Link sent "Active" but showed (and compared equal to) "Invited".
    fields: dict[str, Any] = {"Member_Status": "Active"}
    if nested:
        fields["Tags"] = [{"name": "a"}]
    first = Link("Campaigns", "1", "Leads", "10", fields)
    update = UpdateRecord("Leads", "10", fields)
    fields["Member_Status"] = "Invited"
    if nested:
        fields["Tags"][0]["name"] = "b"
    second = Link("Campaigns", "1", "Leads", "10", fields)
    for op in (first, update):
        assert op.fields is not None
        assert op.fields["Member_Status"] == "Active"
        assert json.loads(op._fields_json or b"{}") == op.fields  # shows what it sends
    if nested:
        assert first.fields is not None
        assert first.fields["Tags"] == [{"name": "a"}]
    assert first != second


@pytest.mark.parametrize("make", EQUAL_PAIRS)
def test_operations_survive_pickle_and_copy_and_match_by_field(make: Any) -> None:
    import copy
    import pickle

    op = make()
    for again in (pickle.loads(pickle.dumps(op)), copy.copy(op), copy.deepcopy(op)):
        assert again == op
        assert type(again) is type(op)
    match op:
        case Link(module, record_id):
            assert (module, record_id) == (op.module, op.record_id)
        case Delink(module, record_id) | UpdateRecord(module, record_id):
            assert (module, record_id) == (op.module, op.record_id)


def test_repr_names_every_public_field_and_no_private_one() -> None:
    op = Link("Campaigns", "1", "Leads", "2", {"Member_Status": "Active"})
    assert repr(op) == (
        "Link(module='Campaigns', record_id='1', related_list='Leads', related_id='2', "
        "fields={'Member_Status': 'Active'}, external=None)"
    )


@pytest.mark.parametrize("value", [True, 1, 1.0, "1", None, 0, False, -0.0, 0.0])
def test_equal_looking_field_values_are_encoded_as_themselves(value: Any) -> None:
    # The encoding cache is keyed by content; True == 1 == 1.0 in Python, not in JSON.
    for other in (True, 1, 1.0, "1", None, 0, False, -0.0, 0.0):
        Link("Campaigns", "1", "Leads", "2", {"A": other})  # fill the cache with lookalikes
    op = Link("Campaigns", "1", "Leads", "2", {"A": value})
    assert op._fields_json == json.dumps({"A": value}, separators=(",", ":")).encode()
    assert op.fields is not None
    assert type(op.fields["A"]) is type(value)


@pytest.mark.parametrize("kind", [Link, Delink])
def test_a_bad_id_after_good_operations_of_the_same_parent_still_raises(kind: Any) -> None:
    # A parent's module, list and id are checked once and remembered: what comes after them
    # is checked all the same.
    kind("Campaigns", "1", "Leads", "2")
    with pytest.raises(InvalidOperationError, match="related_id"):
        kind("Campaigns", "1", "Leads", "2x")
    with pytest.raises(InvalidOperationError, match="related_list"):
        kind("Campaigns", "1", "Lea ds", "2")
    with pytest.raises(InvalidOperationError, match="record_id"):
        kind("Campaigns", "1 ", "Leads", "2")
    assert kind("Campaigns", "1", "Leads", "3").related_id == "3"


def test_a_constant_fields_dict_changed_in_place_is_encoded_anew() -> None:
    fields: dict[str, Any] = {"Member_Status": "Active"}
    first = Link("Campaigns", "1", "Leads", "2", fields)
    fields["Member_Status"] = "Invited"  # the same dict object, another value
    second = Link("Campaigns", "1", "Leads", "3", fields)
    fields["Member_Status"] = True
    third = Link("Campaigns", "1", "Leads", "4", fields)
    assert first._fields_json == b'{"Member_Status":"Active"}'
    assert second._fields_json == b'{"Member_Status":"Invited"}'
    assert third._fields_json == b'{"Member_Status":true}'
    assert [op.fields for op in (first, second, third)] == [
        {"Member_Status": "Active"},
        {"Member_Status": "Invited"},
        {"Member_Status": True},
    ]
