"""Retention rules (pure), legal hold, soft deletion and retention policies (services)."""

import datetime

import pytest
from django.utils import timezone

from qiyue.audit.models import AuditEvent
from qiyue.contracts import services
from qiyue.contracts.models import Contract, RetentionPolicy, Status
from qiyue.contracts.retention import add_years, retention
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.contracts.transitions import TRANSITIONS
from qiyue.core.errors import ApplicationError

TODAY = datetime.date(2026, 6, 1)


def move(contract, actor, *names):
    for name in names:
        extra = {"reason": "原因"} if name in ("terminate", "cancel", "return") else {}
        if name == "sign":
            extra = {"signing_method": "company_seal", "signing_date": datetime.date(2020, 1, 10)}
        contract = contract_transition(actor=actor, contract=contract, name=name, **extra,
                                       via_workflow=TRANSITIONS[name].workflow)
    return contract


def ended(contract, users, *, name="complete", on=datetime.date(2015, 3, 1)):
    """A contract signed, run and ended (completed, expired or terminated) on `on`."""
    contract = move(contract, users["admin"], "submit", "approve", "sign", "activate", name)
    moment = timezone.make_aware(datetime.datetime.combine(on, datetime.time(12)))
    Contract.objects.filter(pk=contract.pk).update(status_changed_at=moment)
    contract.refresh_from_db()
    return contract


def code_of(call) -> str:
    with pytest.raises(ApplicationError) as info:
        call()
    return info.value.code


# --- the pure rule ------------------------------------------------------------------------------

class _C:
    def __init__(self, status, *, expiry=None, changed=None):
        self.status, self.expiry_date = status, expiry
        self.status_changed_at = (timezone.make_aware(datetime.datetime.combine(changed, datetime.time(12)))
                                  if changed else None)


@pytest.mark.parametrize("status", [Status.DRAFT, Status.CANCELLED, Status.IN_REVIEW, Status.APPROVED])
def test_never_signed_has_no_retention(status):
    assert not retention(_C(status), 10).applies
    assert not retention(_C(status), 10).within(TODAY)


@pytest.mark.parametrize("status", [Status.SIGNED, Status.ACTIVE])
def test_running_contract_is_always_within_retention(status):
    kept = retention(_C(status, expiry=datetime.date(1990, 1, 1)), 1)
    assert kept.running and kept.within(datetime.date(2100, 1, 1))


def test_completed_and_terminated_run_from_the_status_change():
    for status in (Status.COMPLETED, Status.TERMINATED):
        kept = retention(_C(status, expiry=datetime.date(2030, 1, 1), changed=datetime.date(2016, 5, 31)), 10)
        assert kept.until == datetime.date(2026, 5, 31)
        assert kept.within(datetime.date(2026, 5, 31)) and not kept.within(TODAY)


def test_expired_runs_from_the_expiry_date():
    kept = retention(_C(Status.EXPIRED, expiry=datetime.date(2016, 5, 1), changed=datetime.date(2017, 1, 1)), 10)
    assert kept.ended_on == datetime.date(2016, 5, 1) and kept.until == datetime.date(2026, 5, 1)


def test_no_policy_or_no_end_date_keeps_for_ever():
    assert retention(_C(Status.COMPLETED, changed=datetime.date(1990, 1, 1)), None).within(TODAY)
    assert retention(_C(Status.EXPIRED), 10).within(TODAY)


def test_leap_day():
    assert add_years(datetime.date(2016, 2, 29), 10) == datetime.date(2026, 2, 28)


@pytest.mark.django_db
def test_default_policies_are_seeded():
    years = dict(RetentionPolicy.objects.values_list("nature", "retention_years"))
    assert years == {"sales": 10, "purchase": 10, "service": 10, "lease": 10, "joint_venture": 30,
                     "licensing": 10, "other": 10}


# --- legal hold -----------------------------------------------------------------------------------

@pytest.fixture
def draft(users):
    return make_contract(users["sales"])


@pytest.mark.parametrize("role,allowed", [("admin", True), ("legal", True), ("manager", False), ("sales", False),
                                          ("finance", False), ("auditor", False)])
def test_who_places_a_hold(users, draft, role, allowed):
    call = lambda: services.contract_set_legal_hold(actor=users[role], contract=draft, hold=True,  # noqa: E731
                                                    reason="诉讼保全")
    if allowed:
        contract = call()
        assert contract.legal_hold and contract.legal_hold_reason == "诉讼保全" and contract.version == 2
        event = AuditEvent.objects.get(action="contract.legal_hold_set")
        assert event.contract_id == draft.pk and event.changes["legal_hold"] == [False, True]
    else:
        assert code_of(call) == "permission_denied"


def test_hold_needs_a_reason_both_ways(users, draft):
    legal = users["legal"]
    assert code_of(lambda: services.contract_set_legal_hold(actor=legal, contract=draft, hold=True,
                                                            reason="  ")) == "reason_required"
    services.contract_set_legal_hold(actor=legal, contract=draft, hold=True, reason="仲裁")
    assert code_of(lambda: services.contract_set_legal_hold(actor=legal, contract=draft, hold=False,
                                                            reason="")) == "reason_required"
    contract = services.contract_set_legal_hold(actor=legal, contract=draft, hold=False, reason="案件结束")
    assert not contract.legal_hold
    assert AuditEvent.objects.filter(action="contract.legal_hold_released").count() == 1
    assert code_of(lambda: services.contract_set_legal_hold(actor=legal, contract=draft, hold=False,
                                                            reason="再次")) == "illegal_transition"


# --- deletion --------------------------------------------------------------------------------------

def test_editor_deletes_a_draft_softly_with_an_audit_event(users, draft):
    contract = services.contract_delete(actor=users["sales2"], contract=draft, reason="录入错误")
    row = Contract.objects.get(pk=draft.pk)
    assert row.deleted_at is not None and row.deleted_reason == "录入错误" and contract.version == 2
    event = AuditEvent.objects.get(action="contract.deleted")
    assert event.target_id == str(draft.pk) and event.changes["deleted_reason"] == ["", "录入错误"]


@pytest.mark.parametrize("role", ["sales_b", "legal", "finance", "auditor"])
def test_others_may_not_delete_a_draft(users, draft, role):
    assert code_of(lambda: services.contract_delete(actor=users[role], contract=draft,
                                                    reason="x")) == "permission_denied"


def test_delete_needs_a_reason(users, draft):
    assert code_of(lambda: services.contract_delete(actor=users["sales"], contract=draft,
                                                    reason="")) == "reason_required"


def test_cancelled_draft_may_be_deleted(users, draft):
    cancelled = move(draft, users["sales"], "cancel")
    services.contract_delete(actor=users["sales"], contract=cancelled, reason="作废")
    assert Contract.objects.get(pk=draft.pk).deleted_at is not None


def test_hold_blocks_delete(users, draft):
    services.contract_set_legal_hold(actor=users["legal"], contract=draft, hold=True, reason="诉讼")
    assert code_of(lambda: services.contract_delete(actor=users["sales"], contract=draft,
                                                    reason="x")) == "legal_hold"
    assert Contract.objects.get(pk=draft.pk).deleted_at is None


def test_contract_in_workflow_cannot_be_deleted(users, draft):
    in_review = move(draft, users["sales"], "submit")
    assert code_of(lambda: services.contract_delete(actor=users["admin"], contract=in_review,
                                                    reason="x")) == "illegal_transition"


def test_signed_contract_only_admin_and_only_after_retention(users, draft):
    contract = move(draft, users["admin"], "submit", "approve", "sign")
    assert code_of(lambda: services.contract_delete(actor=users["sales"], contract=contract,
                                                    reason="x")) == "permission_denied"
    assert code_of(lambda: services.contract_delete(actor=users["admin"], contract=contract,
                                                    reason="x")) == "within_retention"


def test_retention_blocks_delete_until_it_has_passed(users, draft):
    contract = ended(draft, users, on=datetime.date(2016, 5, 31))  # sales: 10 years → 2026-05-31
    with pytest.raises(ApplicationError) as info:
        services.contract_delete(actor=users["admin"], contract=contract, reason="到期销毁",
                                 today=datetime.date(2026, 5, 31))
    assert info.value.code == "within_retention" and info.value.status == 409
    assert "2026-05-31" in info.value.message
    services.contract_delete(actor=users["admin"], contract=contract, reason="到期销毁", today=TODAY)
    assert Contract.objects.get(pk=draft.pk).deleted_at is not None


def test_hold_blocks_delete_even_after_retention(users, draft):
    contract = ended(draft, users, name="terminate", on=datetime.date(2000, 1, 1))
    services.contract_set_legal_hold(actor=users["admin"], contract=contract, hold=True, reason="稽查")
    assert code_of(lambda: services.contract_delete(actor=users["admin"], contract=contract,
                                                    reason="x")) == "legal_hold"


def test_longer_policy_keeps_the_contract(users, draft):
    contract = ended(draft, users, on=datetime.date(2010, 1, 1))
    RetentionPolicy.objects.filter(nature=contract.nature).update(retention_years=30)
    assert code_of(lambda: services.contract_delete(actor=users["admin"], contract=contract,
                                                    reason="x")) == "within_retention"


def test_framework_with_live_supplements_cannot_be_deleted(users, draft):
    supplement = make_contract(users["sales"], customer=draft.customer, parent=draft)
    assert code_of(lambda: services.contract_delete(actor=users["sales"], contract=draft,
                                                    reason="x")) == "has_supplements"
    services.contract_delete(actor=users["sales"], contract=supplement, reason="补充协议作废")
    services.contract_delete(actor=users["sales"], contract=draft, reason="框架作废")


def test_writes_on_a_deleted_contract_are_refused(users, draft):
    services.contract_delete(actor=users["sales"], contract=draft, reason="x")
    calls = [
        lambda: services.contract_update(actor=users["admin"], contract=draft, data={"title": "新"},
                                         expected_version=None),
        lambda: contract_transition(actor=users["admin"], contract=draft, name="submit"),
        lambda: services.contract_set_legal_hold(actor=users["admin"], contract=draft, hold=True, reason="x"),
        lambda: services.contract_delete(actor=users["admin"], contract=draft, reason="x"),
    ]
    for call in calls:
        with pytest.raises(ApplicationError) as info:
            call()
        assert info.value.code == "not_found" and info.value.status == 404


def test_deleted_contract_cannot_become_a_framework(users, draft):
    services.contract_delete(actor=users["sales"], contract=draft, reason="x")
    with pytest.raises(ApplicationError) as info:
        make_contract(users["sales"], customer=draft.customer, parent=draft)
    assert info.value.fields.keys() == {"parent"}


# --- retention policies ---------------------------------------------------------------------------

def test_only_admin_updates_a_policy(users):
    policy = RetentionPolicy.objects.get(nature="lease")
    assert code_of(lambda: services.retention_policy_update(actor=users["legal"], policy=policy,
                                                            data={"retention_years": 20})) == "permission_denied"
    policy = services.retention_policy_update(actor=users["admin"], policy=policy,
                                              data={"retention_years": 20, "description": "租赁 20 年"})
    assert RetentionPolicy.objects.get(nature="lease").retention_years == 20
    event = AuditEvent.objects.get(action="retention_policy.updated")
    assert event.changes["retention_years"] == [10, 20]


def test_policy_years_are_validated(users):
    policy = RetentionPolicy.objects.get(nature="lease")
    assert code_of(lambda: services.retention_policy_update(actor=users["admin"], policy=policy,
                                                            data={"retention_years": 0})) == "invalid"
