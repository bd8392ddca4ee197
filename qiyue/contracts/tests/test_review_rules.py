"""Review rules of a contract: facts frozen from review on, the facts a submission needs, and the
confirmed early activation; each through the service, the pages and the API, with hostile input."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract, Status
from qiyue.contracts.services import (
    FACTS_FROZEN_STATUSES,
    FROZEN_FIELDS,
    contract_transition,
    contract_update,
    review_gaps,
)
from qiyue.contracts.tests.factories import make_contract
from qiyue.contracts.transitions import TRANSITIONS
from qiyue.core.errors import ApplicationError
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db
PATHS = {Status.IN_REVIEW: ("submit",), Status.APPROVED: ("submit", "approve"),
         Status.SIGNED: ("submit", "approve", "sign"), Status.ACTIVE: ("submit", "approve", "sign", "activate")}


def move(contract, actor, *names, **kwargs):
    for name in names:
        extra = dict(kwargs)
        if name == "sign":
            extra.update(signing_method="wet_ink", signing_date=timezone.localdate())
        extra["via_workflow"] = TRANSITIONS[name].workflow  # approve: the approval's outcome
        contract = contract_transition(actor=actor, contract=contract, name=name, **extra)
    return contract


def contract_in(users, status, **data):
    return move(make_contract(users["sales"], **data), users["admin"], *PATHS.get(status, ()))


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(contract, action="") -> str:
    return f"/api/v1/contracts/{contract.pk}/" + (f"{action}/" if action else "")


def new_values(users, contract) -> dict:
    """A different value for every frozen fact of `contract`."""
    framework = make_contract(users["sales"], customer=contract.customer)
    return {
        "title": "改过的标题", "customer": make_customer(users["sales"]), "our_entity": "另一家公司",
        "counterparty_signatory": "李四", "amount": Decimal("999.00"), "no_amount_reason": "免费",
        "currency": "USD", "tax_rate": Decimal("6.00"), "signing_date": datetime.date(2025, 1, 1),
        "effective_date": datetime.date(2026, 2, 1), "expiry_date": datetime.date(2028, 1, 1),
        "open_ended": True, "auto_renewal": True, "notice_period_days": 60, "nature": "service",
        "subject_matter": "services", "signing_form": "electronic", "parent": framework,
    }


# --- 1. facts frozen from review on ------------------------------------------------------------

def test_frozen_fields_are_the_material_facts():
    assert set(FROZEN_FIELDS) >= {
        "customer", "amount", "currency", "tax_rate", "signing_date", "effective_date", "expiry_date",
        "auto_renewal", "notice_period_days", "parent", "nature", "subject_matter", "signing_form",
        "our_entity", "counterparty_signatory", "title", "no_amount_reason", "open_ended"}
    assert not set(FROZEN_FIELDS) & {"owner", "team", "tags", "description"}


@pytest.mark.parametrize("status", FACTS_FROZEN_STATUSES)
def test_every_frozen_fact_is_refused_from_review_on(users, status):
    contract = contract_in(users, status)
    values = new_values(users, contract)
    assert set(values) == set(FROZEN_FIELDS)
    before = Contract.objects.values().get(pk=contract.pk)
    events = AuditEvent.objects.count()
    for name, value in values.items():
        with pytest.raises(ApplicationError) as exc:
            contract_update(actor=users["admin"], contract=contract, expected_version=None, data={name: value})
        assert (exc.value.code, exc.value.status, list(exc.value.fields)) == ("facts_frozen", 409, [name]), name
    with pytest.raises(ApplicationError) as exc:
        contract_update(actor=users["sales"], contract=contract, expected_version=None,
                        data={"amount": Decimal("1.00"), "currency": "EUR", "tags": "改"})
    assert set(exc.value.fields) == {"amount", "currency"}
    assert Contract.objects.values().get(pk=contract.pk) == before
    assert AuditEvent.objects.count() == events


def test_the_reviewed_amount_cannot_drop_to_999(users):
    contract = contract_in(users, Status.ACTIVE, amount=Decimal("1280000.00"))
    with pytest.raises(ApplicationError) as exc:
        contract_update(actor=users["sales"], contract=contract, expected_version=contract.version,
                        data={"amount": Decimal("999")})
    assert exc.value.code == "facts_frozen"
    contract.refresh_from_db()
    assert contract.amount == Decimal("1280000.00")


@pytest.mark.parametrize("status", FACTS_FROZEN_STATUSES)
def test_handling_fields_stay_editable_and_unchanged_facts_pass(users, status):
    contract = contract_in(users, status)
    same = {name: getattr(contract, name) for name in FROZEN_FIELDS}
    updated = contract_update(actor=users["sales"], contract=contract, expected_version=contract.version,
                              data={**same, "tags": "重点", "description": "交接给同组同事",
                                    "owner": users["sales2"]})
    assert (updated.tags, updated.description, updated.owner) == ("重点", "交接给同组同事", users["sales2"])
    event = AuditEvent.objects.order_by("-seq").first()
    assert set(event.changes) == {"tags", "description", "owner"}
    # Reassignment keeps its own rules: sales may not hand a contract to another team.
    with pytest.raises(ApplicationError) as exc:
        contract_update(actor=users["sales"], contract=updated, expected_version=None,
                        data={"owner": users["sales_b"]})
    assert "owner" in exc.value.fields


def test_return_to_draft_unfreezes(users):
    contract = contract_in(users, Status.IN_REVIEW)
    contract = contract_transition(actor=users["legal"], contract=contract, name="return", reason="金额有误",
                                   via_workflow=True)
    updated = contract_update(actor=users["sales"], contract=contract, expected_version=None,
                              data={"amount": Decimal("2000.00"), "title": "新标题"})
    assert (updated.amount, updated.title) == (Decimal("2000.00"), "新标题")


def test_closed_contracts_keep_their_own_code(users):
    contract = contract_in(users, Status.ACTIVE)
    contract = contract_transition(actor=users["sales"], contract=contract, name="complete")
    with pytest.raises(ApplicationError) as exc:
        contract_update(actor=users["sales"], contract=contract, expected_version=None, data={"tags": "x"})
    assert exc.value.code == "contract_closed"


# --- 2. what a submission needs ----------------------------------------------------------------

def test_submit_names_every_missing_fact_and_changes_nothing(users):
    contract = make_contract(users["sales"], amount=Decimal("0"), effective_date=None, expiry_date=None)
    events = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as exc:
        contract_transition(actor=users["sales"], contract=contract, name="submit")
    assert (exc.value.code, exc.value.status) == ("incomplete_for_review", 400)
    assert set(exc.value.fields) == {"amount", "effective_date", "expiry_date"}
    contract.refresh_from_db()
    assert (contract.status, contract.version) == (Status.DRAFT, 1)
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("data", "missing"), [
    ({"amount": Decimal("0")}, {"amount"}),
    ({"amount": Decimal("0"), "no_amount_reason": "   "}, {"amount"}),
    ({"effective_date": None}, {"effective_date"}),
    ({"expiry_date": None}, {"expiry_date"}),
    ({"amount": Decimal("0"), "no_amount_reason": "框架协议，金额见补充协议"}, set()),
    ({"expiry_date": None, "open_ended": True}, set()),
    ({}, set()),
])
def test_review_gaps(users, data, missing):
    contract = make_contract(users["sales"], **data)
    assert set(review_gaps(contract)) == missing
    if missing:
        with pytest.raises(ApplicationError) as exc:
            contract_transition(actor=users["sales"], contract=contract, name="submit")
        assert set(exc.value.fields) == missing
    else:
        assert contract_transition(actor=users["sales"], contract=contract, name="submit").status == "in_review"


@pytest.mark.parametrize(("data", "field", "code"), [
    ({"open_ended": True, "expiry_date": datetime.date(2027, 1, 1)}, "expiry_date", "open_ended_with_expiry"),
    ({"amount": Decimal("5.00"), "no_amount_reason": "免费"}, "no_amount_reason", "reason_with_amount"),
    ({"amount": Decimal("0"), "no_amount_reason": "长" * 501}, "no_amount_reason", "max_length"),
])
def test_contradictory_facts_are_refused(users, data, field, code):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        make_contract(users["sales"], **data)
    assert code in [e.code for e in exc.value.error_dict[field]]


def test_new_facts_are_audited(users):
    contract = make_contract(users["sales"], amount=Decimal("0"), no_amount_reason="  保密协议  ",
                                       expiry_date=None, open_ended=True)
    created = AuditEvent.objects.get(action="contract.created", target_id=str(contract.pk))
    assert created.changes["no_amount_reason"] == [None, "保密协议"]
    assert created.changes["open_ended"] == [None, True]
    contract_update(actor=users["sales"], contract=contract, expected_version=None,
                    data={"open_ended": False, "expiry_date": datetime.date(2027, 6, 30)})
    updated = AuditEvent.objects.order_by("-seq").first()
    assert updated.changes == {"open_ended": [True, False], "expiry_date": [None, "2027-06-30"]}


# --- 3. activation before the effective date ------------------------------------------------------

def signed_starting_in(users, days: int):
    today = timezone.localdate()
    return contract_in(users, Status.SIGNED, effective_date=today + datetime.timedelta(days=days),
                       expiry_date=today + datetime.timedelta(days=400))


def test_early_activation_needs_confirmation_and_is_audited(users):
    contract = signed_starting_in(users, 10)
    with pytest.raises(ApplicationError) as exc:
        contract_transition(actor=users["sales"], contract=contract, name="activate")
    assert (exc.value.code, exc.value.status, list(exc.value.fields)) == (
        "before_effective_date", 409, ["confirm_early"])
    assert contract.effective_date.isoformat() in exc.value.message
    contract.refresh_from_db()
    assert contract.status == Status.SIGNED
    active = contract_transition(actor=users["sales"], contract=contract, name="activate", confirm_early=True)
    assert active.status == Status.ACTIVE
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "contract.activate"
    assert event.changes["activated_early"] == [None, contract.effective_date.isoformat()]


@pytest.mark.parametrize("days", [0, -30])
def test_activation_on_or_after_the_effective_date_needs_nothing(users, days):
    contract = signed_starting_in(users, days)
    contract_transition(actor=users["sales"], contract=contract, name="activate")
    assert "activated_early" not in AuditEvent.objects.order_by("-seq").first().changes


# --- pages -------------------------------------------------------------------------------------

def form_data(contract, **overrides):
    data = {"version": contract.version, "number": contract.number, "title": contract.title,
            "customer": contract.customer_id, "amount": "1.00", "currency": "CNY", "tax_rate": "0",
            "effective_date": "2026-01-01", "expiry_date": "2027-12-31", "notice_period_days": "0",
            "nature": contract.nature, "subject_matter": contract.subject_matter,
            "signing_form": contract.signing_form, "owner": contract.owner_id, "team": contract.team_id or "",
            "tags": "", "description": ""}
    data.update(overrides)
    return data


def test_edit_page_shows_frozen_facts_read_only(client, users):
    contract = contract_in(users, Status.ACTIVE, amount=Decimal("1280000.00"))
    client.force_login(users["sales"])
    page = client.get(reverse("contracts:update", args=[contract.pk]))
    form = page.context["form"]
    assert all(form.fields[name].disabled for name in FROZEN_FIELDS)
    assert not any(form.fields[name].disabled for name in ("owner", "team", "tags", "description"))
    body = page.content.decode()
    assert 'data-testid="facts-frozen-note"' in body
    amount_input = re.search(r'<input[^>]*name="amount"[^>]*>', body).group(0)
    assert " disabled" in amount_input
    # A tampered POST cannot change a disabled fact; the rest saves.
    response = client.post(reverse("contracts:update", args=[contract.pk]),
                           form_data(contract, amount="999", title="篡改", tags="重点"))
    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.amount, contract.title, contract.tags) == (Decimal("1280000.00"), contract.title, "重点")
    assert contract.title != "篡改"


def test_edit_page_of_a_draft_has_no_frozen_note(client, users):
    contract = make_contract(users["sales"])
    client.force_login(users["sales"])
    page = client.get(reverse("contracts:update", args=[contract.pk]))
    assert 'data-testid="facts-frozen-note"' not in page.content.decode()
    assert not page.context["form"].fields["amount"].disabled
    response = client.post(reverse("contracts:update", args=[contract.pk]),
                           form_data(contract, open_ended="on", expiry_date="2027-12-31"))
    assert response.status_code == 400
    assert 'data-testid="error-expiry_date"' in response.content.decode()
    response = client.post(reverse("contracts:update", args=[contract.pk]),
                           form_data(contract, amount="0", no_amount_reason="框架协议", open_ended="on",
                                     expiry_date=""))
    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.open_ended, contract.expiry_date, contract.no_amount_reason) == (True, None, "框架协议")
    detail = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="contract-no-amount-reason"' in detail and "框架协议" in detail
    assert 'data-testid="review-gaps"' not in detail


def _hx_post(client, contract, name, data=None):
    payload = {f"{name}-version": contract.version, **{f"{name}-{k}": v for k, v in (data or {}).items()}}
    return client.post(reverse("contracts:transition", args=[contract.pk, name]), payload, HTTP_HX_REQUEST="true")


def test_status_panel_lists_missing_facts_and_submit_refuses(client, users):
    contract = make_contract(users["sales"], amount=Decimal("0"), expiry_date=None)
    client.force_login(users["sales"])
    detail = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="review-gaps"' in detail and detail.count('data-testid="review-gap"') == 2
    response = _hx_post(client, contract, "submit")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="status-error"' in body and 'data-testid="review-gaps"' in body
    contract.refresh_from_db()
    assert contract.status == Status.DRAFT


def test_early_activation_through_the_page(client, users):
    contract = signed_starting_in(users, 5)
    client.force_login(users["sales"])
    detail = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'name="activate-confirm_early"' in detail and contract.effective_date.isoformat() in detail
    refused = _hx_post(client, contract, "activate")
    assert 'data-testid="error-confirm_early"' in refused.content.decode()
    contract.refresh_from_db()
    assert contract.status == Status.SIGNED
    done = _hx_post(client, contract, "activate", {"confirm_early": "on"})
    assert 'data-status="active"' in done.content.decode()


def test_activation_on_time_shows_no_confirmation(client, users):
    contract = signed_starting_in(users, -1)
    client.force_login(users["sales"])
    detail = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="transition-activate"' in detail and "confirm_early" not in detail


# --- API ---------------------------------------------------------------------------------------

def test_api_patch_of_a_frozen_fact_is_409(users):
    contract = contract_in(users, Status.ACTIVE, amount=Decimal("1280000.00"))
    client = api(users["sales"])
    body = client.get(url(contract)).json()
    assert body["facts_frozen"] is True and body["review_gaps"] == {}
    response = client.patch(url(contract), {"amount": "999", "version": contract.version}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "facts_frozen" and response.json()["field_codes"] == {
        "amount": ["facts_frozen"]}
    ok = client.patch(url(contract), {"tags": ["交接"], "version": contract.version}, format="json")
    assert ok.status_code == 200 and ok.json()["tags"] == ["交接"]
    contract.refresh_from_db()
    assert contract.amount == Decimal("1280000.00")


def test_api_put_with_the_same_facts_passes(users):
    contract = contract_in(users, Status.IN_REVIEW)
    client = api(users["sales"])
    body = client.get(url(contract)).json()
    payload = {k: body[k] for k in ("title", "customer", "amount", "currency", "tax_rate", "effective_date",
                                    "expiry_date", "nature", "subject_matter", "signing_form", "open_ended",
                                    "no_amount_reason")}
    response = client.put(url(contract), {**payload, "description": "备注", "version": body["version"]},
                          format="json")
    assert response.status_code == 200, response.json()
    response = client.put(url(contract), {**payload, "amount": "1.00", "version": body["version"] + 1},
                          format="json")
    assert response.status_code == 409 and response.json()["code"] == "facts_frozen"


def test_api_submit_reports_missing_facts(users):
    contract = make_contract(users["sales"], amount=Decimal("0"), effective_date=None)
    client = api(users["sales"])
    assert set(client.get(url(contract)).json()["review_gaps"]) == {"amount", "effective_date"}
    response = client.post(url(contract, "submit"), {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "incomplete_for_review"
    assert set(response.json()["field_codes"]) == {"amount", "effective_date"}
    fixed = client.patch(url(contract), {"no_amount_reason": "免费试用", "effective_date": "2026-03-01",
                                         "version": 1}, format="json")
    assert fixed.status_code == 200 and fixed.json()["review_gaps"] == {}
    assert client.post(url(contract, "submit"), {}, format="json").json()["status"] == "in_review"


def test_api_create_open_ended(users):
    customer = make_customer(users["sales"])
    response = api(users["sales"]).post("/api/v1/contracts/", {
        "title": "长期合作", "customer": customer.pk, "amount": "0", "no_amount_reason": "框架协议",
        "effective_date": "2026-01-01", "open_ended": True}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["open_ended"], body["expiry_date"], body["no_amount_reason"]) == (True, None, "框架协议")
    assert body["review_gaps"] == {} and body["facts_frozen"] is False


@pytest.mark.parametrize(("payload", "field", "code"), [
    ({"open_ended": "maybe"}, "open_ended", "invalid"),
    ({"open_ended": [True]}, "open_ended", "invalid"),
    ({"no_amount_reason": "长" * 501}, "no_amount_reason", "max_length"),
    ({"no_amount_reason": {"a": 1}}, "no_amount_reason", "invalid"),
    ({"amount": "1e20"}, "amount", "max_digits"),
    ({"amount": "99999999999999999999999"}, "amount", "max_digits"),
    ({"open_ended": True, "expiry_date": "2027-01-01"}, "expiry_date", "open_ended_with_expiry"),
    ({"amount": "5", "no_amount_reason": "免费"}, "no_amount_reason", "reason_with_amount"),
])
def test_api_hostile_contract_input(users, payload, field, code):
    contract = make_contract(users["sales"])
    response = api(users["sales"]).patch(url(contract), {**payload, "version": 1}, format="json")
    assert response.status_code == 400, response.json()
    assert code in response.json()["field_codes"][field]
    contract.refresh_from_db()
    assert contract.version == 1


def test_api_early_activation_needs_the_flag(users):
    contract = signed_starting_in(users, 30)
    client = api(users["sales"])
    refused = client.post(url(contract, "activate"), {}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "before_effective_date"
    assert refused.json()["field_codes"] == {"confirm_early": ["before_effective_date"]}
    assert client.post(url(contract, "activate"), {"confirm_early": False}, format="json").status_code == 409
    for bad in ("maybe", [True], {"x": 1}, 2):
        response = client.post(url(contract, "activate"), {"confirm_early": bad}, format="json")
        assert response.status_code == 400 and response.json()["field_codes"] == {"confirm_early": ["invalid"]}
    contract.refresh_from_db()
    assert contract.status == Status.SIGNED
    done = client.post(url(contract, "activate"), {"confirm_early": True, "version": contract.version},
                       format="json")
    assert done.status_code == 200 and done.json()["status"] == "active"
    assert AuditEvent.objects.order_by("-seq").first().changes["activated_early"][1] == \
        contract.effective_date.isoformat()


def test_export_lists_the_new_facts(client, users):
    import csv
    import io

    contract = make_contract(users["sales"], amount=Decimal("0"), no_amount_reason="框架协议",
                                       expiry_date=None, open_ended=True)
    client.force_login(users["sales"])
    response = client.get(reverse("contracts:export"), {"format": "csv"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    row = dict(zip(header, next(r for r in rows if r[0] == contract.number), strict=True))
    assert (row["Reason for no amount"], row["Open-ended"], row["Expiry date"]) == ("框架协议", "Yes", "")
