import csv
import io
import json
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qiyue.audit.chain import verify
from qiyue.audit.models import AuditEvent
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.mark.parametrize("role,status", [
    ("admin", 200), ("auditor", 200), ("manager", 403), ("sales", 403), ("legal", 403), ("finance", 403),
])
def test_only_admin_and_auditor_read_the_log(client, users, role, status):
    client.force_login(users[role])
    assert client.get(reverse("audit:list")).status_code == status
    assert client.get(reverse("audit:export")).status_code == status


def test_anonymous_is_sent_to_login(client):
    assert client.get(reverse("audit:list")).status_code == 302
    assert client.get(reverse("audit:export")).status_code == 302


def test_list_shows_events_with_labels_and_changes(client, users):
    contract = make_contract(users["sales"], title="年度设备采购合同")
    contract_transition(actor=users["sales"], contract=contract, name="submit")
    client.force_login(users["auditor"])

    response = client.get(reverse("audit:list"), {"action": "contract.submit"})

    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["nav"] == "audit"
    events = list(response.context["events"])
    assert [e.action for e in events] == ["contract.submit"]
    assert "submitted for review" in html and "<code class=\"small\">contract.submit</code>" in html
    assert "Sales_A" in html and "Sales" in html  # actor name and role
    assert "Draft → In review" in html  # choice values shown with their labels
    assert contract.number in html  # object label


def test_filters(client, users):
    customer = make_customer(users["sales"], name="上海明德精密机械有限公司")
    contract = make_contract(users["sales_b"])
    client.force_login(users["admin"])
    client.get(reverse("audit:list"))  # viewing the log is logged too, as an access event

    def actions(**params):
        return [e.action for e in client.get(reverse("audit:list"), params).context["events"]]

    assert actions(actor_name="sales_b") == ["contract.created", "customer.created"]
    assert actions(target_type="customers.customer", target_id=str(customer.pk)) == ["customer.created"]
    assert set(actions(action="contract.")) == {"contract.created"}
    assert set(actions(kind="access")) == {"audit.viewed"}
    assert len(actions(date_from="2000-01-01", date_to="2999-12-31")) == AuditEvent.objects.count()
    assert actions(date_to="2000-01-01") == []
    assert contract.pk


def test_bad_filter_shows_errors_not_500(client, users):
    client.force_login(users["auditor"])
    response = client.get(reverse("audit:list"), {"date_from": "not-a-date", "kind": "nonsense"})
    assert response.status_code == 200
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert list(response.context["events"]) == []
    assert client.get(reverse("audit:export"), {"date_from": "x"}).status_code == 400


def test_htmx_request_renders_only_the_table(client, users):
    make_customer(users["sales"])
    client.force_login(users["auditor"])
    response = client.get(reverse("audit:list"), {"kind": "change"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="audit-table"' in html
    assert "<html" not in html and 'data-testid="audit-filters"' not in html
    assert "HX-Request" in response["Vary"]
    full = client.get(reverse("audit:list")).content.decode()
    assert "<html" in full and 'data-testid="audit-filters"' in full


def test_pagination_and_constant_query_count(client, users):
    client.force_login(users["auditor"])
    make_customer(users["sales"])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("audit:list"))
    for _ in range(30):
        make_contract(users["sales"])  # two events each (customer, contract)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("audit:list"))
    assert len(many) == len(few)
    assert len(response.context["events"]) == 50
    assert response.context["page"].paginator.num_pages == 2
    assert "page=2" in response.content.decode()
    second = client.get(reverse("audit:list"), {"page": 2})
    assert len(second.context["events"]) == AuditEvent.objects.count() - 50


def test_export_streams_filtered_csv_and_is_itself_audited(client, users):
    make_customer(users["sales"], name="杭州云栖数智科技有限公司", notes="=HYPERLINK(\"x\")")
    make_contract(users["sales_b"])
    client.force_login(users["auditor"])
    before = AuditEvent.objects.count()

    response = client.get(reverse("audit:export"), {"target_type": "customers.customer"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Sequence", "Time", "Kind", "Action"]
    assert "Changes" in header and "IP address" in header and "Request id" in header
    assert {r[header.index("Object type")] for r in body} == {"customers.customer"}
    assert len(body) == 2  # both customers (one made by make_contract), not the contracts
    row = next(r for r in body if "杭州云栖" in r[header.index("Object")])
    changes = json.loads(row[header.index("Changes")])
    assert changes["name"] == [None, "杭州云栖数智科技有限公司"]
    assert changes["notes"][1].startswith("=HYPERLINK")  # inside JSON, so harmless to a spreadsheet

    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "audit.exported"
    assert event.kind == AuditEvent.Kind.ACCESS
    assert event.target_type == "audit.auditevent"
    assert event.target_label == "target_type=customers.customer"
    assert event.actor_id == users["auditor"].pk
    assert verify(AuditEvent.objects.all()).ok


def test_export_cells_cannot_become_formulas(client, users):
    make_customer(users["sales"], name="=cmd|' /C calc'!A0 有限公司")
    client.force_login(users["admin"])
    rows = _csv(client.get(reverse("audit:export"), {"action": "customer.created"}))
    labels = [r[rows[0].index("Object")] for r in rows[1:]]
    assert labels == ["'=cmd|' /C calc'!A0 有限公司"]


def test_export_without_filters_is_labelled_all(client, users):
    client.force_login(users["admin"])
    rows = _csv(client.get(reverse("audit:export")))
    assert len(rows) >= 2  # header and at least the export's own event
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.target_label) == ("audit.exported", "all")
    assert rows[-1][rows[0].index("Action")] == "audit.exported"


def test_a_created_value_shows_alone_and_long_values_are_cut(client, users):
    make_contract(users["sales"], title="长" * 100)
    client.force_login(users["auditor"])
    html = client.get(reverse("audit:list"), {"action": "contract.created"}).content.decode()
    assert "— → " + "长" * 79 not in html
    assert "</span> " + "长" * 79 + "…</li>" in html  # a created value alone, cut to 80 characters


def test_the_page_and_the_export_are_logged_and_show_the_new_fields(client, users):
    client.force_login(users["auditor"])
    response = client.get(reverse("audit:list"), {"kind": "access"}, HTTP_USER_AGENT="Firefox/140 \x1b[2J")
    read = AuditEvent.objects.get(action="audit.viewed")
    assert (read.actor_id, read.target_label, read.user_agent, read.outcome) == (
        users["auditor"].pk, "kind=access", "Firefox/140 \\x1b[2J", "success")
    assert read.request_id == response["X-Request-ID"]
    html = response.content.decode()
    assert 'data-testid="audit-user-agent"' in html and "Firefox/140 \\x1b[2J" in html
    export = client.get(reverse("audit:export"), HTTP_X_REQUEST_ID="job-9")
    rows = _csv(export)
    header = rows[0]
    assert header[-6:] == ["Request id", "Client request id", "User agent", "Outcome", "Chain version", "Chain MAC"]
    exported = AuditEvent.objects.get(action="audit.exported")
    assert exported.correlation_id == "job-9"
    by_seq = {row[0]: row for row in rows[1:]}
    assert by_seq[str(read.seq)][-4:-1] == ["Firefox/140 \\x1b[2J", "success", "2"]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", {"Contract", "Customer", "Contact", "Document", "User", "Team", "Request", "Audit event"}),
    ("zh-hans", {"合同", "客户", "联系人", "文档", "用户", "团队", "审计事件"}),
])
def test_the_object_type_filter_offers_what_events_are_about_by_name(client, users, language, expected):
    """Not every model: internal ones (a contract's statistics, a document's text, the search index)
    are never the object of an event, and their names were untranslated."""
    client.force_login(users["admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("audit:list")).content.decode()
    select = re.search(r'<select[^>]*name="target_type"[^>]*>(.*?)</select>', html, re.S).group(1)
    options = dict((value, label.strip()) for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', select))
    labels = set(options.values())
    assert expected <= labels, labels
    assert not {"contracts.contractstat", "documents.documenttext", "search.searchentry"} & set(options)
    assert not [label for label in labels if label.islower() and label.isascii()], labels  # no raw model names
    assert options["contracts.contract"] == ("Contract" if language == "en" else "合同")
