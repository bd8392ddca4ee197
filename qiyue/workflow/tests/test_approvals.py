"""Approvals through the services: the flow chosen by rules and conditions, steps skipped with their
reason, all-of and any-of, reject, return, transfer, adding approvers, withdraw, urge, delegation,
self-approval refused, stale pages, versions kept, terms locked after approval, notices after commit."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from qiyue.accounts.models import Delegation
from qiyue.accounts.services import delegation_create, delegation_end
from qiyue.accounts.tests.factories import make_user
from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import ExchangeRate
from qiyue.contracts.services import contract_transition, contract_update
from qiyue.contracts.tests.factories import make_contract
from qiyue.core.errors import ApplicationError
from qiyue.customers.tests.factories import make_customer
from qiyue.documents.tests.factories import storage_fixture as storage  # noqa: F401  (the fixture)
from qiyue.notifications.models import Notification
from qiyue.workflow import checklist
from qiyue.workflow.models import Approval, ApprovalFlow, ApprovalTask
from qiyue.workflow.services import (
    approval_add_approver,
    approval_decide,
    approval_reopen,
    approval_transfer,
    approval_urge,
    approval_withdraw,
    exchange_rate_save,
    flow_save,
)
from qiyue.workflow.tests.factories import make_flow, step

pytestmark = pytest.mark.django_db

ALL_PASS = {key: {"mark": "pass", "note": ""} for key in checklist.KEYS}


def _submit(actor, contract):
    return contract_transition(actor=actor, contract=contract, name="submit")


def _open(contract, user=None):
    rows = ApprovalTask.objects.filter(contract=contract, status="open")
    if user is not None:
        rows = rows.filter(assignee=user)
    return list(rows.order_by("id"))


def _approval(contract) -> Approval:
    return Approval.objects.filter(contract=contract).order_by("-id").first()


def _decide(user, contract, decision="approve", **kwargs):
    (task,) = _open(contract, user)
    return approval_decide(actor=user, contract=contract, task_id=task.pk, decision=decision, **kwargs)


def _code(call) -> str:
    with pytest.raises(ApplicationError) as exc:
        call()
    return exc.value.code


# --- The default flow, end to end ------------------------------------------------------------------

def test_the_default_flow_runs_manager_legal_finance_and_approves(users, django_capture_on_commit_callbacks):
    contract = make_contract(users["sales"])  # 100,000 CNY: finance reviews too
    with django_capture_on_commit_callbacks(execute=True):
        _submit(users["sales"], contract)
    approval = _approval(contract)
    assert [s.status for s in approval.steps.all()] == ["active", "upcoming", "upcoming"]
    assert [t.assignee for t in _open(contract)] == [users["manager"]]
    assert Notification.objects.filter(recipient=users["manager"], kind="approval.task").count() == 1
    _decide(users["manager"], contract)
    assert [t.assignee for t in _open(contract)] == [users["legal"]]
    # Legal's step has the checklist: without it, or with an issue and no comment, it is refused.
    assert _code(lambda: _decide(users["legal"], contract)) == "checklist_incomplete"
    issue = {**ALL_PASS, "compliance": {"mark": "issue", "note": "需补充合规审查"}}
    assert _code(lambda: _decide(users["legal"], contract, checklist_data=issue)) == "checklist_incomplete"
    _decide(users["legal"], contract, checklist_data=issue, comment="风险可控，同意")
    with django_capture_on_commit_callbacks(execute=True):
        _decide(users["finance"], contract, checklist_data=ALL_PASS)
    contract.refresh_from_db()
    approval.refresh_from_db()
    assert contract.status == "approved" and approval.status == "approved"
    legal_task = ApprovalTask.objects.get(contract=contract, assignee=users["legal"])
    assert legal_task.checklist["compliance"] == {"mark": "issue", "note": "需补充合规审查"}
    assert Notification.objects.filter(recipient=users["sales"], kind="approval.approved").exists()
    actions = list(AuditEvent.objects.filter(target_id=str(contract.pk)).values_list("action", flat=True))
    assert actions.count("approval.task_approved") == 3 and "approval.completed" in actions
    assert "contract.approve" in actions


def test_a_small_contract_skips_finance_and_says_why(users):
    contract = make_contract(users["sales"], amount=Decimal("5000.00"))
    _submit(users["sales"], contract)
    finance = _approval(contract).steps.get(index=2)
    assert finance.status == "skipped"
    assert finance.skipped_because == {"field": "amount_cny", "op": "gte", "value": "100000"}


def test_the_old_approve_transition_is_gone(users):
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    assert _code(lambda: contract_transition(actor=users["admin"], contract=contract, name="approve")) == \
        "illegal_transition"
    assert _code(lambda: contract_transition(actor=users["manager"], contract=contract, name="return",
                                             reason="x")) == "illegal_transition"


# --- Choosing the flow ----------------------------------------------------------------------------

def test_rules_choose_the_flow_by_priority_and_conditions(users):
    admin = users["admin"]
    big = make_flow(admin, [step("总经理审批", users["admin"].pk)], name="大额合同", position=10,
                    conditions=[{"field": "amount_cny", "op": "gte", "value": "1000000"}])
    lease = make_flow(admin, [step("法务审核", "legal")], name="租赁合同", position=20,
                      conditions=[{"field": "nature", "op": "in", "value": ["lease"]}])
    strategic = make_flow(admin, [step("主管审批", "team_manager")], name="战略客户", position=30,
                          conditions=[{"field": "customer_level", "op": "in", "value": ["strategic"]}])
    cases = [
        (make_contract(users["sales"], amount=Decimal("2000000")), big),
        (make_contract(users["sales"], amount=Decimal("2000000"), nature="lease"), big),  # priority
        (make_contract(users["sales"], amount=Decimal("50000"), nature="lease"), lease),
        (make_contract(users["sales"], customer=make_customer(users["sales"], level="strategic")), strategic),
        (make_contract(users["sales"], amount=Decimal("50000")), ApprovalFlow.objects.get(is_default=True)),
    ]
    for contract, flow in cases:
        _submit(users["sales"], contract)
        assert _approval(contract).flow_version.flow == flow, contract.title


def test_amounts_in_other_currencies_are_compared_in_cny_at_the_rate(users):
    make_flow(users["admin"], [step("总经理审批", users["admin"].pk)], name="大额", position=10,
              conditions=[{"field": "amount_cny", "op": "gte", "value": "1000000"}])
    no_rate = make_contract(users["sales"], amount=Decimal("200000"), currency="USD")
    _submit(users["sales"], no_rate)
    # Without a rate the amount is unknown: the condition counts as met (no review is skipped).
    assert _approval(no_rate).flow_version.flow.name_zh == "大额"
    assert any(f["rule"] == "fact.currency_without_rate" for f in _approval(no_rate).prereview.findings)
    exchange_rate_save(actor=users["admin"], data={"currency": "USD", "rate": "7.1",
                                                   "valid_from": datetime.date(2026, 1, 1)})
    small = make_contract(users["sales"], amount=Decimal("100000"), currency="USD")  # 710,000 CNY
    _submit(users["sales"], small)
    assert _approval(small).flow_version.flow.is_default
    big = make_contract(users["sales"], amount=Decimal("150000"), currency="USD")  # 1,065,000 CNY
    _submit(users["sales"], big)
    assert _approval(big).flow_version.flow.name_zh == "大额"
    assert ExchangeRate.objects.count() == 1


def test_a_step_can_depend_on_the_pre_review_risk_and_on_being_a_supplement(users):
    make_flow(users["admin"], [
        step("主管审批", "team_manager"),
        step("风控复核", "legal", when=[{"field": "risk_level", "op": "gte", "value": "medium"}]),
        step("补充协议复核", "finance", when=[{"field": "supplement", "op": "is", "value": True}]),
    ], default=True)
    # Automatic renewal without a notice period is a medium finding of the pre-review.
    risky = make_contract(users["sales"], amount=Decimal("5000"), auto_renewal=True, notice_period_days=0)
    _submit(users["sales"], risky)
    assert _approval(risky).risk_level in ("medium", "high")
    assert {s.name_zh: s.status for s in _approval(risky).steps.all()} == {
        "主管审批": "active", "风控复核": "upcoming", "补充协议复核": "skipped"}
    framework = make_contract(users["sales"], amount=Decimal("0"), no_amount_reason="框架协议")
    supplement = make_contract(users["sales"], customer=framework.customer, parent=framework,
                               amount=Decimal("5000"), auto_renewal=False)
    _submit(users["sales"], supplement)
    steps = {s.name_zh: s for s in _approval(supplement).steps.all()}
    assert steps["补充协议复核"].status == "upcoming"
    if _approval(supplement).risk_level not in ("medium", "high"):
        assert steps["风控复核"].skipped_because == {"field": "risk_level", "op": "gte", "value": "medium"}


def test_no_flow_and_no_approver_are_refused_with_their_codes(users):
    ApprovalFlow.objects.update(active=False, is_default=False)
    contract = make_contract(users["sales"])
    assert _code(lambda: _submit(users["sales"], contract)) == "no_flow"
    contract.refresh_from_db()
    assert contract.status == "draft" and not Approval.objects.exists()


# --- Who decides ------------------------------------------------------------------------------------

def test_nobody_approves_a_contract_they_own_or_submitted(users):
    # The manager owns it: the team-manager step has nobody left, so the administrators decide.
    contract = make_contract(users["manager"], amount=Decimal("5000"))
    _submit(users["manager"], contract)
    step0 = _approval(contract).steps.get(index=0)
    assert step0.fallback
    assert [t.assignee for t in _open(contract)] == [users["admin"]]
    assert not ApprovalTask.objects.filter(contract=contract, assignee=users["manager"]).exists()
    # The submitter (a manager submitting a sales person's contract) is left out too.
    other = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["manager"], other)
    assert [t.assignee for t in _open(other)] == [users["admin"]]


def test_all_of_needs_everyone_and_any_of_the_first(users):
    legal2 = make_user("legal", username="legal2")
    make_flow(users["admin"], [step("法务会签", "legal", mode="all"), step("财务或签", "finance", "admin")],
              default=True)
    contract = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["sales"], contract)
    assert {t.assignee for t in _open(contract)} == {users["legal"], legal2}
    _decide(users["legal"], contract)
    assert [t.assignee for t in _open(contract)] == [legal2]
    _decide(legal2, contract)
    assert {t.assignee for t in _open(contract)} == {users["finance"], users["admin"]}
    _decide(users["finance"], contract)
    contract.refresh_from_db()
    assert contract.status == "approved"
    assert ApprovalTask.objects.get(contract=contract, assignee=users["admin"]).status == "cancelled"


def test_reject_needs_a_reason_and_returns_the_contract_to_draft(users, django_capture_on_commit_callbacks):
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    assert _code(lambda: _decide(users["manager"], contract, "reject")) == "reason_required"
    with django_capture_on_commit_callbacks(execute=True):
        _decide(users["manager"], contract, "reject", comment="价格条款需重新谈判")
    contract.refresh_from_db()
    assert contract.status == "draft" and contract.status_reason == "价格条款需重新谈判"
    assert _approval(contract).status == "rejected" and not _open(contract)
    assert Notification.objects.filter(recipient=users["sales"], kind="approval.rejected").exists()
    # Submitting again starts a new approval; the rejected one stays in the history.
    _submit(users["sales"], contract)
    assert Approval.objects.filter(contract=contract).count() == 2


def test_return_goes_back_to_an_earlier_approved_step(users):
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    _decide(users["manager"], contract)
    assert _code(lambda: _decide(users["legal"], contract, "return", comment="请主管确认折扣", return_to=1,
                                 checklist_data=ALL_PASS)) == "invalid"
    _decide(users["legal"], contract, "return", comment="请主管确认折扣", return_to=0, checklist_data=ALL_PASS)
    approval = _approval(contract)
    assert [s.status for s in approval.steps.all()] == ["active", "upcoming", "upcoming"]
    assert [t.assignee for t in _open(contract)] == [users["manager"]]
    assert approval.steps.get(index=0).round == 2
    _decide(users["manager"], contract)
    assert [t.assignee for t in _open(contract)] == [users["legal"]]


def test_transfer_hands_the_task_to_another_eligible_approver(users):
    legal2 = make_user("legal", username="legal2")
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    (task,) = _open(contract, users["manager"])
    assert _code(lambda: approval_transfer(actor=users["manager"], contract=contract, task_id=task.pk,
                                           to_user=users["sales"])) == "not_eligible"  # the owner
    assert _code(lambda: approval_transfer(actor=users["manager"], contract=contract, task_id=task.pk,
                                           to_user=users["manager_b"])) == "not_eligible"  # cannot see it
    approval_transfer(actor=users["manager"], contract=contract, task_id=task.pk, to_user=legal2, comment="我出差")
    assert [t.assignee for t in _open(contract)] == [legal2]
    _decide(legal2, contract)
    # The legal step: every legal user (legal2 too), any of them.
    assert {t.assignee for t in _open(contract)} == {users["legal"], legal2}


def test_an_approver_added_before_decides_first_and_one_after_decides_next(users):
    legal2 = make_user("legal", username="legal2")
    contract = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["sales"], contract)
    (task,) = _open(contract, users["manager"])
    approval_add_approver(actor=users["manager"], contract=contract, task_id=task.pk, user=legal2, position="before")
    assert [t.assignee for t in _open(contract)] == [legal2]
    assert _code(lambda: approval_decide(actor=users["manager"], contract=contract, task_id=task.pk,
                                         decision="approve")) == "task_closed"
    _decide(legal2, contract)
    assert [t.assignee for t in _open(contract)] == [users["manager"]]
    (task,) = _open(contract, users["manager"])
    approval_add_approver(actor=users["manager"], contract=contract, task_id=task.pk, user=users["finance"],
                          position="after")
    _decide(users["manager"], contract)
    assert [t.assignee for t in _open(contract)] == [users["finance"]]
    _decide(users["finance"], contract)
    assert {t.assignee for t in _open(contract)} == {users["legal"], legal2}  # on to the next step


def test_withdraw_while_nobody_decided_and_not_after(users):
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    assert _code(lambda: approval_withdraw(actor=users["sales2"], contract=contract)) == "permission_denied"
    approval_withdraw(actor=users["sales"], contract=contract, reason="金额写错")
    contract.refresh_from_db()
    assert contract.status == "draft" and _approval(contract).status == "withdrawn" and not _open(contract)
    _submit(users["sales"], contract)
    _decide(users["manager"], contract)
    assert _code(lambda: approval_withdraw(actor=users["sales"], contract=contract)) == "already_decided"


def test_urging_reminds_the_current_approvers_at_most_once_an_hour(users, django_capture_on_commit_callbacks):
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        approval_urge(actor=users["sales"], contract=contract, now=now)
    assert Notification.objects.filter(recipient=users["manager"], kind="approval.urged").count() == 1
    assert _code(lambda: approval_urge(actor=users["sales"], contract=contract,
                                       now=now + datetime.timedelta(minutes=59))) == "urged_recently"
    approval_urge(actor=users["sales"], contract=contract, now=now + datetime.timedelta(minutes=61))
    assert _code(lambda: approval_urge(actor=users["legal"], contract=contract)) == "permission_denied"


def test_a_delegate_decides_on_behalf_of_the_approver_who_is_away(users):
    today = timezone.localdate()
    legal2 = make_user("legal", username="legal2")
    delegation = delegation_create(actor=users["legal"], user=users["legal"], delegate=legal2, starts_on=today,
                                   ends_on=today + datetime.timedelta(days=7), note="年假")
    contract = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["sales"], contract)
    _decide(users["manager"], contract)
    (task,) = _open(contract)
    assert task.assignee == legal2 and task.on_behalf_of == users["legal"]
    _decide(legal2, contract, checklist_data=ALL_PASS)
    event = AuditEvent.objects.filter(action="approval.task_approved").order_by("-seq").first()
    assert event.actor_name and event.changes["on_behalf_of"] == str(users["legal"])
    delegation_end(actor=users["legal"], delegation=delegation)
    assert not Delegation.objects.filter(pk=delegation.pk).exists()  # began today: removed


def test_delegations_are_checked(users):
    today = timezone.localdate()
    assert _code(lambda: delegation_create(actor=users["legal"], user=users["legal"], delegate=users["legal"],
                                           starts_on=today, ends_on=today)) == "invalid"
    assert _code(lambda: delegation_create(actor=users["legal"], user=users["legal"], delegate=users["finance"],
                                           starts_on=today, ends_on=today - datetime.timedelta(days=1))) == "invalid"
    assert _code(lambda: delegation_create(actor=users["sales"], user=users["legal"], delegate=users["finance"],
                                           starts_on=today, ends_on=today)) == "permission_denied"
    delegation_create(actor=users["admin"], user=users["legal"], delegate=users["finance"], starts_on=today,
                      ends_on=today)
    assert _code(lambda: delegation_create(actor=users["legal"], user=users["legal"], delegate=users["admin"],
                                           starts_on=today, ends_on=today)) == "invalid"  # overlaps


# --- Pages out of date, versions, locks -----------------------------------------------------------

def test_a_decision_from_a_stale_page_is_refused(users):
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    version = _approval(contract).version
    approval_urge(actor=users["sales"], contract=contract)  # someone changed the approval meanwhile
    (task,) = _open(contract, users["manager"])
    assert _code(lambda: approval_decide(actor=users["manager"], contract=contract, task_id=task.pk,
                                         decision="approve", expected_version=version)) == "stale_version"
    assert _open(contract, users["manager"])


def test_someone_elses_task_and_a_missing_task_are_refused(users):
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    (task,) = _open(contract, users["manager"])
    assert _code(lambda: approval_decide(actor=users["legal"], contract=contract, task_id=task.pk,
                                         decision="approve")) == "permission_denied"
    assert _code(lambda: approval_decide(actor=users["manager"], contract=contract, task_id=999999,
                                         decision="approve")) == "not_found"
    assert _code(lambda: approval_decide(actor=users["manager"], contract=contract, task_id=task.pk,
                                         decision="maybe")) == "invalid"


def test_a_running_approval_keeps_its_flow_version(users):
    contract = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["sales"], contract)
    flow = ApprovalFlow.objects.get(is_default=True)
    flow_save(actor=users["admin"], flow=flow, data={"steps": [step("只需法务", "legal")]})
    flow.refresh_from_db()
    assert flow.current.number == 2
    approval = _approval(contract)
    assert approval.flow_version.number == 1 and approval.steps.count() == 3
    later = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["sales"], later)
    assert _approval(later).flow_version.number == 2 and _approval(later).steps.count() == 1


def test_approval_locks_the_terms_unless_the_approval_is_voided(users, storage):  # noqa: F811
    from qiyue.documents.services import document_upload
    from qiyue.documents.tests.factories import make_pdf, upload

    contract = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["sales"], contract)
    assert _code(lambda: document_upload(actor=users["sales"], files=[upload("草稿.pdf", make_pdf(), "application/pdf")],
                                         contract=contract, kind="draft")) == "facts_frozen"
    _decide(users["manager"], contract)
    _decide(users["legal"], contract, checklist_data=ALL_PASS)
    contract.refresh_from_db()
    assert contract.status == "approved"
    assert _code(lambda: contract_update(actor=users["sales"], contract=contract, data={"amount": Decimal("9000")},
                                         expected_version=None)) == "facts_frozen"
    # Owner, tags and description are not terms: they still change.
    contract_update(actor=users["sales"], contract=contract, data={"tags": "重点"}, expected_version=None)
    contract = contract_update(actor=users["sales"], contract=contract, data={"amount": Decimal("9000")},
                               expected_version=None, void_approval=True)
    assert contract.status == "draft" and contract.amount == Decimal("9000.00")
    assert _approval(contract).status == "voided"
    assert AuditEvent.objects.filter(action="approval.voided", target_id=str(contract.pk)).exists()


def test_reopening_an_approved_contract_voids_its_approval(users):
    contract = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["sales"], contract)
    _decide(users["manager"], contract)
    _decide(users["legal"], contract, checklist_data=ALL_PASS)
    assert _code(lambda: approval_reopen(actor=users["sales"], contract=contract, reason="")) == "reason_required"
    assert _code(lambda: approval_reopen(actor=users["legal"], contract=contract, reason="x")) == "permission_denied"
    approval_reopen(actor=users["sales"], contract=contract, reason="客户要求延长期限")
    contract.refresh_from_db()
    assert contract.status == "draft" and _approval(contract).status == "voided"


def test_signing_is_possible_only_from_approved(users):
    contract = make_contract(users["sales"], amount=Decimal("5000"))
    _submit(users["sales"], contract)
    assert _code(lambda: contract_transition(actor=users["sales"], contract=contract, name="sign",
                                             signing_method="wet_ink", signing_date=timezone.localdate())) \
        == "illegal_transition"


def test_a_rolled_back_decision_tells_nobody(users, django_capture_on_commit_callbacks):
    contract = make_contract(users["sales"])
    _submit(users["sales"], contract)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                _decide(users["manager"], contract, "reject", comment="不同意")
                raise RuntimeError("the request failed afterwards")
        except RuntimeError:
            pass
    assert not Notification.objects.exists()
    contract.refresh_from_db()
    assert contract.status == "in_review" and _open(contract, users["manager"])


# --- Flows are checked when saved -----------------------------------------------------------------

@pytest.mark.parametrize(("steps", "path"), [
    ([], "steps"),
    ([step("", "legal")], "steps.0.name_zh"),
    ([step("无人", "auditor")], "steps.0.approvers"),
    ([step("无人", 999999)], "steps.0.approvers"),
    ([{**step("法务", "legal"), "mode": "most"}], "steps.0.mode"),
    ([step("法务", "legal", "legal")], "steps.0.approvers"),
    ([step("永不", "legal", when=[{"field": "amount_cny", "op": "gte", "value": "100"},
                                 {"field": "amount_cny", "op": "lt", "value": "50"}])], "steps.0.when"),
    ([step("永不", "legal", when=[{"field": "nature", "op": "in", "value": ["lease"]},
                                 {"field": "nature", "op": "not_in", "value": ["lease"]}])], "steps.0.when"),
    ([step("坏条件", "legal", when=[{"field": "nature", "op": "in", "value": ["spaceship"]}])], "steps.0.when.0"),
    ("not a list", "steps"),
])
def test_a_flow_that_cannot_work_is_refused_with_a_clear_error(users, steps, path):
    with pytest.raises(ApplicationError) as exc:
        flow_save(actor=users["admin"], flow=None, data={"name_zh": "坏流程", "steps": steps})
    assert exc.value.code == "flow_invalid" and path in exc.value.fields, exc.value.fields


def test_a_step_that_contradicts_its_flow_is_refused(users):
    with pytest.raises(ApplicationError) as exc:
        flow_save(actor=users["admin"], flow=None, data={
            "name_zh": "小额", "conditions": [{"field": "amount_cny", "op": "lt", "value": "10000"}],
            "steps": [step("大额复核", "legal", when=[{"field": "amount_cny", "op": "gte", "value": "50000"}])]})
    assert "steps.0.when" in exc.value.fields


def test_a_role_with_nobody_active_is_no_approver(users):
    users["finance"].is_active = False
    users["finance"].save()
    assert _code(lambda: flow_save(actor=users["admin"], flow=None, data={
        "name_zh": "财务", "steps": [step("财务", "finance")]})) == "flow_invalid"


def test_only_administrators_manage_flows_and_edits_are_versioned(users):
    assert _code(lambda: flow_save(actor=users["manager"], flow=None, data={"name_zh": "x", "steps": []})) == \
        "permission_denied"
    flow = make_flow(users["admin"], [step("法务", "legal")], name="新流程")
    assert flow.current.number == 1 and flow.version == 1
    assert _code(lambda: flow_save(actor=users["admin"], flow=flow, data={"name_zh": "改名"},
                                   expected_version=99)) == "stale_version"
    flow = flow_save(actor=users["admin"], flow=flow, data={"name_zh": "改名"}, expected_version=1)
    assert flow.current.number == 1  # the steps did not change: no new version
    flow = flow_save(actor=users["admin"], flow=flow, data={"steps": [step("财务", "finance")]})
    assert flow.current.number == 2
    flow = flow_save(actor=users["admin"], flow=flow, data={"is_default": True})
    assert ApprovalFlow.objects.filter(is_default=True).get() == flow


# --- Amendments (变更) -------------------------------------------------------------------------------

def _signed(users, **data):
    from qiyue.workflow.tests.factories import approve_through

    contract = make_contract(users["sales"], **data)
    _submit(users["sales"], contract)
    contract = approve_through(contract)
    return contract_transition(actor=users["sales"], contract=contract, name="sign", signing_method="wet_ink",
                               signing_date=datetime.date(2026, 1, 10))


def test_an_amendment_is_approved_then_signed_and_keeps_every_version(users, django_capture_on_commit_callbacks):
    from qiyue.contracts import amendments

    contract = _signed(users, amount=Decimal("5000.00"))
    amendment = amendments.amendment_create(actor=users["sales"], contract=contract, data={
        "reason": "客户追加采购", "changes": {"amount": "8000.00", "expiry_date": "2028-06-30"},
        "payment_terms": "验收后 30 日内付清", "other_terms": "增加两台设备"})
    assert amendment.changes == {"amount": "8000.00", "expiry_date": "2028-06-30"}
    amendments.amendment_submit(actor=users["sales"], amendment=amendment)
    approval = _approval(contract)
    assert approval.amendment == amendment and approval.facts["amount"] == "8000.00"
    contract.refresh_from_db()
    assert contract.status == "signed" and contract.amount == Decimal("5000.00")  # unchanged until signed
    _decide(users["manager"], contract)
    _decide(users["legal"], contract, checklist_data=ALL_PASS)
    amendment.refresh_from_db()
    assert amendment.status == "approved"
    contract.refresh_from_db()
    assert contract.status == "signed" and contract.amount == Decimal("5000.00")
    amendments.amendment_sign(actor=users["sales"], amendment=amendment, signed_on=datetime.date(2026, 3, 1))
    contract.refresh_from_db()
    assert contract.amount == Decimal("8000.00") and contract.expiry_date == datetime.date(2028, 6, 30)
    first, second = amendments.versions(contract)
    assert (first.number, first.facts["amount"], second.number, second.facts["amount"]) == (1, "5000.00", 2, "8000.00")
    rows = {r["field"]: r for r in amendments.compare(first, second)}
    assert rows["amount"]["changed"] and rows["expiry_date"]["old"] == "2027-12-31"
    assert not rows["currency"]["changed"] and rows["payment_terms"]["new"] == "验收后 30 日内付清"
    assert AuditEvent.objects.filter(action="contract.amended", target_id=str(contract.pk)).exists()


def test_a_rejected_amendment_goes_back_to_draft_and_changes_nothing(users):
    from qiyue.contracts import amendments

    contract = _signed(users, amount=Decimal("5000.00"))
    amendment = amendments.amendment_create(actor=users["sales"], contract=contract,
                                            data={"reason": "延期", "changes": {"expiry_date": "2029-01-01"}})
    assert _code(lambda: amendments.amendment_create(actor=users["sales"], contract=contract, data={
        "reason": "再改", "changes": {"amount": "1.00"}})) == "amendment_open"
    amendments.amendment_submit(actor=users["sales"], amendment=amendment)
    _decide(users["manager"], contract, "reject", comment="延期需总经理同意")
    amendment.refresh_from_db()
    contract.refresh_from_db()
    assert amendment.status == "draft" and contract.status == "signed"
    assert contract.expiry_date == datetime.date(2027, 12, 31)
    assert _code(lambda: amendments.amendment_sign(actor=users["sales"], amendment=amendment,
                                                   signed_on=datetime.date(2026, 3, 1))) == "illegal_transition"


@pytest.mark.parametrize(("data", "field"), [
    ({"changes": {"amount": "8000"}}, "reason"),
    ({"reason": "x", "changes": {}}, "changes"),
    ({"reason": "x", "changes": {"title": "新标题"}}, "changes"),
    ({"reason": "x", "changes": {"amount": "-5"}}, "amount"),
    ({"reason": "x", "changes": {"amount": "abc"}}, "amount"),
    ({"reason": "x", "changes": {"expiry_date": "2020-01-01"}}, "expiry_date"),
    ({"reason": "x", "changes": "amount=5"}, "changes"),
    ({"reason": "x" * 2000, "changes": {"amount": "8000"}}, "reason"),
])
def test_a_bad_amendment_is_refused_on_its_field(users, data, field):
    from qiyue.contracts import amendments

    contract = _signed(users, amount=Decimal("5000.00"))
    with pytest.raises(ApplicationError) as exc:
        amendments.amendment_create(actor=users["sales"], contract=contract, data=data)
    assert field in exc.value.fields, exc.value.fields
    assert not contract.amendments.exists()


def test_only_a_signed_contract_is_amended_by_its_editors(users):
    from qiyue.contracts import amendments

    draft = make_contract(users["sales"])
    assert _code(lambda: amendments.amendment_create(actor=users["sales"], contract=draft, data={
        "reason": "x", "changes": {"amount": "1.00"}})) == "illegal_transition"
    contract = _signed(users, amount=Decimal("5000.00"))
    assert _code(lambda: amendments.amendment_create(actor=users["legal"], contract=contract, data={
        "reason": "x", "changes": {"amount": "1.00"}})) == "permission_denied"
