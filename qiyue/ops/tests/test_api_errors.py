"""Every API error has one shape, {code, message, fields, field_codes}; bad input is a 400 with
a stable field code and saves nothing; malformed JSON is a 400, never a 500."""

import pytest
from rest_framework.test import APIClient

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.models import Contact, Customer
from qiyue.customers.tests.factories import make_credit_code, make_customer

SHAPE = {"code", "message", "fields", "field_codes"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def counts() -> tuple[int, int, int, int]:
    changes = AuditEvent.objects.filter(kind="change")
    return Customer.objects.count(), Contract.objects.count(), Contact.objects.count(), changes.count()


@pytest.fixture
def world(users):
    customer = make_customer(users["sales"], credit_code=make_credit_code())
    contract = make_contract(users["sales"], customer=customer)
    hidden = make_customer(users["sales_b"])
    return {"customer": customer, "contract": contract, "hidden": hidden}


def contract_payload(world, **changes):
    payload = {"title": "设备采购", "customer": world["customer"].pk, "amount": "100.00", "currency": "CNY",
               "effective_date": "2026-01-01", "expiry_date": "2026-12-31"}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not OMIT}


def customer_payload(world, **changes):
    payload = {"name": "广州新辰科技有限公司", "industry": "it"}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not OMIT}


OMIT = object()
BAD_CHECKSUM = "91310000MA1FL0000X"

# (what, endpoint, payload builder, field, expected field code)
BAD_INPUT = [
    ("unknown nature", "contracts", lambda w: contract_payload(w, nature="barter"), "nature",
     "invalid_choice"),
    ("unknown signing form", "contracts", lambda w: contract_payload(w, signing_form="telepathy"),
     "signing_form", "invalid_choice"),
    ("over-long title", "contracts", lambda w: contract_payload(w, title="合" * 201), "title", "max_length"),
    ("over-long description", "contracts", lambda w: contract_payload(w, description="x" * 10001),
     "description", "max_length"),
    ("three decimals", "contracts", lambda w: contract_payload(w, amount="10.123"), "amount",
     "max_decimal_places"),
    ("negative amount", "contracts", lambda w: contract_payload(w, amount="-0.01"), "amount", "min_value"),
    ("malformed amount", "contracts", lambda w: contract_payload(w, amount="1,000"), "amount", "invalid"),
    ("amount too large", "contracts", lambda w: contract_payload(w, amount="1" * 15), "amount",
     "max_whole_digits"),
    ("tax rate over 100", "contracts", lambda w: contract_payload(w, tax_rate="100.01"), "tax_rate",
     "max_value"),
    ("unknown currency", "contracts", lambda w: contract_payload(w, currency="XYZ"), "currency",
     "unknown_currency"),
    ("lower-case currency", "contracts", lambda w: contract_payload(w, currency="cny"), "currency",
     "unknown_currency"),
    ("expiry before effective", "contracts", lambda w: contract_payload(w, expiry_date="2025-12-31"),
     "expiry_date", "expiry_before_effective"),
    ("malformed date", "contracts", lambda w: contract_payload(w, effective_date="2026-02-30"),
     "effective_date", "invalid"),
    ("negative notice period", "contracts", lambda w: contract_payload(w, notice_period_days=-1),
     "notice_period_days", "min_value"),
    ("duplicate number", "contracts", lambda w: contract_payload(w, number=w["contract"].number), "number",
     "unique"),
    ("missing customer", "contracts", lambda w: contract_payload(w, customer=OMIT), "customer", "required"),
    ("null customer", "contracts", lambda w: contract_payload(w, customer=None), "customer", "null"),
    ("unknown customer", "contracts", lambda w: contract_payload(w, customer=999999), "customer",
     "does_not_exist"),
    ("invisible customer", "contracts", lambda w: contract_payload(w, customer=w["hidden"].pk), "customer",
     "does_not_exist"),
    ("customer of wrong type", "contracts", lambda w: contract_payload(w, customer="abc"), "customer",
     "incorrect_type"),
    ("tags not a list", "contracts", lambda w: contract_payload(w, tags={"a": 1}), "tags", "not_a_list"),
    ("bad credit-code checksum", "customers", lambda w: customer_payload(w, credit_code=BAD_CHECKSUM),
     "credit_code", "credit_code_checksum"),
    ("credit code with I/O/S/V/Z", "customers",
     lambda w: customer_payload(w, credit_code="91310000MA1FL0000I"), "credit_code", "credit_code_charset"),
    ("short credit code", "customers", lambda w: customer_payload(w, credit_code="9131"), "credit_code",
     "credit_code_length"),
    ("duplicate credit code", "customers",
     lambda w: customer_payload(w, credit_code=w["customer"].credit_code), "credit_code", "unique"),
    ("unknown industry", "customers", lambda w: customer_payload(w, industry="alchemy"), "industry",
     "invalid_choice"),
    ("unknown level", "customers", lambda w: customer_payload(w, level="vip"), "level", "invalid_choice"),
    ("over-long name", "customers", lambda w: customer_payload(w, name="名" * 201), "name", "max_length"),
    ("over-long notes", "customers", lambda w: customer_payload(w, notes="x" * 5001), "notes", "max_length"),
    ("missing name", "customers", lambda w: customer_payload(w, name=OMIT), "name", "required"),
    ("blank name", "customers", lambda w: customer_payload(w, name=""), "name", "blank"),
    ("not a boolean", "customers", lambda w: customer_payload(w, confirm_duplicate="maybe"),
     "confirm_duplicate", "invalid"),
    ("unknown owner", "customers", lambda w: customer_payload(w, owner=999999), "owner", "does_not_exist"),
    ("contact email", "contacts", lambda w: {"customer": w["customer"].pk, "name": "李", "email": "li@"},
     "email", "invalid"),
    ("over-long contact name", "contacts", lambda w: {"customer": w["customer"].pk, "name": "李" * 101},
     "name", "max_length"),
    ("unknown channel", "communications",
     lambda w: {"customer": w["customer"].pk, "occurred_on": "2026-01-01", "channel": "pigeon",
                "summary": "x"}, "channel", "invalid_choice"),
]


@pytest.mark.parametrize(("what", "endpoint", "build", "field", "code"), BAD_INPUT,
                         ids=[row[0] for row in BAD_INPUT])
def test_bad_input_is_refused_with_field_code(users, world, what, endpoint, build, field, code):
    before = counts()
    response = client_for(users["sales"]).post(f"/api/v1/{endpoint}/", build(world), format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert set(body) == SHAPE
    assert body["code"] == "invalid"
    assert code in body["field_codes"][field], body
    assert body["fields"][field]
    assert counts() == before


@pytest.mark.parametrize(("field", "value", "code"), [
    ("expiry_date", "2025-01-01", "expiry_before_effective"),
    ("amount", "-5", "min_value"),
    ("currency", "ABC", "unknown_currency"),
    ("status", None, None),  # read-only: ignored, not an error
])
def test_bad_update_changes_nothing(users, world, field, value, code):
    contract = world["contract"]
    before = counts()
    response = client_for(users["sales"]).patch(f"/api/v1/contracts/{contract.pk}/",
                                                {field: value, "version": 1}, format="json")
    contract.refresh_from_db()
    if code is None:
        assert response.status_code == 200 and contract.status == "draft"
        return
    assert response.status_code == 400 and code in response.json()["field_codes"][field]
    assert contract.version == 1 and counts() == before


@pytest.mark.parametrize("method, url", [
    ("post", "/api/v1/customers/"),
    ("post", "/api/v1/contracts/"),
    ("post", "/api/v1/contacts/"),
    ("post", "/api/v1/communications/"),
    ("patch", "/api/v1/contracts/{contract}/"),
    ("patch", "/api/v1/customers/{customer}/"),
    ("post", "/api/v1/contracts/{contract}/submit/"),
    ("post", "/api/v1/contracts/{contract}/cancel/"),
])
@pytest.mark.parametrize("body", ['{"title": ', "not json at all", '{"a": 1,}', "\xff\xfe"])
def test_malformed_json_is_parse_error(users, world, method, url, body):
    url = url.format(contract=world["contract"].pk, customer=world["customer"].pk)
    before = counts()
    response = getattr(client_for(users["sales"]), method)(url, body.encode("latin-1"),
                                                           content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == SHAPE
    assert response.json()["code"] == "parse_error"
    assert counts() == before


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"text"', "42", "null"])
def test_json_that_is_not_an_object(users, world, body):
    response = client_for(users["sales"]).post("/api/v1/contracts/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "parse_error"}


def test_unsupported_media_type(users):
    response = client_for(users["sales"]).post("/api/v1/customers/", "name=x", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_not_found_and_method_not_allowed_shape(users):
    client = client_for(users["sales"])
    missing = client.get("/api/v1/contracts/999999/")
    assert missing.status_code == 404 and set(missing.json()) == SHAPE
    assert missing.json()["code"] == "not_found"
    wrong = client.delete("/api/v1/customers/999999/")
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"


def test_service_errors_carry_field_codes(users, world):
    response = client_for(users["sales"]).post(f"/api/v1/contracts/{world['contract'].pk}/cancel/", {},
                                               format="json")
    body = response.json()
    assert body["code"] == "reason_required" and body["field_codes"] == {"reason": ["reason_required"]}
