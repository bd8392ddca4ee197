"""The approval pages: the contract's approval tab and its actions, the inbox, the approval form PDF,
delegations, and the administrators' flow editor, pre-review rules and exchange rates."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import ExchangeRate
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents.models import Document
from qiyue.documents.tests.factories import make_pdf, upload
from qiyue.documents.tests.factories import storage_fixture as storage  # noqa: F401  (the fixture)
from qiyue.workflow import checklist
from qiyue.workflow.models import ApprovalComment, ApprovalFlow, ApprovalTask, PreReviewRule

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def submitted(users):
    contract = make_contract(users["sales"], amount=Decimal("5000.00"), title="审批页面合同")
    return contract_transition(actor=users["sales"], contract=contract, name="submit")


def _task(contract, user):
    return ApprovalTask.objects.get(contract=contract, assignee=user, status="open")


def _decide(client, contract, task, **data):
    payload = {"task": task.pk, "version": task.approval.version, **data}
    return client.post(reverse("workflow:decide", args=[contract.pk]), payload, **HX)


def test_the_approval_tab_shows_progress_and_only_the_approver_decides(client, users, submitted):
    client.force_login(users["sales"])
    html = client.get(reverse("contracts:detail", args=[submitted.pk])).content.decode()
    assert html.count('data-testid="approval-step"') == 3 and 'data-testid="skipped-because"' in html
    assert 'data-testid="my-decision"' not in html and 'data-testid="open-withdraw"' in html
    client.force_login(users["manager"])
    html = client.get(reverse("contracts:detail", args=[submitted.pk])).content.decode()
    assert 'data-testid="my-decision"' in html and 'data-testid="checklist"' not in html
    answer = _decide(client, submitted, _task(submitted, users["manager"]), decision="approve")
    body = answer.content.decode()
    assert answer.status_code == 200 and answer["HX-Retarget"] == "#contract-workspace"
    assert 'id="nav-inbox"' in body and 'hx-swap-oob="true"' in body  # the count in the bar, swapped too
    client.force_login(users["legal"])
    html = client.get(reverse("contracts:detail", args=[submitted.pk])).content.decode()
    assert html.count('data-testid="checklist-') == len(checklist.KEYS)


def test_a_refused_decision_keeps_what_was_entered(client, users, submitted):
    client.force_login(users["manager"])
    _decide(client, submitted, _task(submitted, users["manager"]), decision="approve")
    client.force_login(users["legal"])
    task = _task(submitted, users["legal"])
    marks = {f"check-{key}": "pass" for key in checklist.KEYS} | {"check-compliance": "issue",
                                                                  "note-compliance": "数据出境条款缺失"}
    body = _decide(client, submitted, task, decision="approve", **marks).content.decode()
    assert 'data-testid="decision-error"' in body and "数据出境条款缺失" in body
    assert 'value="issue" required checked' in body
    assert _task(submitted, users["legal"]).status == "open"


def test_someone_elses_task_is_403_and_an_unseen_contract_404(client, users, submitted):
    client.force_login(users["legal"])
    assert _decide(client, submitted, _task(submitted, users["manager"]), decision="approve").status_code == 403
    client.force_login(users["manager_b"])
    assert _decide(client, submitted, _task(submitted, users["manager"]), decision="approve").status_code == 404


@pytest.mark.parametrize("data", [
    {"task": "abc", "decision": "approve"}, {"task": "", "decision": "approve"}, {"task": None, "decision": "approve"},
    {"task": "9" * 40, "decision": "approve"}, {"decision": "x" * 5000}, {"version": "-1", "decision": "approve"},
    {"version": "1e3", "decision": "approve"}, {"decision": "reject", "comment": "x" * 5000},
    {"decision": "return", "comment": "退回", "return_to": "0"},
])
def test_hostile_decisions_change_nothing(client, users, submitted, data):
    client.force_login(users["manager"])
    task = _task(submitted, users["manager"])
    payload = {k: v for k, v in {"task": task.pk, **data}.items() if v is not None}
    response = client.post(reverse("workflow:decide", args=[submitted.pk]), payload, **HX)
    assert response.status_code in (200, 404)  # the error in place, or an unknown task
    assert _task(submitted, users["manager"]).status == "open"


def test_inbox_lists_open_tasks_then_decided_ones(client, users, submitted):
    client.force_login(users["manager"])
    html = client.get(reverse("workflow:inbox")).content.decode()
    assert html.count('data-testid="inbox-row"') == 1 and "审批页面合同" in html
    assert re.search(r'data-testid="inbox-count"[^>]*>1<', html)
    _decide(client, submitted, _task(submitted, users["manager"]), decision="approve")
    assert 'data-testid="inbox-empty"' in client.get(reverse("workflow:inbox")).content.decode()
    decided = client.get(reverse("workflow:inbox") + "?show=decided").content.decode()
    assert decided.count('data-testid="inbox-row"') == 1


def test_inbox_query_count_does_not_grow_with_tasks(client, users, django_assert_max_num_queries):
    for n in range(8):
        contract_transition(actor=users["sales"], contract=make_contract(users["sales"], title=f"批量{n}"),
                            name="submit")
    client.force_login(users["manager"])
    with django_assert_max_num_queries(12):
        assert client.get(reverse("workflow:inbox")).content.decode().count('data-testid="inbox-row"') == 8


def test_withdraw_urge_and_comment_with_an_attachment(client, users, submitted, storage):  # noqa: F811
    client.force_login(users["sales"])
    assert client.post(reverse("workflow:urge", args=[submitted.pk]), **HX).status_code == 200
    again = client.post(reverse("workflow:urge", args=[submitted.pk]), **HX).content.decode()
    assert 'data-testid="decision-error"' in again  # at most once an hour
    client.force_login(users["legal"])
    answer = client.post(reverse("workflow:comment", args=[submitted.pk]),
                         {"text": "请补充附件", "attachment": upload("意见.pdf", make_pdf(), "application/pdf")}, **HX)
    assert answer.status_code == 200
    comment = ApprovalComment.objects.get()
    assert comment.author == users["legal"] and comment.document.contract_id == submitted.pk
    assert Document.objects.filter(contract=submitted).count() == 1
    client.force_login(users["sales"])
    client.post(reverse("workflow:withdraw", args=[submitted.pk]), {"reason": "改价"}, **HX)
    submitted.refresh_from_db()
    assert submitted.status == "draft"


def test_the_approval_form_is_an_a4_pdf_with_every_decision_and_is_audited(client, users, submitted):
    client.force_login(users["manager"])
    _decide(client, submitted, _task(submitted, users["manager"]), decision="approve", comment="同意")
    client.force_login(users["legal"])
    marks = {f"check-{key}": "pass" for key in checklist.KEYS}
    _decide(client, submitted, _task(submitted, users["legal"]), decision="approve", **marks)
    response = client.get(reverse("workflow:approval_form", args=[submitted.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.content))
    width, height = (round(float(v)) for v in pdf.pages[0].mediabox.upper_right)
    assert (width, height) == (595, 842)  # A4 in points
    text = "".join(page.extract_text() for page in pdf.pages)
    assert submitted.number in text and "Legality" in text and "Manager_A" in text
    assert AuditEvent.objects.filter(action="approval.form_printed", target_id=str(submitted.pk)).exists()
    client.force_login(users["sales_b"])
    assert client.get(reverse("workflow:approval_form", args=[submitted.pk])).status_code == 404


def test_reopen_from_the_approval_tab_voids_the_approval(client, users, submitted):
    for user, extra in ((users["manager"], {}), (users["legal"], {f"check-{k}": "pass" for k in checklist.KEYS})):
        client.force_login(user)
        _decide(client, submitted, _task(submitted, user), decision="approve", **extra)
    client.force_login(users["sales"])
    html = client.get(reverse("contracts:detail", args=[submitted.pk])).content.decode()
    assert 'data-testid="open-reopen"' in html
    refused = client.post(reverse("workflow:reopen", args=[submitted.pk]), {"reason": ""}, **HX).content.decode()
    assert 'data-testid="decision-error"' in refused
    client.post(reverse("workflow:reopen", args=[submitted.pk]), {"reason": "客户要求修改付款条件"}, **HX)
    submitted.refresh_from_db()
    assert submitted.status == "draft" and submitted.approvals.get().status == "voided"


def test_delegation_page(client, users):
    today = timezone.localdate()
    client.force_login(users["legal"])
    data = {"delegate": users["finance"].pk, "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=5)).isoformat(), "note": "出差"}
    assert client.post(reverse("workflow:delegation"), data).status_code == 302
    html = client.get(reverse("workflow:delegation")).content.decode()
    assert 'data-testid="delegation-row"' in html and "出差" in html
    bad = client.post(reverse("workflow:delegation"), {**data, "ends_on": "2020-01-01"})
    assert bad.status_code == 200 and 'data-testid="form-errors"' in bad.content.decode()
    row = users["legal"].delegations.get()
    client.force_login(users["sales"])
    assert client.post(reverse("workflow:delegation_end", args=[row.pk])).status_code == 404
    client.force_login(users["legal"])
    assert client.post(reverse("workflow:delegation_end", args=[row.pk])).status_code == 302


# --- Administration -----------------------------------------------------------------------------------

def _flow_post(**overrides):
    data = {
        "name_zh": "大额合同流程", "name_en": "Large contracts", "position": "10", "active": "on",
        "min_amount": "1000000", "steps-TOTAL_FORMS": "2", "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "20",
        "steps-0-name_zh": "总经理审批", "steps-0-mode": "any", "steps-0-roles": ["admin"], "steps-0-ORDER": "1",
        "steps-1-name_zh": "法务会签", "steps-1-mode": "all", "steps-1-review": "legal",
        "steps-1-roles": ["legal"], "steps-1-ORDER": "2", "steps-1-natures": ["lease", "service"],
    }
    data.update(overrides)
    return data


def test_an_administrator_builds_a_flow_in_the_editor(client, users):
    client.force_login(users["admin"])
    assert client.get(reverse("workflow:flow_create")).status_code == 200
    # "Add a step" shows the form again with one more step, saving nothing.
    more = client.post(reverse("workflow:flow_create"), {**_flow_post(), "add_step": "1"})
    assert more.content.decode().count('data-testid="step-form"') == 3
    assert not ApprovalFlow.objects.filter(name_zh="大额合同流程").exists()
    assert client.post(reverse("workflow:flow_create"), _flow_post()).status_code == 302
    flow = ApprovalFlow.objects.get(name_zh="大额合同流程")
    assert flow.conditions == [{"field": "amount_cny", "op": "gte", "value": "1000000"}]
    assert [s["name_zh"] for s in flow.current.steps] == ["总经理审批", "法务会签"]
    assert flow.current.steps[1]["when"] == [{"field": "nature", "op": "in", "value": ["lease", "service"]}]
    # Reordered and one removed: a new version.
    edit = _flow_post(**{"steps-0-ORDER": "2", "steps-1-ORDER": "1", "steps-0-DELETE": "on",
                         "version": str(flow.version)})
    assert client.post(reverse("workflow:flow", args=[flow.pk]), edit).status_code == 302
    flow.refresh_from_db()
    assert [s["name_zh"] for s in flow.current.steps] == ["法务会签"] and flow.current.number == 2
    page = client.get(reverse("workflow:flows")).content.decode()
    assert "Large contracts" in page and "法务会签" in page  # its English name, in English


@pytest.mark.parametrize(("overrides", "error"), [
    ({"steps-0-roles": []}, "approver"),
    ({"steps-1-min_amount": "500", "steps-1-below_amount": "100"}, "never run"),
    ({"name_zh": ""}, "required"),
    ({"steps-0-roles": ["auditor"]}, "valid choice"),
    ({"steps-0-name_zh": "名" * 300}, "at most"),
    ({"steps-TOTAL_FORMS": "5000"}, ""),
])
def test_a_broken_flow_is_refused_on_its_field(client, users, overrides, error):
    client.force_login(users["admin"])
    response = client.post(reverse("workflow:flow_create"), _flow_post(**overrides))
    assert response.status_code == 400
    assert error.lower() in response.content.decode().lower()
    assert not ApprovalFlow.objects.filter(name_zh="大额合同流程").exists()


def test_pre_review_rules_are_edited_as_data(client, users):
    client.force_login(users["admin"])
    rule = PreReviewRule.objects.get(key="risk.late_payment")
    assert rule.key in client.get(reverse("workflow:rules")).content.decode()
    data = {"label_zh": "付款期限过长", "label_en": "Payment too late", "severity": "high", "max_days": "60",
            "patterns": "\n".join(rule.patterns), "position": rule.position, "active": "on"}
    assert client.post(reverse("workflow:rule", args=[rule.pk]), data).status_code == 302
    rule.refresh_from_db()
    assert rule.params == {"max_days": 60} and rule.severity == "high"
    broken = client.post(reverse("workflow:rule", args=[rule.pk]), {**data, "patterns": "(未闭合"})
    assert broken.status_code == 400 and "regular expression" in broken.content.decode()
    new = {"key": "custom.warranty", "kind": "clause", "label_zh": "质保条款", "severity": "medium",
           "patterns": "质保\nwarranty", "position": "50", "active": "on"}
    assert client.post(reverse("workflow:rule_create"), new).status_code == 302
    assert PreReviewRule.objects.get(key="custom.warranty").patterns == ["质保", "warranty"]
    assert client.post(reverse("workflow:rule_create"), new).status_code == 400  # the key exists
    assert AuditEvent.objects.filter(action="prereview_rule.saved").count() == 2


def test_exchange_rates_page(client, users):
    client.force_login(users["admin"])
    assert client.post(reverse("workflow:rates"), {"currency": "USD", "rate": "7.12",
                                                   "valid_from": "2026-01-01"}).status_code == 302
    assert ExchangeRate.objects.get().rate == Decimal("7.120000")
    assert client.post(reverse("workflow:rates"), {"currency": "CNY", "rate": "1",
                                                   "valid_from": "2026-01-01"}).status_code == 400
    assert client.post(reverse("workflow:rates"), {"currency": "USD", "rate": "-3",
                                                   "valid_from": "2026-01-01"}).status_code == 400
    client.force_login(users["legal"])
    assert client.get(reverse("workflow:rates")).status_code == 403
