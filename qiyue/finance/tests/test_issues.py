"""Issues and risks on a contract: noted, changed, resolved and reopened through the services, the
execution tab's dialogs and the API; who may do what; hostile input answered by field; audited."""

import datetime

import pytest
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.core.errors import ApplicationError
from qiyue.finance import services
from qiyue.finance.models import ContractIssue
from qiyue.finance.tests.factories import signed_contract
from qiyue.finance.tests.test_api import client_for, code, conforms, schema  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def contract(users):
    return signed_contract(users["sales"], amount="100000.00")


def error_of(call, **kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        call(**kwargs)
    return caught.value


def note(users, contract, who="sales", **data):
    return services.issue_create(actor=users[who], contract=contract, data={"title": "客户验收延迟", **data})


def test_an_issue_is_noted_changed_resolved_and_reopened_with_its_history(users, contract):
    issue = note(users, contract, severity="high", kind="risk", owner=users["legal"].pk, due_date="2026-05-01")
    assert (issue.kind, issue.severity, issue.owner, issue.status) == ("risk", "high", users["legal"], "open")
    issue = services.issue_update(actor=users["sales"], issue=issue, data={"severity": "low"},
                                  expected_version=issue.version)
    assert issue.severity == "low" and issue.version == 2
    # Its owner resolves it (and may not change it).
    assert error_of(services.issue_update, actor=users["legal"], issue=issue, data={"title": "x"},
                    expected_version=issue.version).code == "permission_denied"
    assert "resolution" in error_of(services.issue_resolve, actor=users["legal"], issue=issue,
                                    resolution=" ").fields
    issue = services.issue_resolve(actor=users["legal"], issue=issue, resolution="客户已签验收单")
    assert issue.status == "resolved" and issue.resolved_on is not None
    assert error_of(services.issue_resolve, actor=users["legal"], issue=issue, resolution="x").code == "issue_state"
    issue = services.issue_reopen(actor=users["sales"], issue=issue)
    assert issue.status == "open" and issue.resolved_on is None
    assert list(AuditEvent.objects.filter(target_type="finance.contractissue").order_by("id")
                .values_list("action", flat=True)) == ["issue.created", "issue.updated", "issue.resolved",
                                                         "issue.reopened"]


@pytest.mark.parametrize(("data", "field"), [
    ({"title": ""}, "title"), ({"title": "x" * 301}, "title"), ({"kind": "rumour"}, "kind"),
    ({"severity": "extreme"}, "severity"), ({"owner": "abc"}, "owner"), ({"owner": 10**20}, "owner"),
    ({"due_date": "someday"}, "due_date"), ({"description": "x" * 2001}, "description"),
])
def test_bad_input_is_refused_by_field(users, contract, data, field):
    assert field in error_of(services.issue_create, actor=users["sales"], contract=contract,
                             data={"title": "t", **data}).fields
    assert ContractIssue.objects.count() == 0


def test_an_owner_who_cannot_see_the_contract_and_other_teams_are_refused(users, contract):
    assert "owner" in error_of(note, users=users, contract=contract, owner=users["sales_b"].pk).fields
    assert error_of(note, users=users, contract=contract, who="legal").code == "permission_denied"
    assert error_of(note, users=users, contract=contract, who="sales_b").code in ("permission_denied", "not_found")
    issue = note(users, contract)
    assert error_of(services.issue_update, actor=users["sales"], issue=issue, data={"title": "y"},
                    expected_version=9).code == "stale_version"


def test_the_execution_tab_notes_and_resolves_an_issue(client, users, contract):
    client.force_login(users["sales"])
    html = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="issues-none"' in html and 'data-testid="open-issue"' in html
    response = client.post(reverse("finance:issue_create", args=[contract.pk]), {
        "kind": "issue", "title": "到货延迟两周", "severity": "high", "owner": "", "due_date": ""}, **HX)
    html = response.content.decode()
    assert 'data-testid="issue"' in html and 'data-severity="high"' in html and 'data-testid="open-issues"' in html
    issue = ContractIssue.objects.get()
    refused = client.post(reverse("finance:issue_resolve", args=[contract.pk, issue.pk]), {"resolution": ""}, **HX)
    assert f'id="dialog-issue-resolve-{issue.pk}"' in refused.content.decode()
    client.post(reverse("finance:issue_resolve", args=[contract.pk, issue.pk]), {"resolution": "供应商已补货"}, **HX)
    issue.refresh_from_db()
    assert issue.status == "resolved"
    client.force_login(users["legal"])
    assert client.post(reverse("finance:issue_reopen", args=[contract.pk, issue.pk]), **HX).status_code == 403
    client.force_login(users["sales_b"])
    assert client.post(reverse("finance:issue_reopen", args=[contract.pk, issue.pk])).status_code == 404


def test_the_api(users, contract, schema):  # noqa: F811
    sales = client_for(users["sales"])
    url = f"/api/v1/contracts/{contract.pk}/issues/"
    created = sales.post(url, {"title": "付款可能延迟", "kind": "risk", "severity": "medium"}, format="json")
    assert created.status_code == 201
    body = conforms(schema, created, "/api/v1/contracts/{id}/issues/", "post")
    assert conforms(schema, sales.get(url), "/api/v1/contracts/{id}/issues/")[0]["id"] == body["id"]
    patched = sales.patch(f"/api/v1/issues/{body['id']}/", {"severity": "high", "version": body["version"]},
                          format="json")
    assert conforms(schema, patched, "/api/v1/issues/{id}/", "patch")["severity"] == "high"
    assert sales.patch(f"/api/v1/issues/{body['id']}/", {"severity": "high"}, format="json").status_code == 400
    resolved = sales.post(f"/api/v1/issues/{body['id']}/resolve/", {"resolution": "客户已付款"}, format="json")
    assert conforms(schema, resolved, "/api/v1/issues/{id}/resolve/", "post")["status"] == "resolved"
    assert code(sales.post(f"/api/v1/issues/{body['id']}/resolve/", {"resolution": "x"}, format="json")) == \
        "issue_state"
    for bad, field in (({"title": ["x"]}, "title"), ({"title": "t", "severity": "x"}, "severity"),
                       ({"title": "t", "owner": "me"}, "owner"), ({}, "title")):
        response = sales.post(url, bad, format="json")
        assert response.status_code == 400 and field in response.json()["fields"], bad
    other = client_for(users["sales_b"])
    assert other.get(url).status_code == 404 and other.get(f"/api/v1/issues/{body['id']}/").status_code == 404
    assert datetime.date.fromisoformat(resolved.json()["resolved_on"])
