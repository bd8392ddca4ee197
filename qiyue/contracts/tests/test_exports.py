import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from qiyue.audit.models import AuditEvent
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db

VISIBLE_TO = {
    "admin": {"own", "team", "other"}, "legal": {"own", "team", "other"}, "finance": {"own", "team", "other"},
    "auditor": {"own", "team", "other"}, "manager": {"own", "team"}, "sales": {"own", "team"},
    "sales2": {"own", "team"}, "sales_b": {"other"}, "manager_b": {"other"},
}


@pytest.fixture
def three_contracts(users):
    return {
        "own": make_contract(users["sales"], title="自有合同", amount=Decimal("1234.56")),
        "team": make_contract(users["sales2"], title="同组合同"),
        "other": make_contract(users["sales_b"], title="他组合同"),
    }


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment;" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    return list(workbook.worksheets[0].iter_rows(values_only=True))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())  # BOM, so Excel reads UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.mark.parametrize("role", sorted(VISIBLE_TO))
def test_export_holds_only_visible_contracts(client, users, three_contracts, role):
    client.force_login(users[role])
    expected = {three_contracts[key].number for key in VISIBLE_TO[role]}
    rows = xlsx_rows(client.get(reverse("contracts:export"), {"format": "xlsx"}))
    assert {row[0] for row in rows[1:]} == expected
    rows = csv_rows(client.get(reverse("contracts:export"), {"format": "csv"}))
    assert {row[0] for row in rows[1:]} == expected


def test_xlsx_columns_and_values(client, users, three_contracts):
    client.force_login(users["sales"])
    rows = xlsx_rows(client.get(reverse("contracts:export"), {"format": "xlsx", "q": "自有"}))
    header, *body = rows
    assert header[:4] == ("Contract number", "Title", "Customer", "Status")
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    contract = three_contracts["own"]
    assert row["Contract number"] == contract.number and row["Title"] == "自有合同"
    assert row["Customer"] == contract.customer.name and row["Status"] == "Draft"
    assert Decimal(str(row["Amount"])) == Decimal("1234.56") and row["Currency"] == "CNY"
    assert row["Expiry date"].date().isoformat() == "2027-12-31"


def test_export_follows_filters_and_is_audited(client, users, three_contracts):
    contract_transition(actor=users["sales"], contract=three_contracts["own"], name="submit")
    client.force_login(users["admin"])
    rows = xlsx_rows(client.get(reverse("contracts:export"), {"format": "xlsx", "status": "in_review"}))
    assert [row[0] for row in rows[1:]] == [three_contracts["own"].number]
    event = AuditEvent.objects.filter(action="contract.exported").latest("seq")
    assert event.kind == "access" and event.actor_id == users["admin"].pk
    assert event.target_label == "1 contracts: status=in_review"
    # Another team's contract never appears, whatever the filter asks for.
    client.force_login(users["sales"])
    rows = csv_rows(client.get(reverse("contracts:export"),
                               {"format": "csv", "team": users["sales_b"].team_id}))
    assert rows[1:] == []
    # Naming a customer the user may not see is refused as unknown (nothing exported, nothing audited).
    refused = client.get(reverse("contracts:export"),
                         {"format": "csv", "customer": three_contracts["other"].customer_id})
    assert refused.status_code == 400
    assert AuditEvent.objects.filter(action="contract.exported").count() == 2


def test_csv_keeps_chinese_and_neutralises_formulas(client, users):
    make_contract(users["sales"], title="=HYPERLINK(\"http://evil\")", tags="华东,重点")
    client.force_login(users["sales"])
    header, row = csv_rows(client.get(reverse("contracts:export"), {"format": "csv"}))
    values = dict(zip(header, row, strict=True))
    assert values["Title"] == "'=HYPERLINK(\"http://evil\")"
    assert values["Tags"] == "华东, 重点"
    rows = xlsx_rows(client.get(reverse("contracts:export"), {"format": "xlsx"}))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil\")"


def test_export_bad_format_and_anonymous(client, users, three_contracts):
    assert client.get(reverse("contracts:export"), {"format": "xlsx"}).status_code == 302
    client.force_login(users["sales"])
    assert client.get(reverse("contracts:export"), {"format": "pdf"}).status_code == 400
    assert not AuditEvent.objects.filter(action="contract.exported").exists()
