"""Hostile input: whatever a caller hands over, the answer is a clear InvalidOperationError
naming the operation and the field, raised before a single request (token refresh included)
reaches the server; and values that are allowed reach Zoho literally, never as URL syntax."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from tests.conftest import ClientFactory
from zcrm_related_async import (
    AsyncClient,
    Delink,
    InvalidOperationError,
    Link,
    RefreshTokenAuth,
    UpdateRecord,
)
from zcrm_related_async.testing import FakeZoho

EXT_DEAL = "Deals.External_Deal_ID"
EXT_CONTACT = "Contacts.External_Contact_ID"
EXT_LEAD = "Leads.External_Lead_ID"


class HidesKeys(dict[Any, Any]):
    """A dict whose iteration hides its non-str keys (``items()`` still has them)."""

    def __iter__(self) -> Any:
        return (key for key in super().__iter__() if isinstance(key, str))


class NeverEqual(str):
    """A str that compares unequal to everything, itself included: ``"id"`` in disguise."""

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


def circular() -> dict[str, Any]:
    loop: dict[str, Any] = {"Name": "x"}
    loop["Self"] = loop
    return loop


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


DEFAULTS: dict[type, dict[str, Any]] = {
    Link: {
        "module": "Campaigns",
        "record_id": "1001",
        "related_list": "Leads",
        "related_id": "2001",
    },
    Delink: {
        "module": "Campaigns",
        "record_id": "1001",
        "related_list": "Leads",
        "related_id": "2001",
    },
    UpdateRecord: {"module": "Leads", "record_id": "3001", "fields": {"Rating": "Hot"}},
}

# (operation, what is wrong with it, the field named). Through the client's methods, a value
# that every item shares (module, parent, header, trigger ...) is reported at operation 0 and
# an item's own value (its id, its fields) at its position.
BAD: list[Any] = [
    pytest.param(Link, {"module": 5}, "module", id="module-int"),
    pytest.param(Link, {"module": None}, "module", id="module-none"),
    pytest.param(Link, {"module": ""}, "module", id="module-empty"),
    pytest.param(Link, {"module": "C" * 1_000_000}, "module", id="module-million-characters"),
    pytest.param(Delink, {"module": "Leads/../Deals"}, "module", id="module-slashes-and-dots"),
    pytest.param(Link, {"module": b"Campaigns"}, "module", id="module-bytes"),
    pytest.param(Link, {"module": "Camp\ud800aigns"}, "module", id="module-lone-surrogate"),
    pytest.param(Link, {"related_list": "Leads?x=1"}, "related_list", id="list-query-chars"),
    pytest.param(Delink, {"related_list": "Leads%2F1"}, "related_list", id="list-percent"),
    pytest.param(Link, {"record_id": "12a"}, "record_id", id="id-not-digits"),
    pytest.param(Link, {"record_id": ""}, "record_id", id="id-empty"),
    pytest.param(Link, {"record_id": "1" * 100_000}, "record_id", id="id-huge"),
    pytest.param(Delink, {"record_id": "1,2"}, "record_id", id="id-comma"),
    pytest.param(Link, {"record_id": "1/2"}, "record_id", id="id-slash"),
    pytest.param(Delink, {"record_id": "1?ids=2"}, "record_id", id="id-query-chars"),
    pytest.param(Link, {"record_id": "1#x"}, "record_id", id="id-fragment"),
    pytest.param(Link, {"record_id": None}, "record_id", id="id-none"),
    pytest.param(Link, {"record_id": 1001}, "record_id", id="id-int"),
    pytest.param(Delink, {"record_id": True}, "record_id", id="id-bool"),
    pytest.param(Link, {"record_id": b"1001"}, "record_id", id="id-bytes"),
    pytest.param(Link, {"record_id": 1001.0}, "record_id", id="id-float"),
    pytest.param(Link, {"record_id": "\u0661\u0662"}, "record_id", id="id-arabic-indic-digits"),
    pytest.param(Link, {"record_id": "1001\n"}, "record_id", id="id-trailing-newline"),
    pytest.param(Link, {"record_id": "10\udcff01"}, "record_id", id="id-not-utf8"),
    pytest.param(Link, {"related_id": {"id": "1"}}, "related_id", id="related-id-dict"),
    pytest.param(Delink, {"related_id": 2001}, "related_id", id="related-id-int"),
    pytest.param(
        Delink, {"related_id": "..", "external": EXT_CONTACT}, "related_id", id="external-dotdot"
    ),
    pytest.param(
        Link,
        {"module": "Deals", "record_id": ".", "external": EXT_DEAL},
        "record_id",
        id="external-dot",
    ),
    pytest.param(
        Link, {"related_id": "x" * 256, "external": EXT_CONTACT}, "related_id", id="external-long"
    ),
    pytest.param(
        Link, {"related_id": "a\x00b", "external": EXT_CONTACT}, "related_id", id="external-nul"
    ),
    pytest.param(
        Delink, {"related_id": "a,b", "external": EXT_CONTACT}, "related_id", id="external-comma"
    ),
    pytest.param(
        Link,
        {"related_id": "a\udcffb", "external": EXT_CONTACT},
        "related_id",
        id="external-not-utf8",
    ),
    pytest.param(Link, {"external": "Contacts"}, "external", id="header-malformed"),
    pytest.param(Link, {"external": "Contacts.X\r\nEvil: 1"}, "external", id="header-crlf"),
    pytest.param(Delink, {"external": 7}, "external", id="header-int"),
    pytest.param(UpdateRecord, {"external": "Contacts.X"}, "external", id="header-other-module"),
    pytest.param(Link, {"fields": {1: "x"}}, "fields", id="fields-int-key"),
    pytest.param(Link, {"fields": {"": 1}}, "fields", id="fields-empty-key"),
    pytest.param(Link, {"fields": {"Rating": math.nan}}, "fields", id="fields-nan"),
    pytest.param(Link, {"fields": {"Rating": -math.inf}}, "fields", id="fields-inf"),
    pytest.param(Link, {"fields": {"Tags": {"a"}}}, "fields", id="fields-set"),
    pytest.param(Link, {"fields": {"Note": b"\xff\xfe"}}, "fields", id="fields-bytes"),
    pytest.param(Link, {"fields": {"Note": object()}}, "fields", id="fields-object"),
    pytest.param(Link, {"fields": {"Note": "\ud83d"}}, "fields", id="fields-lone-surrogate"),
    pytest.param(Link, {"fields": circular()}, "fields", id="fields-circular"),
    pytest.param(Link, {"fields": {"Deep": nested(10_000)}}, "fields", id="fields-nested-deep"),
    pytest.param(
        Link, {"fields": {"Owner": {1: "a", "1": "b"}}}, "fields", id="fields-nested-int-keys"
    ),
    pytest.param(
        Link, {"fields": {"Owner": [{"id": {None: 1}}]}}, "fields", id="fields-nested-garbage"
    ),
    pytest.param(
        Link, {"fields": HidesKeys({"Rating": 1, 2: "x"})}, "fields", id="fields-hidden-key"
    ),
    pytest.param(Link, {"fields": {NeverEqual("id"): "9"}}, "fields.id", id="fields-disguised-id"),
    pytest.param(UpdateRecord, {"fields": {}}, "fields", id="update-no-fields"),
    pytest.param(UpdateRecord, {"record_id": "3001x"}, "record_id", id="update-id-not-digits"),
    pytest.param(UpdateRecord, {"trigger": "workflow"}, "trigger", id="trigger-str"),
    pytest.param(UpdateRecord, {"trigger": [1]}, "trigger", id="trigger-int-item"),
    pytest.param(UpdateRecord, {"trigger": ["work flow"]}, "trigger", id="trigger-bad-name"),
    pytest.param(UpdateRecord, {"trigger": ["workflows"]}, "trigger", id="trigger-typo"),
    pytest.param(UpdateRecord, {"apply_layout_rules": "yes"}, "apply_layout_rules", id="layout"),
]
#: The fields each client method passes to every operation it makes.
SHARED = {"module", "related_list", "external", "trigger", "apply_layout_rules"}


@pytest.fixture
def zoho(fake_zoho: FakeZoho, make_client: ClientFactory) -> AsyncClient:
    # A refresh-token client: even a token request would be a request too many.
    auth = RefreshTokenAuth(
        fake_zoho.client_id, fake_zoho.client_secret, fake_zoho.refresh_token, fake_zoho.url
    )
    return make_client(auth=auth)


def assert_clear(error: InvalidOperationError, field: str, index: int | None) -> None:
    assert (error.field, error.index) == (field, index)
    where = "" if index is None else f"operation {index}: "
    assert str(error).startswith(f"{where}{field}: ")
    assert error.problem
    assert len(str(error)) < 300  # a million-character value is clipped, not echoed
    assert isinstance(error, ValueError)


def assert_nothing_sent(fake: FakeZoho) -> None:
    assert fake.stats.requests == 0
    assert fake.stats.refresh_requests == 0


@pytest.mark.parametrize(("kind", "bad", "field"), BAD)
def test_a_bad_operation_refuses_to_be_made(kind: type, bad: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidOperationError) as caught:
        kind(**{**DEFAULTS[kind], **bad})
    assert_clear(caught.value, field, None)


def through_client(zoho: AsyncClient, kind: type, bad: dict[str, Any]) -> Awaitable[object]:
    """The client method that makes ``kind``, with two good items before the bad one."""
    args = {**DEFAULTS[kind], **bad}
    external = args.get("external")
    if kind is UpdateRecord:
        key = "External_Lead_ID" if external == EXT_LEAD else "id"
        records = [{"id": "3002", "Rating": "A"}, {"id": "3003", "Rating": "B"}]
        records.append({key: args["record_id"], **args["fields"]})
        return zoho.update_records(
            args["module"],
            records,
            trigger=args.get("trigger"),
            apply_layout_rules=args.get("apply_layout_rules", False),
            external=external,
        )
    key = "External_Contact_ID" if external == EXT_CONTACT else "id"
    fields = args.get("fields") or {}
    item = type(fields)(fields)  # the same odd mapping, holding the id too
    dict.__setitem__(item, key, args["related_id"])
    method = zoho.link if kind is Link else zoho.delink
    items = ["2002", {key: "2003"}, item] if key == "id" else ["a2002", "a2003", item]
    return method(args["module"], args["record_id"], args["related_list"], items, external=external)


def client_index(kind: type, bad: dict[str, Any], field: str) -> int | None:
    """Where the client reports the bad value: a malformed header before any operation is
    made (no index); a value every operation shares from the first one on; an item's own
    value at its own position (2)."""
    if field == "external" and isinstance(bad["external"], str) and kind is not UpdateRecord:
        return None
    shared = SHARED if kind is UpdateRecord else SHARED | {"record_id"}
    return 0 if set(bad) <= shared else 2


@pytest.mark.parametrize(("kind", "bad", "field"), BAD)
async def test_a_bad_item_through_the_client_names_its_position_and_sends_nothing(
    fake_zoho: FakeZoho, zoho: AsyncClient, kind: type, bad: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOperationError) as caught:
        await through_client(zoho, kind, bad)
    assert_clear(caught.value, field, client_index(kind, bad, field))
    assert_nothing_sent(fake_zoho)


class PoseAsLink(Link):
    """A subclass: not one of the three operations the batcher knows."""


NOT_OPERATIONS: list[Any] = [
    pytest.param({"op": "link", "module": "Campaigns"}, id="dict"),
    pytest.param(None, id="none"),
    pytest.param("link Campaigns 1001 Leads 2001", id="str"),
    pytest.param(b"\xff\xfe", id="bytes-not-utf8"),
    pytest.param(("Campaigns", "1001", "Leads", "2001"), id="tuple-of-arguments"),
    pytest.param(Link, id="the-class-itself"),
    pytest.param(42, id="int"),
    pytest.param(PoseAsLink("Campaigns", "1001", "Leads", "2009"), id="subclass-of-link"),
]


@pytest.mark.parametrize("item", NOT_OPERATIONS)
async def test_run_refuses_what_is_not_an_operation_before_sending_anything(
    fake_zoho: FakeZoho, zoho: AsyncClient, item: object
) -> None:
    good = [Link("Campaigns", "1001", "Leads", str(2000 + i)) for i in range(150)]
    with pytest.raises(InvalidOperationError) as caught:
        await zoho.run([*good, item, *good])  # type: ignore[list-item]
    assert_clear(caught.value, "op", 150)
    assert_nothing_sent(fake_zoho)


async def test_a_stream_whose_first_item_is_bad_sends_nothing(
    fake_zoho: FakeZoho, zoho: AsyncClient
) -> None:
    async def ops() -> AsyncIterator[object]:
        yield {"op": "delink"}
        yield Link("Campaigns", "1001", "Leads", "2001")

    with pytest.raises(InvalidOperationError) as caught:
        await zoho.run(ops())  # type: ignore[arg-type]
    assert_clear(caught.value, "op", 0)
    assert_nothing_sent(fake_zoho)


CALLS: list[Any] = [
    pytest.param(lambda z: z.run(None), "ops", id="run-none"),
    pytest.param(lambda z: z.run(5), "ops", id="run-int"),
    pytest.param(lambda z: z.link("Campaigns", "1001", "Leads", None), "items", id="link-none"),
    pytest.param(lambda z: z.delink("Campaigns", "1001", "Leads", 5), "items", id="delink-int"),
    pytest.param(lambda z: z.link("Campaigns", "1001", "Leads", "2001"), "items", id="link-str"),
    pytest.param(lambda z: z.update_records("Leads", None), "items", id="update-none"),
    pytest.param(
        lambda z: z.update_records("Leads", {"id": "1", "Rating": "x"}), "items", id="update-dict"
    ),
]


@pytest.mark.parametrize(("call", "field"), CALLS)
async def test_a_job_that_is_not_a_collection_of_items_is_refused(
    fake_zoho: FakeZoho,
    zoho: AsyncClient,
    call: Callable[[AsyncClient], Awaitable[object]],
    field: str,
) -> None:
    with pytest.raises(InvalidOperationError) as caught:
        await call(zoho)
    assert caught.value.field == field
    assert_nothing_sent(fake_zoho)


ITEMS: list[Any] = [
    pytest.param(lambda z: z.link("Campaigns", "1", "Leads", ["2", 3]), "item", 1, id="int"),
    pytest.param(
        lambda z: z.link("Campaigns", "1", "Leads", ["2", {"Member_Status": "x"}]),
        "id",
        1,
        id="no-id",
    ),
    pytest.param(lambda z: z.delink("Campaigns", "1", "Leads", ["2", None]), "item", 1, id="none"),
    pytest.param(
        lambda z: z.update_records("Leads", [{"id": "1", "A": 1}, "2"]), "item", 1, id="str"
    ),
    pytest.param(
        lambda z: z.update_records("Leads", [{"id": "1", "A": 1}, {"id": "2"}]),
        "fields",
        1,
        id="update-without-fields",
    ),
]


@pytest.mark.parametrize(("call", "field", "index"), ITEMS)
async def test_an_item_that_is_no_id_or_record_names_its_position(
    fake_zoho: FakeZoho,
    zoho: AsyncClient,
    call: Callable[[AsyncClient], Awaitable[object]],
    field: str,
    index: int,
) -> None:
    with pytest.raises(InvalidOperationError) as caught:
        await call(zoho)
    assert_clear(caught.value, field, index)
    assert_nothing_sent(fake_zoho)


# Values that mean something in a URL: a path separator, a query, a fragment, an escape, a
# space, a parent directory inside a value, a form-encoded space, a parameter separator.
AWKWARD = ["a/b", "why?ids=1", "#top", "100%", "%2F", "two words", "x/../y", "..y", "a+b", "p&q=r"]


async def test_external_values_reach_the_server_as_the_same_literal_values(
    fake_zoho: FakeZoho, make_client: ClientFactory
) -> None:
    fake = fake_zoho
    for n, value in enumerate(AWKWARD):
        fake.add_external("Deals", "External_Deal_ID", value, str(100 + n))
        fake.add_external("Contacts", "External_Contact_ID", value, str(200 + n))
        fake.add_external("Leads", "External_Lead_ID", value, str(300 + n))
    zoho = make_client()
    # the parent in the URL path; the related records alone (in the path) and many (in the body)
    both = f"{EXT_DEAL},{EXT_CONTACT}"
    ops: list[Any] = [Link("Deals", value, "Contacts", value, external=both) for value in AWKWARD]
    ops += [Link("Deals", "900", "Contacts", v, {"Role": v}, EXT_CONTACT) for v in AWKWARD]
    report = await zoho.run(ops)
    assert report.failed == 0, report.failures()
    for n in range(len(AWKWARD)):
        assert fake.relations("Deals", str(100 + n), "Contacts") == {str(200 + n): {}}
    assert fake.relations("Deals", "900", "Contacts") == {
        str(200 + n): {"Role": value} for n, value in enumerate(AWKWARD)
    }
    # the server split each path into the segments the client meant, value by value
    lone = [r for r in fake.requests if r.method == "PUT" and r.path.count("/") > 5]
    assert sorted(r.path for r in lone) == sorted(
        f"/crm/v8/Deals/{value}/Contacts/{value}" for value in AWKWARD
    )

    # delinks: many in the ids query, then one in the path
    fake.requests.clear()
    report = await zoho.delink("Deals", "900", "Contacts", AWKWARD, external=EXT_CONTACT)
    assert report.failed == 0, report.failures()
    assert fake.relations("Deals", "900", "Contacts") == {}
    assert [r.query for r in fake.requests] == [{"ids": ",".join(AWKWARD)}]
    report = await zoho.delink("Deals", AWKWARD[0], "Contacts", [AWKWARD[0]], external=both)
    assert report.failed == 0
    assert fake.relations("Deals", "100", "Contacts") == {}

    # record updates named by external values, and fields that look like URLs
    report = await zoho.update_records(
        "Leads", [{"External_Lead_ID": v, "Website": v} for v in AWKWARD], external=EXT_LEAD
    )
    assert report.failed == 0
    for n, value in enumerate(AWKWARD):
        assert fake.record("Leads", str(300 + n)) == {"Website": value}
    # and the answers echo each value back to its own operation
    assert [r.details["External_Lead_ID"] for r in report.results] == AWKWARD


@pytest.mark.parametrize("value", [".", ".."])
async def test_a_dot_segment_never_reaches_a_url(
    fake_zoho: FakeZoho, zoho: AsyncClient, value: str
) -> None:
    # ".../Contacts/.." would, once normalised by any proxy, be a DELETE of the parent record.
    with pytest.raises(InvalidOperationError, match="cannot name a record in a URL"):
        await zoho.delink("Deals", "1", "Contacts", [value], external=EXT_CONTACT)
    with pytest.raises(InvalidOperationError, match="cannot name a record in a URL"):
        await zoho.link("Deals", value, "Contacts", ["2"], external=EXT_DEAL)
    assert_nothing_sent(fake_zoho)
