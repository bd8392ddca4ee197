import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract
from qiyue.contracts.services import contract_transition, contract_update
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer
from qiyue.workflow.tests.factories import approve_through

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager", "sales", "sales2", "sales_b", "manager_b", "legal", "finance", "auditor"]
SEES = {
    "admin": {"own", "team", "other"}, "legal": {"own", "team", "other"}, "finance": {"own", "team", "other"},
    "auditor": {"own", "team", "other"}, "manager": {"own", "team"}, "sales": {"own", "team"},
    "sales2": {"own", "team"}, "sales_b": {"other"}, "manager_b": {"other"},
}
EDITS = {
    "admin": {"own", "team", "other"}, "manager": {"own", "team"}, "sales": {"own", "team"},
    "sales2": {"own", "team"}, "sales_b": {"other"}, "manager_b": {"other"},
    "legal": set(), "finance": set(), "auditor": set(),
}
# Submitting a draft is for writers (admin, manager, sales) on what they own or their team has.
SUBMITS = EDITS


@pytest.fixture
def three_contracts(users):
    return {
        "own": make_contract(users["sales"], title="自有合同"),
        "team": make_contract(users["sales2"], title="同组合同"),
        "other": make_contract(users["sales_b"], title="他组合同"),
    }


def contract_data(customer_obj, **overrides):
    data = {
        "number": "", "title": "软件许可合同", "customer": customer_obj.pk, "parent": "", "our_entity": "契约科技",
        "counterparty_signatory": "", "amount": "1234.50", "currency": "CNY", "tax_rate": "6",
        "signing_date": "", "effective_date": "2026-01-01", "expiry_date": "2026-12-31",
        "notice_period_days": "30", "nature": "licensing", "subject_matter": "ip", "signing_form": "electronic",
        "owner": "", "team": "", "tags": "软件", "description": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, users, three_contracts, role):
    client.force_login(users[role])
    listing = client.get(reverse("contracts:list"))
    assert listing.status_code == 200
    listed = {c.pk for c in listing.context["page"].object_list}
    for key, contract in three_contracts.items():
        visible = key in SEES[role]
        assert (contract.pk in listed) is visible, (role, key)
        detail = client.get(reverse("contracts:detail", args=[contract.pk]))
        assert detail.status_code == (200 if visible else 404), (role, key)
        edit = client.get(reverse("contracts:update", args=[contract.pk]))
        assert edit.status_code == (200 if key in EDITS[role] else 403 if visible else 404), (role, key)
        if visible:
            assert (b'data-testid="edit-contract"' in detail.content) is (key in EDITS[role])
            assert (b'data-testid="transition-submit"' in detail.content) is (key in SUBMITS[role])
        response = client.post(reverse("contracts:transition", args=[contract.pk, "submit"]),
                               {"submit-version": contract.version})
        expected = 302 if key in SUBMITS[role] else (403 if visible else 404)
        assert response.status_code == expected, (role, key)
        contract.refresh_from_db()
        assert contract.status == ("in_review" if key in SUBMITS[role] else "draft")


def test_detail_records_access_and_shows_everything(client, users):
    framework = make_contract(users["sales"], title="框架协议", nature="service",
                                        subject_matter="services", signing_form="written")
    supplement = make_contract(users["sales"], customer=framework.customer, parent=framework,
                                         title="补充协议一")
    client.force_login(users["legal"])
    response = client.get(reverse("contracts:detail", args=[framework.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="contract.viewed", contract_id=framework.pk, kind="access",
                                     actor_id=users["legal"].pk).count() == 1
    body = response.content.decode()
    assert "补充协议一" in body and reverse("contracts:detail", args=[supplement.pk]) in body
    assert "Service" in body and "Services" in body and "Written" in body
    assert 'data-testid="status-badge"' in body and "created the contract" in body
    supplement_page = client.get(reverse("contracts:detail", args=[supplement.pk])).content.decode()
    assert 'data-testid="parent-link"' in supplement_page and "框架协议" in supplement_page


def test_list_filters_and_htmx_partial(client, users, three_contracts):
    contract_transition(actor=users["sales"], contract=three_contracts["own"], name="submit")
    client.force_login(users["admin"])
    response = client.get(reverse("contracts:list"), {"status": "in_review"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "contracts/_table.html"
    assert [c.pk for c in response.context["page"].object_list] == [three_contracts["own"].pk]
    assert "<html" not in response.content.decode()
    # The export links carry the current filters.
    assert "/contracts/export/?status=in_review&amp;format=xlsx" in response.content.decode()
    page = client.get(reverse("contracts:list"), {"q": "同组"})
    assert "<html" in page.content.decode()
    assert [c.title for c in page.context["page"].object_list] == ["同组合同"]
    by_team = client.get(reverse("contracts:list"), {"team": users["sales_b"].team_id})
    assert [c.title for c in by_team.context["page"].object_list] == ["他组合同"]
    by_amount = client.get(reverse("contracts:list"), {"amount_min": "100001"})
    assert list(by_amount.context["page"].object_list) == []
    by_expiry = client.get(reverse("contracts:list"), {"expiry_date_after": "2027-12-31",
                                                       "nature": ["sales", "lease"], "ordering": "-amount"})
    assert len(by_expiry.context["page"].object_list) == 3


def test_list_filter_form_offers_only_visible_customers(client, users, three_contracts):
    client.force_login(users["sales"])
    form = client.get(reverse("contracts:list")).context["filter_form"]
    offered = set(form.fields["customer"].queryset)
    assert three_contracts["own"].customer in offered and three_contracts["other"].customer not in offered


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("contracts:list")).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(client, users):
    client.force_login(users["sales"])
    customer = make_customer(users["sales"])
    for _ in range(5):
        make_contract(users["sales"], customer=customer)
    few = _list_queries(client)
    for _ in range(25):
        make_contract(users["sales2"], customer=customer)
    assert _list_queries(client) == few


def test_create_contract_generates_number(client, users):
    customer = make_customer(users["sales"])
    client.force_login(users["sales"])
    assert client.get(reverse("contracts:create") + f"?customer={customer.pk}").context["form"][
        "customer"].value() == customer.pk
    response = client.post(reverse("contracts:create"), contract_data(customer, currency="usd"))
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("contracts:detail", args=[contract.pk])
    assert contract.number.startswith("HT-") and contract.currency == "USD"
    assert contract.owner == users["sales"] and contract.team == users["sales"].team
    assert (contract.nature, contract.subject_matter, contract.signing_form) == ("licensing", "ip", "electronic")


def test_create_supplement_from_parent(client, users):
    framework = make_contract(users["sales"], nature="service")
    client.force_login(users["sales"])
    form = client.get(reverse("contracts:create") + f"?parent={framework.pk}").context["form"]
    assert form["parent"].value() == framework.pk and form["customer"].value() == framework.customer_id
    response = client.post(reverse("contracts:create"),
                           contract_data(framework.customer, parent=framework.pk, title="补充协议"))
    assert response.status_code == 302
    assert Contract.objects.get(title="补充协议").parent == framework


@pytest.mark.parametrize("overrides,field", [
    ({"effective_date": "2026-06-01", "expiry_date": "2026-05-31"}, "expiry_date"),
    ({"amount": "-1"}, "amount"),
    ({"amount": "12.345"}, "amount"),
    ({"amount": "abc"}, "amount"),
    ({"currency": "XYZ"}, "currency"),
    ({"customer": ""}, "customer"),
    ({"number": "DUP-1"}, "number"),
    ({"title": "长" * 201}, "title"),
    ({"description": "x" * 10001}, "description"),
    ({"nature": "barter"}, "nature"),
    ({"tax_rate": "101"}, "tax_rate"),
    ({"effective_date": "2026-02-30"}, "effective_date"),
])
def test_create_bad_input_saves_nothing(client, users, overrides, field):
    existing = make_contract(users["sales"], number="DUP-1")
    client.force_login(users["sales"])
    response = client.post(reverse("contracts:create"), contract_data(existing.customer, **overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors, response.context["form"].errors
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert Contract.objects.count() == 1


def test_create_for_invisible_customer_refused(client, users):
    foreign = make_customer(users["sales_b"])
    client.force_login(users["sales"])
    response = client.post(reverse("contracts:create"), contract_data(foreign))
    assert response.status_code == 400 and "customer" in response.context["form"].errors
    assert not Contract.objects.exists()


def test_create_forbidden_for_read_only_roles(client, users):
    customer = make_customer(users["sales"])
    for role in ("legal", "finance", "auditor"):
        client.force_login(users[role])
        assert client.get(reverse("contracts:create")).status_code == 403
        assert client.post(reverse("contracts:create"), contract_data(customer)).status_code == 403
    assert not Contract.objects.exists()


def test_update_and_stale_version(client, users, three_contracts):
    contract = three_contracts["own"]
    client.force_login(users["sales2"])
    form = client.get(reverse("contracts:update", args=[contract.pk])).context["form"]
    assert form["version"].value() == contract.version
    data = contract_data(contract.customer, number=contract.number, title="改过的标题", owner=users["sales"].pk,
                         team=users["sales"].team_id, version=contract.version)
    response = client.post(reverse("contracts:update", args=[contract.pk]), data)
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.title == "改过的标题" and contract.version == 2
    stale = client.post(reverse("contracts:update", args=[contract.pk]), {**data, "title": "另一个", "version": 1})
    assert stale.status_code == 409 and "changed this record" in stale.content.decode()
    contract.refresh_from_db()
    assert contract.title == "改过的标题"
    event = AuditEvent.objects.filter(action="contract.updated", contract_id=contract.pk).get()
    assert event.changes["title"] == ["自有合同", "改过的标题"]
    # The timeline shows the change before → after.
    body = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert "<del>自有合同</del> → 改过的标题" in body


def test_number_is_fixed_after_draft(client, users, three_contracts):
    # The title is a fact frozen from review on: give it while the contract is a draft.
    draft = contract_update(actor=users["sales"], contract=three_contracts["own"], expected_version=None,
                            data={"title": "软件许可合同"})
    contract = contract_transition(actor=users["sales"], contract=draft, name="submit")
    client.force_login(users["sales"])
    form = client.get(reverse("contracts:update", args=[contract.pk])).context["form"]
    assert form.fields["number"].disabled
    data = contract_data(contract.customer, number="NEW-1", owner=users["sales"].pk,
                         team=users["sales"].team_id, version=contract.version)
    assert client.post(reverse("contracts:update", args=[contract.pk]), data).status_code == 302
    contract.refresh_from_db()
    assert contract.number.startswith("HT-") and contract.title == "软件许可合同"


def test_update_bad_input_saves_nothing(client, users, three_contracts):
    contract = three_contracts["own"]
    client.force_login(users["sales"])
    data = contract_data(contract.customer, number=contract.number, owner=users["sales"].pk,
                         version=contract.version, effective_date="2026-05-01", expiry_date="2026-04-01")
    response = client.post(reverse("contracts:update", args=[contract.pk]), data)
    assert response.status_code == 400 and "expiry_date" in response.context["form"].errors
    contract.refresh_from_db()
    assert contract.version == 1 and contract.title == "自有合同"


def _hx_post(client, contract, name, data=None):
    payload = {f"{name}-version": contract.version, **{f"{name}-{k}": v for k, v in (data or {}).items()}}
    return client.post(reverse("contracts:transition", args=[contract.pk, name]), payload, HTTP_HX_REQUEST="true")


def test_transitions_through_htmx(client, users, three_contracts):
    contract = three_contracts["own"]
    client.force_login(users["sales"])
    response = _hx_post(client, contract, "submit")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-status="in_review"' in body and "<html" not in body
    assert response["HX-Retarget"] == "#contract-workspace" and response["HX-Reswap"] == "outerHTML"
    contract.refresh_from_db()
    assert contract.status == "in_review"
    # Nobody approves with a click: the approval's approvers decide on its approval tab.
    assert _hx_post(client, contract, "approve").status_code == 403
    client.force_login(users["legal"])
    assert b'data-testid="transition-approve"' not in client.get(reverse("contracts:detail", args=[contract.pk])).content
    assert _hx_post(client, contract, "approve").status_code == 403
    contract = approve_through(contract)
    assert contract.status == "approved"
    client.force_login(users["sales"])
    # Signing needs a method and a date: errors are shown in place and nothing changes.
    missing = _hx_post(client, contract, "sign")
    assert missing.status_code == 200 and 'data-testid="error-signing_method"' in missing.content.decode()
    assert 'data-testid="error-signing_date"' in missing.content.decode()
    # ... inside the signing dialog, which opens again.
    assert re.search(r'<dialog id="dialog-sign"[^>]* data-open>', missing.content.decode())
    contract.refresh_from_db()
    assert contract.status == "approved"
    signed = _hx_post(client, contract, "sign", {"signing_method": "company_seal", "signing_date": "2026-01-05"})
    assert 'data-status="signed"' in signed.content.decode()
    contract.refresh_from_db()
    assert contract.signing_method == "company_seal" and contract.signing_date == datetime.date(2026, 1, 5)


def test_transition_reason_required_and_illegal(client, users, three_contracts):
    contract = three_contracts["own"]
    client.force_login(users["sales"])
    response = _hx_post(client, contract, "cancel", {"reason": ""})
    assert response.status_code == 200 and 'data-testid="error-reason"' in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == "draft"
    # Without HTMX: redirect back with the message.
    response = client.post(reverse("contracts:transition", args=[contract.pk, "cancel"]),
                           {"cancel-version": contract.version, "cancel-reason": "<b>客户放弃</b>"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("contracts:detail", args=[contract.pk])
    contract.refresh_from_db()
    assert contract.status == "cancelled" and contract.status_reason == "<b>客户放弃</b>"
    body = response.content.decode()
    assert "&lt;b&gt;客户放弃&lt;/b&gt;" in body and "<b>客户放弃</b>" not in body
    # Submitting a cancelled contract is illegal: refused, nothing changes.
    response = _hx_post(client, contract, "submit")
    assert 'data-testid="status-error"' in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == "cancelled"
    assert client.post(reverse("contracts:transition", args=[contract.pk, "fly"])).status_code == 404


def test_transition_stale_version(client, users, three_contracts):
    contract = three_contracts["own"]
    client.force_login(users["sales"])
    response = client.post(reverse("contracts:transition", args=[contract.pk, "submit"]),
                           {"submit-version": contract.version + 5}, HTTP_HX_REQUEST="true")
    assert "changed this record" in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == "draft"


def test_markup_is_escaped(client, users):
    contract = make_contract(users["sales"], title="<script>alert(1)</script>",
                                       description="<img src=x onerror=alert(1)>", tags="<b>t</b>",
                                       our_entity="<u>us</u>")
    client.force_login(users["sales"])
    for url in (reverse("contracts:detail", args=[contract.pk]), reverse("contracts:list"),
                reverse("customers:detail", args=[contract.customer_id])):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<img src=x" not in body and "<b>t</b>" not in body and "<u>us</u>" not in body


def test_typed_number_then_blank_number_in_the_form_is_not_a_500(client, users):
    import datetime


    year = datetime.date.today().year
    contract = make_contract(users["sales"], number=f"HT-{year}-00001")
    client.force_login(users["sales"])
    response = client.post("/contracts/new/", {
        "title": "表单合同", "customer": contract.customer_id, "amount": "10.00", "currency": "CNY",
        "tax_rate": "0", "notice_period_days": "0", "nature": "sales", "subject_matter": "movable",
        "signing_form": "written", "owner": users["sales"].pk, "team": users["sales"].team_id})
    assert response.status_code == 302, response.content.decode()[:3000]


def test_list_counts_are_capped_not_wrong(client, users, monkeypatch):
    from qiyue.core import htmx

    monkeypatch.setattr(htmx.CappedPaginator, "cap", 3)
    customer = make_customer(users["sales"])
    for _ in range(5):
        make_contract(users["sales"], customer=customer)
    client.force_login(users["sales"])
    page = client.get("/contracts/").content.decode()
    assert "3+ results" in page
    f_page = client.get(f"/contracts/?customer={customer.pk}&status=in_review").content.decode()
    assert "0 results" in f_page


@pytest.mark.parametrize("path", ["/contracts/", "/customers/", "/search/?q=x"])
def test_owner_and_team_filters_offer_only_the_users_scope(client, users, path):
    def options(field, page):
        select = re.search(rf'<select name="{field}"[^>]*>(.*?)</select>', page, re.S).group(1)
        return set(re.findall(r'<option value="(\d+)"', select))

    client.force_login(users["sales_b"])
    page = client.get(path).content.decode()
    assert options("owner", page) == {str(users["sales_b"].pk), str(users["manager_b"].pk)}
    assert options("team", page) == {str(users["sales_b"].team_id)}
    client.force_login(users["legal"])
    page = client.get(path).content.decode()
    sellers = {str(users[name].pk) for name in ("admin", "manager", "sales", "sales2", "sales_b", "manager_b")}
    assert options("owner", page) == sellers  # people who can own records, nobody else
    assert options("team", page) == {str(users["sales"].team_id), str(users["sales_b"].team_id)}


def test_customer_filter_offers_the_first_visible_customers_by_name(client, users, monkeypatch):
    from qiyue.contracts import filters

    monkeypatch.setattr(filters, "CUSTOMER_CHOICES", 3)
    sales = users["sales"]
    names = ["Delta Co", "Alpha Co", "Charlie Co", "Bravo Co"]  # ASCII: one order in every collation
    made = {name: make_customer(users["sales2"], name=name) for name in names}  # the team's
    elsewhere = make_customer(sales, name="Bravo Two Co", actor=users["admin"], team=users["sales_b"].team)
    make_customer(users["sales_b"], name="Aardvark Co")  # another team's: never offered
    client.force_login(sales)
    page = client.get("/contracts/").content.decode()
    select = re.search(r'<select name="customer"[^>]*>(.*?)</select>', page, re.S).group(1)
    offered = re.findall(r'<option value="(\d+)"', select)
    pks = {**{n: str(c.pk) for n, c in made.items()}, "Bravo Two Co": str(elsewhere.pk)}
    assert offered == [pks[name] for name in ("Alpha Co", "Bravo Co", "Bravo Two Co")]


def test_the_form_shows_the_signing_date_read_only_and_ignores_one_posted(client, users, three_contracts):
    contract = three_contracts["own"]
    client.force_login(users["admin"])
    page = client.get(reverse("contracts:update", args=[contract.pk]))
    assert page.context["form"].fields["signing_date"].disabled
    assert re.search(r'<input[^>]*name="signing_date"[^>]*disabled', page.content.decode())
    data = contract_data(contract.customer, number=contract.number, title="改", owner=users["sales"].pk,
                         team=users["sales"].team_id, version=contract.version, signing_date="2026-01-05")
    assert client.post(reverse("contracts:update", args=[contract.pk]), data).status_code == 302
    contract.refresh_from_db()
    assert contract.title == "改" and contract.signing_date is None


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_the_form_refuses_clearing_the_team(client, users, three_contracts, role):
    contract = three_contracts["own"]
    client.force_login(users[role])
    data = contract_data(contract.customer, number=contract.number, owner=users["sales"].pk, team="",
                         version=contract.version)
    response = client.post(reverse("contracts:update", args=[contract.pk]), data)
    assert response.status_code == 400 and "team" in response.context["form"].errors
    contract.refresh_from_db()
    assert contract.team_id == users["sales"].team_id and contract.version == 1


@pytest.mark.parametrize("value", ["invisible", "999999999", str(10**20), "abc"])
def test_list_and_export_refuse_a_parent_or_customer_the_user_cannot_see(client, users, value):
    framework_a = make_contract(users["sales"])
    framework_b = make_contract(users["sales_b"], customer=framework_a.customer, actor=users["admin"])
    make_contract(users["sales"], customer=framework_a.customer, parent=framework_b, actor=users["admin"])
    client.force_login(users["sales"])
    for name, invisible in (("parent", framework_b.pk), ("customer", make_customer(users["sales_b"]).pk)):
        params = {name: invisible if value == "invisible" else value}
        page = client.get(reverse("contracts:list"), params)
        assert page.status_code == 200
        assert page.context["filter_errors"] and set(page.context["filter_errors"]) == {name}
        assert list(page.context["page"].object_list) == []
        assert 'data-testid="filter-errors"' in page.content.decode()
        assert client.get(reverse("contracts:export"), {**params, "format": "csv"}).status_code == 400
    # A visible framework agreement still narrows the list.
    page = client.get(reverse("contracts:list"), {"parent": framework_a.pk})
    assert not page.context["filter_errors"] and list(page.context["page"].object_list) == []
