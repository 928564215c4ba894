"""``build_request``: the exact method, path and body bytes of every call Zoho accepts."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest

from tests.unit.builders import (
    EXT_BOTH,
    EXT_CONTACT,
    EXT_DEAL,
    PARENT,
    batch,
    build,
    links,
    one_chunk,
    rid,
)
from zcrm_related_async import Delink, Link, UpdateRecord
from zcrm_related_async._ops import Operation
from zcrm_related_async._wire import Request, build_request

R1, R2, R3 = rid(1), rid(2), rid(3)
BASE = f"/crm/v8/Campaigns/{PARENT}/Contacts"
EXT_LEAD = "Leads.External_Lead_ID"

CASES: list[Any] = [
    pytest.param(
        [Link("Campaigns", PARENT, "Contacts", R1), Link("Campaigns", PARENT, "Contacts", R2)],
        Request("PUT", BASE, f'{{"data":[{{"id":"{R1}"}},{{"id":"{R2}"}}]}}'.encode(), None),
        id="bulk-link-without-fields",
    ),
    pytest.param(
        [
            Link("Campaigns", PARENT, "Contacts", R1, fields={"Member_Status": "Active"}),
            Link("Campaigns", PARENT, "Contacts", R2),
            Link("Campaigns", PARENT, "Contacts", R3, fields={"Member_Status": "Planning"}),
        ],
        Request(
            "PUT",
            BASE,
            (
                f'{{"data":[{{"id":"{R1}","Member_Status":"Active"}},{{"id":"{R2}"}},'
                f'{{"id":"{R3}","Member_Status":"Planning"}}]}}'
            ).encode(),
            None,
        ),
        id="bulk-link-with-fields",
    ),
    pytest.param(
        [Link("Campaigns", PARENT, "Contacts", R1, fields={"Member_Status": "Active"})],
        Request("PUT", f"{BASE}/{R1}", b'{"data":[{"Member_Status":"Active"}]}', None),
        id="single-link-with-fields",
    ),
    pytest.param(
        [Link("Campaigns", PARENT, "Contacts", R1)],
        Request("PUT", f"{BASE}/{R1}", b'{"data":[{}]}', None),
        id="single-link-without-fields",
    ),
    pytest.param(
        [Delink("Campaigns", PARENT, "Contacts", r) for r in (R1, R2, R3)],
        Request("DELETE", f"{BASE}?ids={R1},{R2},{R3}", None, None),
        id="bulk-delink",
    ),
    pytest.param(
        [Delink("Campaigns", PARENT, "Contacts", R1)],
        Request("DELETE", f"{BASE}/{R1}", None, None),
        id="single-delink",
    ),
    pytest.param(
        [UpdateRecord("Leads", R1, {"Phone": "1"}), UpdateRecord("Leads", R2, {"Phone": "2"})],
        Request(
            "PUT",
            "/crm/v8/Leads",
            f'{{"data":[{{"id":"{R1}","Phone":"1"}},{{"id":"{R2}","Phone":"2"}}]}}'.encode(),
            None,
        ),
        id="update-trigger-omitted",
    ),
    pytest.param(
        [UpdateRecord("Leads", R1, {"Phone": "1"})],
        Request("PUT", "/crm/v8/Leads", f'{{"data":[{{"id":"{R1}","Phone":"1"}}]}}'.encode(), None),
        id="update-one-record-uses-the-bulk-endpoint",
    ),
    pytest.param(
        [UpdateRecord("Leads", R1, {"Phone": "1"}, trigger=[])],
        Request(
            "PUT",
            "/crm/v8/Leads",
            f'{{"data":[{{"id":"{R1}","Phone":"1"}}],"trigger":[]}}'.encode(),
            None,
        ),
        id="update-trigger-empty",
    ),
    pytest.param(
        [UpdateRecord("Leads", R1, {"Phone": "1"}, trigger=["workflow"])],
        Request(
            "PUT",
            "/crm/v8/Leads",
            f'{{"data":[{{"id":"{R1}","Phone":"1"}}],"trigger":["workflow"]}}'.encode(),
            None,
        ),
        id="update-trigger-workflow",
    ),
    pytest.param(
        [UpdateRecord("Leads", R1, {"Phone": "1"}, trigger=["workflow"], apply_layout_rules=True)],
        Request(
            "PUT",
            "/crm/v8/Leads",
            (
                f'{{"data":[{{"id":"{R1}","Phone":"1"}}],"trigger":["workflow"],'
                '"apply_feature_execution":[{"name":"layout_rules"}]}'
            ).encode(),
            None,
        ),
        id="update-apply-feature-execution",
    ),
    pytest.param(
        [UpdateRecord("Leads", R1, {"Tags": ["VIP"], "$append_values": {"Tags": True}})],
        Request(
            "PUT",
            "/crm/v8/Leads",
            f'{{"data":[{{"id":"{R1}","Tags":["VIP"],"$append_values":{{"Tags":true}}}}]}}'.encode(),
            None,
        ),
        id="update-append-values",
    ),
    pytest.param(
        [UpdateRecord("Leads", "extlead/1", {"Phone": "1"}, external=EXT_LEAD)],
        Request(
            "PUT",
            "/crm/v8/Leads",
            b'{"data":[{"External_Lead_ID":"extlead/1","Phone":"1"}]}',
            EXT_LEAD,
        ),
        id="update-by-external-value",
    ),
    pytest.param(
        [
            Link("Contacts", "extcontact3", "Deals", "extdeal3", {"Contact_Role": "1"}, EXT_BOTH),
            Link("Contacts", "extcontact3", "Deals", "extdeal4", None, EXT_BOTH),
        ],
        Request(
            "PUT",
            "/crm/v8/Contacts/extcontact3/Deals",
            b'{"data":[{"External_Deal_ID":"extdeal3","Contact_Role":"1"},'
            b'{"External_Deal_ID":"extdeal4"}]}',
            EXT_BOTH,
        ),
        id="bulk-link-external-both",
    ),
    pytest.param(
        [
            Link("Contacts", "extcontact3", "Deals", R1, None, EXT_CONTACT),
            Link("Contacts", "extcontact3", "Deals", R2, None, EXT_CONTACT),
        ],
        Request(
            "PUT",
            "/crm/v8/Contacts/extcontact3/Deals",
            f'{{"data":[{{"id":"{R1}"}},{{"id":"{R2}"}}]}}'.encode(),
            EXT_CONTACT,
        ),
        id="bulk-link-external-parent-only",
    ),
    pytest.param(
        [
            Link("Contacts", PARENT, "Deals", "extdeal3", None, EXT_DEAL),
            Link("Contacts", PARENT, "Deals", "extdeal4", None, EXT_DEAL),
        ],
        Request(
            "PUT",
            f"/crm/v8/Contacts/{PARENT}/Deals",
            b'{"data":[{"External_Deal_ID":"extdeal3"},{"External_Deal_ID":"extdeal4"}]}',
            EXT_DEAL,
        ),
        id="bulk-link-external-related-only",
    ),
    pytest.param(
        [Link("Contacts", "a/b?c#d e%f", "Deals", R1, None, EXT_CONTACT)],
        Request(
            "PUT",
            f"/crm/v8/Contacts/a%2Fb%3Fc%23d%20e%25f/Deals/{R1}",
            b'{"data":[{}]}',
            EXT_CONTACT,
        ),
        id="single-link-external-parent-escaped",
    ),
    pytest.param(
        [Link("Contacts", PARENT, "Deals", "deal/3 #1", None, EXT_DEAL)],
        Request(
            "PUT", f"/crm/v8/Contacts/{PARENT}/Deals/deal%2F3%20%231", b'{"data":[{}]}', EXT_DEAL
        ),
        id="single-link-external-related-escaped",
    ),
    pytest.param(
        [
            Delink("Contacts", "c,1", "Deals", "a&b", EXT_BOTH),
            Delink("Contacts", "c,1", "Deals", "c=d", EXT_BOTH),
            Delink("Contacts", "c,1", "Deals", "e f?", EXT_BOTH),
        ],
        Request("DELETE", "/crm/v8/Contacts/c%2C1/Deals?ids=a%26b,c%3Dd,e%20f%3F", None, EXT_BOTH),
        id="bulk-delink-external-escaped",
    ),
    pytest.param(
        [Delink("Contacts", "ext%2F", "Deals", R1, EXT_CONTACT)],
        Request("DELETE", f"/crm/v8/Contacts/ext%252F/Deals/{R1}", None, EXT_CONTACT),
        id="single-delink-external-percent-escaped-once-more",
    ),
]


@pytest.mark.parametrize(("ops", "expected"), CASES)
def test_build_request_exact_method_path_and_body(ops: list[Operation], expected: Request) -> None:
    request = build_request("v8", one_chunk(ops))
    assert request == expected
    if request.body is not None:
        json.loads(request.body)  # valid JSON, or this raises


def test_bulk_body_decodes_to_what_zoho_documents() -> None:
    ops = [
        Link("Campaigns", PARENT, "Contacts", "3652397000000327001", {"Member_Status": "Active"}),
        Link("Campaigns", PARENT, "Contacts", "3652397000001854001", {"Member_Status": "Planning"}),
    ]
    request = build_request("v7", one_chunk(ops))
    assert request.body is not None
    assert json.loads(request.body) == {
        "data": [
            {"id": "3652397000000327001", "Member_Status": "Active"},
            {"id": "3652397000001854001", "Member_Status": "Planning"},
        ]
    }


def test_external_link_body_matches_zoho_sample() -> None:
    op = Link(
        "Contacts",
        "extcontact3",
        "Deals",
        "extdeal3",
        {"Contact_Role": "111111000000026002"},
        EXT_BOTH,
    )
    other = Link("Contacts", "extcontact3", "Deals", "extdeal4", None, EXT_BOTH)
    request = build_request("v5", one_chunk([op, other]))
    assert request.path == "/crm/v5/Contacts/extcontact3/Deals"
    assert request.external == "Contacts.External_Contact_ID,Deals.External_Deal_ID"
    assert request.body is not None
    assert json.loads(request.body)["data"][0] == {
        "External_Deal_ID": "extdeal3",
        "Contact_Role": "111111000000026002",
    }


def test_trigger_is_never_defaulted_to_empty() -> None:
    request = build_request("v8", one_chunk([build(UpdateRecord)]))
    assert request.body is not None
    assert "trigger" not in json.loads(request.body)
    assert "apply_feature_execution" not in json.loads(request.body)


@pytest.mark.parametrize("version", ["v2", "v2.1", "v3", "v7", "v8"])
def test_version_goes_into_the_path(version: str) -> None:
    assert build_request(version, one_chunk([build(Delink)])).path.startswith(f"/crm/{version}/")
    assert build_request(version, one_chunk([build(UpdateRecord)])).path == f"/crm/{version}/Leads"


@pytest.mark.parametrize(
    "value",
    ["Zo\u00eb \u2713", 'quote " and \\ backslash', "line\nbreak", "\U0001f600", "</script>"],
)
def test_body_with_awkward_field_values_is_valid_utf8_json(value: str) -> None:
    ops = [build(Link, fields={"Note": value}), build(Link, related_id=rid(7))]
    request = build_request("v8", one_chunk(ops))
    assert request.body is not None
    assert json.loads(request.body.decode("utf-8"))["data"][0]["Note"] == value


def test_external_values_in_the_body_are_json_escaped() -> None:
    ops = [
        Link("Contacts", PARENT, "Deals", 'ext"deal\\3', None, EXT_DEAL),
        Link("Contacts", PARENT, "Deals", "ext,deal4", None, EXT_DEAL),
    ]
    request = build_request("v8", one_chunk(ops))
    assert request.body is not None
    assert json.loads(request.body) == {
        "data": [{"External_Deal_ID": 'ext"deal\\3'}, {"External_Deal_ID": "ext,deal4"}]
    }


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 199, 200, 201])
@pytest.mark.parametrize("kind", [Link, Delink])
def test_every_id_reaches_a_request_at_chunk_boundaries(count: int, kind: type[Operation]) -> None:
    ops = [build(kind, related_id=rid(n)) for n in range(count)]
    sent: list[str] = []
    for chunk in batch(ops):
        request = build_request("v8", chunk)
        path, _, query = request.path.partition("?ids=")
        if query:
            sent.extend(unquote(i) for i in query.split(","))
        elif request.body is not None and len(chunk) > 1:
            sent.extend(item["id"] for item in json.loads(request.body)["data"])
        else:
            assert path.startswith(f"{BASE}/")
            sent.append(unquote(path.rsplit("/", 1)[1]))
    assert sent == [rid(n) for n in range(count)]


def test_every_request_carries_at_most_100_items() -> None:
    for chunk in batch(links(250)):
        request = build_request("v8", chunk)
        assert request.body is not None
        assert len(json.loads(request.body)["data"]) <= 100
