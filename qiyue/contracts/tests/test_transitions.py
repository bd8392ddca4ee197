"""The lifecycle table, pair by pair: every legal change works, every other is refused and changes nothing."""

import datetime
import itertools

import pytest

from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract, Status
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.contracts.transitions import TRANSITIONS, allowed_pairs
from qiyue.core.errors import ApplicationError

EXPECTED_PAIRS = {
    ("draft", "in_review"), ("in_review", "draft"), ("in_review", "approved"), ("approved", "signed"),
    ("signed", "active"), ("active", "completed"), ("active", "expired"), ("active", "terminated"),
    ("signed", "terminated"), ("draft", "cancelled"), ("approved", "draft"),
}


def test_table_is_exactly_the_documented_lifecycle():
    assert allowed_pairs() == EXPECTED_PAIRS


def _arguments(name):
    kwargs = {"reason": "测试原因", "via_workflow": TRANSITIONS[name].workflow}
    if TRANSITIONS[name].needs_signing:
        kwargs.update(signing_method="company_seal", signing_date=datetime.date(2026, 3, 1))
    return kwargs


def _contract_in(status, owner):
    contract = make_contract(owner)
    Contract.objects.filter(pk=contract.pk).update(status=status)
    contract.refresh_from_db()
    return contract


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "name"), list(itertools.product(Status.values, TRANSITIONS)))
def test_every_status_and_action(users, status, name):
    admin = users["admin"]
    contract = _contract_in(status, users["sales"])
    events_before = AuditEvent.objects.count()
    events_before_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    transition = TRANSITIONS[name]
    if status in transition.sources:
        result = contract_transition(actor=admin, contract=contract, name=name, **_arguments(name))
        assert result.status == transition.target
        assert result.version == contract.version + 1
        # One event for the change (submitting also starts an approval, which records its own).
        events = AuditEvent.objects.filter(action__startswith="contract.").exclude(action="contract.prereviewed")
        event = events.order_by("-seq").first()
        assert events.count() == AuditEvent.objects.filter(seq__lte=events_before_seq).filter(
            action__startswith="contract.").exclude(action="contract.prereviewed").count() + 1
        assert event.action == f"contract.{name}"
        assert event.changes["status"] == [status, transition.target]
    else:
        with pytest.raises(ApplicationError) as exc:
            contract_transition(actor=admin, contract=contract, name=name, **_arguments(name))
        assert exc.value.code == "illegal_transition"
        contract.refresh_from_db()
        assert contract.status == status
        assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
@pytest.mark.parametrize("name", [n for n, t in TRANSITIONS.items() if t.reason_required])
def test_reason_is_required(users, name):
    source = sorted(TRANSITIONS[name].sources)[0]
    contract = _contract_in(source, users["sales"])
    with pytest.raises(ApplicationError) as exc:
        contract_transition(actor=users["admin"], contract=contract, name=name, reason="   ",
                            via_workflow=TRANSITIONS[name].workflow)
    assert exc.value.code == "reason_required"
    contract.refresh_from_db()
    assert contract.status == source


@pytest.mark.django_db
def test_signing_records_method_and_date(users):
    contract = _contract_in(Status.APPROVED, users["sales"])
    with pytest.raises(ApplicationError) as exc:
        contract_transition(actor=users["sales"], contract=contract, name="sign")
    assert set(exc.value.fields) == {"signing_method", "signing_date"}
    with pytest.raises(ApplicationError) as exc:
        contract_transition(actor=users["sales"], contract=contract, name="sign", signing_method="wet_ink",
                            signing_date=datetime.date.today() + datetime.timedelta(days=3))
    assert "signing_date" in exc.value.fields
    signed = contract_transition(actor=users["sales"], contract=contract, name="sign", signing_method="e_signature",
                                 signing_date=datetime.date(2026, 2, 1))
    assert (signed.status, signed.signing_method, signed.signing_date) == (
        "signed", "e_signature", datetime.date(2026, 2, 1))


# Who may take which action on a contract owned by sales in team A.
ROLE_MATRIX = {
    "submit": {"admin", "manager", "sales", "sales2"},
    "sign": {"admin", "manager", "sales", "sales2"},
    "terminate": {"admin", "manager", "legal"},
    "cancel": {"admin", "manager", "sales", "sales2"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ROLE_MATRIX))
def test_role_checks(users, name):
    source = sorted(TRANSITIONS[name].sources)[0]
    for key, user in users.items():
        contract = _contract_in(source, users["sales"])
        if key in ROLE_MATRIX[name]:
            assert contract_transition(actor=user, contract=contract, name=name, **_arguments(name)).status \
                == TRANSITIONS[name].target, key
        else:
            with pytest.raises(ApplicationError) as exc:
                contract_transition(actor=user, contract=contract, name=name, **_arguments(name))
            assert exc.value.code == "permission_denied", key
            contract.refresh_from_db()
            assert contract.status == source


@pytest.mark.django_db
@pytest.mark.parametrize("name", [n for n, t in TRANSITIONS.items() if t.workflow])
def test_the_approval_workflows_steps_are_nobodys_click(users, name):
    """Approve, return, withdraw and reopen are taken by the approval workflow only (qiyue.workflow)."""
    source = sorted(TRANSITIONS[name].sources)[0]
    for key, user in users.items():
        contract = _contract_in(source, users["sales"])
        with pytest.raises(ApplicationError) as exc:
            contract_transition(actor=user, contract=contract, name=name, reason="测试原因")
        assert exc.value.code == "illegal_transition", key
        contract.refresh_from_db()
        assert contract.status == source


@pytest.mark.django_db
def test_unknown_action_is_refused(users):
    contract = make_contract(users["sales"])
    with pytest.raises(ApplicationError) as exc:
        contract_transition(actor=users["admin"], contract=contract, name="publish")
    assert exc.value.code == "illegal_transition"


@pytest.mark.django_db
def test_stale_version_refuses_transition(users):
    contract = make_contract(users["sales"])
    contract_transition(actor=users["sales"], contract=contract, name="submit", expected_version=1)
    with pytest.raises(ApplicationError) as exc:
        contract_transition(actor=users["legal"], contract=contract, name="approve", expected_version=1,
                            via_workflow=True)
    assert exc.value.code == "stale_version"


@pytest.mark.django_db
def test_the_system_actor_activates_and_expires_and_is_audited_as_the_system(users):
    """Scheduled jobs act as the system: it takes the steps the table grants it (activate, expire),
    audited as "system" with no user id, and is refused every other step."""
    from qiyue.audit.rendering import timeline_rows
    from qiyue.audit.selectors import timeline
    from qiyue.core.actors import SYSTEM

    contract = make_contract(users["sales"])
    for name in ("submit", "approve", "sign"):
        contract = contract_transition(actor=users["sales"], contract=contract, name=name, **_arguments(name))
    with pytest.raises(ApplicationError) as refused:
        contract_transition(actor=SYSTEM, contract=contract, name="terminate", reason="系统不能解除合同")
    assert refused.value.code == "permission_denied"
    contract = contract_transition(actor=SYSTEM, contract=contract, name="activate")
    contract = contract_transition(actor=SYSTEM, contract=contract, name="expire")
    assert Contract.objects.get(pk=contract.pk).status == Status.EXPIRED
    events = AuditEvent.objects.filter(target_id=str(contract.pk), action__in=["contract.activate", "contract.expire"])
    assert [(e.action, e.actor_id, e.actor_name, e.actor_role, e.customer_id) for e in events.order_by("seq")] == [
        ("contract.activate", None, "system", "system", contract.customer_id),
        ("contract.expire", None, "system", "system", contract.customer_id)]
    rows = timeline_rows(timeline(contract_id=contract.pk), users["sales"])
    assert rows[0]["event"].actor_name == "system" and rows[0]["label"] == "marked expired"
