"""Custom fields per contract type (R2.4): defined by administrators in the app, shown in the contract
form and page in both languages, checked like built-in fields, audited, and usable as list filters,
list and export columns, in the API (schema included) and in search."""

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.contracts import custom_fields, services
from qiyue.contracts.models import ContractType, CustomField, CustomValue
from qiyue.contracts.tests.factories import make_contract
from qiyue.core.errors import ApplicationError

pytestmark = pytest.mark.django_db

CHOICES = "east | 华东 | East\nwest | 华西 | West\nnorth | 华北 | North"


@pytest.fixture
def lease(users):
    admin = users["admin"]
    contract_type = services.contract_type_save(actor=admin, contract_type=None,
                                                data={"name_zh": "租赁合同", "name_en": "Lease", "active": True})
    specs = [
        ("site", "text", "场地地址", "Site address", True, ""),
        ("area", "number", "面积", "Area", False, ""),
        ("deposit", "money", "押金", "Deposit", False, ""),
        ("handover", "date", "交付日期", "Handover date", False, ""),
        ("region", "choice", "区域", "Region", False, CHOICES),
        ("uses", "multi_choice", "用途", "Uses", False, "office | 办公 | Office\nstore | 仓储 | Storage"),
        ("keeper", "user", "物业联系人", "Facility contact", False, ""),
        ("insured", "boolean", "已投保", "Insured", False, ""),
    ]
    for position, (key, kind, zh, en, required, choices) in enumerate(specs):
        services.custom_field_save(actor=admin, contract_type=contract_type, field=None, data={
            "key": key, "kind": kind, "label_zh": zh, "label_en": en, "required": required, "choices": choices,
            "position": position, "active": True})
    return contract_type


def _field(contract_type, key) -> CustomField:
    return CustomField.objects.get(contract_type=contract_type, key=key)


def _values(users):
    return {"site": "上海市浦东新区张江路 88 号", "area": "1250.5", "deposit": "300000.00", "handover": "2026-03-01",
            "region": "east", "uses": ["store", "office"], "keeper": users["legal"].pk, "insured": True}


def test_values_are_stored_checked_and_audited(users, lease):
    contract = make_contract(users["sales"], contract_type=lease, custom_fields=_values(users))
    values = custom_fields.contract_values(contract)
    assert values == {"site": "上海市浦东新区张江路 88 号", "area": Decimal("1250.5"), "deposit": Decimal("300000.00"),
                      "handover": __import__("datetime").date(2026, 3, 1), "region": "east",
                      "uses": ["office", "store"], "keeper": users["legal"].pk, "insured": True}
    created = AuditEvent.objects.get(action="contract.created", contract_id=contract.pk)
    assert created.changes["cf_region"] == [None, "east"] and created.changes["cf_area"] == [None, "1250.5"]
    contract = services.contract_update(actor=users["sales"], contract=contract, expected_version=contract.version,
                                        data={"custom_fields": {"region": "west", "insured": False}})
    updated = AuditEvent.objects.filter(action="contract.updated", contract_id=contract.pk).latest("seq")
    assert updated.changes == {"cf_region": ["east", "west"], "cf_insured": [True, False]}
    assert custom_fields.contract_values(contract)["site"] == "上海市浦东新区张江路 88 号"  # not sent: kept


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("site", "", "This field is required."),
    ("site", "x" * 1001, "At most 1000 characters."),
    ("area", "abc", "Enter a number."),
    ("area", "1e30", "Enter a number."),
    ("deposit", "-1", "An amount cannot be negative."),
    ("deposit", "1.234", "An amount has at most two decimals."),
    ("handover", "2026-13-45", "Enter a date as YYYY-MM-DD."),
    ("region", "south", "Choose one of the listed values."),
    ("uses", ["office", "bogus"], "Choose among the listed values."),
    ("keeper", 999999, "Choose an active user."),
    ("keeper", "abc", "Choose an active user."),
    ("insured", "maybe", "Answer yes or no."),
    ("nonexistent", "x", "This contract type has no such field."),
])
def test_bad_values_are_refused_with_the_field_and_reason(users, lease, key, value, reason):
    data = {**_values(users), key: value}
    before = CustomValue.objects.count()
    with pytest.raises(ApplicationError) as refused:
        make_contract(users["sales"], contract_type=lease, custom_fields=data)
    assert refused.value.fields[f"cf_{key}"] == [reason]
    assert CustomValue.objects.count() == before


def test_changing_the_type_drops_the_old_values(users, lease):
    contract = make_contract(users["sales"], contract_type=lease, custom_fields=_values(users))
    other = services.contract_type_save(actor=users["admin"], contract_type=None, data={"name_zh": "服务合同"})
    contract = services.contract_update(actor=users["sales"], contract=contract, expected_version=contract.version,
                                        data={"contract_type": other})
    assert not CustomValue.objects.filter(contract=contract).exists()
    event = AuditEvent.objects.filter(action="contract.updated", contract_id=contract.pk).latest("seq")
    assert event.changes["cf_region"] == ["east", None]


def test_a_type_no_longer_in_use_is_not_chosen_again(users, lease):
    services.contract_type_save(actor=users["admin"], contract_type=lease, data={"active": False})
    lease.refresh_from_db()
    with pytest.raises(ApplicationError) as refused:
        make_contract(users["sales"], contract_type=lease, custom_fields=_values(users))
    assert "contract_type" in refused.value.fields


def test_the_form_and_the_page(client, users, lease, settings):
    client.force_login(users["sales"])
    form = client.get(reverse("contracts:create")).content.decode()
    site = _field(lease, "site")
    assert f'name="cf_{site.pk}"' in form and f'data-type-fields="{lease.pk}"' in form
    customer = make_contract(users["sales"]).customer
    post = {"title": "仓库租赁合同", "customer": customer.pk, "amount": "100", "currency": "CNY", "tax_rate": "0",
            "nature": "lease", "subject_matter": "real_estate", "signing_form": "written", "notice_period_days": "30",
            "effective_date": "2026-01-01", "expiry_date": "2027-12-31", "contract_type": lease.pk,
            f"cf_{_field(lease, 'area').pk}": "abc"}
    refused = client.post(reverse("contracts:create"), post)
    html = refused.content.decode()
    assert refused.status_code == 400
    assert f'data-testid="error-cf_{site.pk}"' in html and f'data-testid="error-cf_{_field(lease, "area").pk}"' in html
    post.update({f"cf_{site.pk}": "张江路 88 号", f"cf_{_field(lease, 'area').pk}": "99.5",
                 f"cf_{_field(lease, 'region').pk}": "north", f"cf_{_field(lease, 'uses').pk}": ["office"],
                 f"cf_{_field(lease, 'insured').pk}": "1"})
    created = client.post(reverse("contracts:create"), post)
    assert created.status_code == 302, re.findall(r'data-testid="error-[^"]+">[^<]+', created.content.decode())
    page = client.get(created["Location"]).content.decode()
    card = page[page.index('data-testid="custom-fields"'):]
    assert "Lease: further facts" in card and "Region" in card and "North" in card and "Office" in card
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(created["Location"]).content.decode()
    card = page[page.index('data-testid="custom-fields"'):]
    assert "租赁合同" in card and "区域" in card and "华北" in card and "张江路 88 号" in card


def test_list_filters_columns_and_export(client, users, lease):
    region = _field(lease, "region")
    area = _field(lease, "area")
    east = make_contract(users["sales"], contract_type=lease, custom_fields={**_values(users), "area": "80"})
    make_contract(users["sales"], contract_type=lease, custom_fields={**_values(users), "region": "west",
                                                                     "area": "500"})
    make_contract(users["sales"])  # no type
    client.force_login(users["sales"])
    listing = client.get(reverse("contracts:list"), {f"cf{region.pk}": "east"})
    assert [c.pk for c in listing.context["page"].object_list] == [east.pk]
    ranged = client.get(reverse("contracts:list"), {f"cf{area.pk}_min": "100"})
    assert ranged.context["page"].paginator.count == 1
    bad = client.get(reverse("contracts:list"), {f"cf{area.pk}_min": "lots"})
    assert bad.context["page"].paginator.count == 0 and bad.context["filter_errors"]
    assert client.get(reverse("contracts:totals"), {f"cf{area.pk}_min": "lots"}).status_code == 400
    # The type's fields are offered as filters and columns once the list is of that type.
    typed = client.get(reverse("contracts:list"), {"contract_type": lease.pk, "columns": f"title,cf{region.pk}"})
    html = typed.content.decode()
    assert f'name="cf{region.pk}"' in html and f'name="cf{area.pk}_min"' in html
    assert f'data-col-head="cf{region.pk}"' in html and html.count('data-testid="custom-cell"') == 2
    assert "East" in html and "West" in html
    export = client.get(reverse("contracts:export"), {"format": "csv", "contract_type": lease.pk})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-8:] == ["Site address", "Area", "Deposit", "Handover date", "Region", "Uses",
                            "Facility contact", "Insured"]
    assert {row[-4] for row in rows[1:]} == {"East", "West"}


def test_api_reads_and_writes_custom_fields(client, users, lease):
    client.force_login(users["sales"])
    customer = make_contract(users["sales"]).customer
    body = {"title": "接口租赁合同", "customer": customer.pk, "amount": "100.00", "currency": "CNY",
            "contract_type": lease.pk, "custom_fields": {"site": "深圳南山", "region": "north", "area": 12.5,
                                                        "uses": ["office"], "insured": False}}
    created = client.post("/api/v1/contracts/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["contract_type"] == lease.pk
    assert data["custom_fields"]["region"] == "north" and data["custom_fields"]["area"] == "12.5"
    assert data["custom_fields"]["insured"] is False and data["custom_fields"]["deposit"] is None
    refused = client.post("/api/v1/contracts/", {**body, "custom_fields": {"region": "north", "wat": 1}},
                          content_type="application/json")
    assert refused.status_code == 400
    fields = json.dumps(refused.json())
    assert "cf_wat" in fields and "cf_site" in fields  # the unknown key and the missing required one
    types = client.get("/api/v1/contract-types/").json()
    lease_out = next(t for t in types["results"] if t["id"] == lease.pk)
    assert [f["key"] for f in lease_out["fields"]][:3] == ["site", "area", "deposit"]
    schema = client.get("/api/schema/").content.decode()
    assert "custom_fields" in schema and "/api/v1/contract-types/" in schema


def test_custom_text_is_found_by_search(client, users, lease, django_capture_on_commit_callbacks):
    from qiyue.search.selectors import search

    with django_capture_on_commit_callbacks(execute=True):  # indexed at commit
        contract = make_contract(users["sales"], contract_type=lease,
                                 custom_fields={**_values(users), "site": "虹桥临空经济园区"})
    found = search(user=users["sales"], q="临空经济")
    assert contract.pk in [hit.id for hit in found.hits if hit.kind == "contract"]
    found = search(user=users["sales"], q="华东")  # a choice's label
    assert contract.pk in [hit.id for hit in found.hits if hit.kind == "contract"]


def test_administration_pages(client, users, lease):
    client.force_login(users["sales"])
    assert client.get(reverse("contract_types:list")).status_code == 403
    client.force_login(users["admin"])
    assert "租赁合同" in client.get(reverse("contract_types:list")).content.decode()
    page = client.get(reverse("contract_types:detail", args=[lease.pk])).content.decode()
    assert page.count('data-testid="field-row"') == 8
    added = client.post(reverse("contract_types:detail", args=[lease.pk]), {
        "field-key": "floor", "field-kind": "number", "field-label_zh": "楼层", "field-label_en": "Floor",
        "field-position": "9", "field-active": "on"})
    assert added.status_code == 302 and _field(lease, "floor").kind == "number"
    assert AuditEvent.objects.filter(action="custom_field.created").count() == 9
    for bad, field in (({"field-key": "floor", "field-kind": "text", "field-label_zh": "重复"}, "key"),
                       ({"field-key": "bad key!", "field-kind": "text", "field-label_zh": "坏键"}, "key"),
                       ({"field-key": "c", "field-kind": "choice", "field-label_zh": "无选项"}, "choices"),
                       ({"field-key": "k", "field-kind": "wat", "field-label_zh": "坏类型"}, "kind")):
        response = client.post(reverse("contract_types:detail", args=[lease.pk]), {**bad, "field-position": "0"})
        assert response.status_code == 400, bad
        assert re.search(rf'data-testid="error-{field}"', response.content.decode()), bad
    # A choice contracts use cannot be removed.
    make_contract(users["sales"], contract_type=lease, custom_fields=_values(users))
    region = _field(lease, "region")
    refused = client.post(reverse("contract_types:field", args=[lease.pk, region.pk]), {
        "label_zh": "区域", "position": "4", "active": "on", "choices": "west | 华西\nnorth | 华北"})
    assert refused.status_code == 400 and "east" in refused.content.decode()
    assert [c["value"] for c in CustomField.objects.get(pk=region.pk).choices] == ["east", "west", "north"]


def test_contract_type_of_the_form_is_limited_to_types_in_use(client, users, lease):
    retired = ContractType.objects.create(name_zh="旧类型", active=False)
    client.force_login(users["sales"])
    html = client.get(reverse("contracts:create")).content.decode()
    select = html[html.index('name="contract_type"'):html.index("</select>", html.index('name="contract_type"'))]
    assert "Lease" in select and retired.name_zh not in select


def test_the_timeline_names_custom_fields(client, users, lease):
    contract = make_contract(users["sales"], contract_type=lease, custom_fields=_values(users))
    services.contract_update(actor=users["sales"], contract=contract, expected_version=contract.version,
                             data={"custom_fields": {"region": "west"}})
    client.force_login(users["sales"])
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    timeline = page[page.index('id="pane-timeline"'):]
    assert "Region" in timeline and "cf_region" not in timeline
    assert "East" in timeline and "West" in timeline and ">east<" not in timeline  # choices by their labels


@pytest.mark.parametrize("few", [2000, 0], ids=["by-id", "in-list-order"])
def test_filters_find_the_same_contracts_by_either_plan(client, users, lease, monkeypatch, few):
    """Few matching values: the contracts by id; many: the list's order, each tested (FEW_VALUES)."""
    monkeypatch.setattr(custom_fields, "FEW_VALUES", few)
    made = {
        "a": make_contract(users["sales"], contract_type=lease, custom_fields={**_values(users), "area": "80"}),
        "b": make_contract(users["sales"], contract_type=lease, custom_fields={
            **_values(users), "region": "west", "area": "500", "uses": ["office"], "insured": False}),
        "c": make_contract(users["sales_b"], contract_type=lease, custom_fields={**_values(users), "area": "900"}),
    }
    names = {c.pk: key for key, c in made.items()}

    def listed(user, params, **plain):
        client.force_login(users[user])
        page = client.get(reverse("contracts:list"), {**plain, **{f"cf{_field(lease, k).pk}{s}": v
                                                                   for (k, s), v in params.items()}})
        return sorted(names[c.pk] for c in page.context["page"].object_list)

    assert listed("legal", {("region", ""): "east"}) == ["a", "c"]
    assert listed("sales", {("region", ""): "east"}) == ["a"]  # team A's sales person
    assert listed("legal", {("uses", ""): "store"}) == ["a", "c"]  # one of several choices
    assert listed("legal", {("uses", ""): "office"}) == ["a", "b", "c"]  # no contract twice
    assert listed("legal", {("area", "_min"): "100", ("area", "_max"): "600"}) == ["b"]
    assert listed("legal", {("insured", ""): "false"}) == ["b"]
    assert listed("legal", {("region", ""): "east", ("area", "_min"): "100"}) == ["c"]
    # With the type chosen too (as the list's form has it): the same contracts; another type, none.
    assert listed("legal", {("region", ""): "east"}, contract_type=lease.pk) == ["a", "c"]
    other = services.contract_type_save(actor=users["admin"], contract_type=None,
                                        data={"name_zh": "采购合同", "name_en": "Purchase", "active": True})
    assert listed("legal", {("region", ""): "east"}, contract_type=other.pk) == []
