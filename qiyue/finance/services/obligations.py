"""Obligations and milestones: added, changed, completed (with their linked installments), waived, reopened."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied
from qiyue.core.services import audit_value, model_update

from .. import events, money, policies, totals
from ..errors import FinanceErrorCode
from ..models import (
    Installment,
    Obligation,
    ObligationStatus,
    Party,
)
from .common import (
    LIVE_INSTALLMENTS,
    _date,
    _invalid,
    _lock_contract,
    _plan_line,
    _reason,
    _text,
    _today,
    check_version,
    clean_owner,
)

OBLIGATION_FIELDS = ("party", "description", "due_date", "owner")


def _clean_obligation(contract: Contract, data: Mapping[str, Any], *, partial: bool) -> dict:
    clean = {}
    if not partial or "party" in data:
        party = data.get("party") or Party.OURS
        if party not in Party.values:
            raise _invalid({"party": [_("Choose who owes it.")]})
        clean["party"] = party
    if not partial or "description" in data:
        clean["description"] = _text(data.get("description"), "description", 500, required=True)
    if not partial or "due_date" in data:
        clean["due_date"] = _date(data.get("due_date"), "due_date", required=False)
    if not partial or "owner" in data:
        clean["owner"] = clean_owner(data.get("owner"), contract)
    return clean


def _lock_obligation(obligation: Obligation) -> tuple[Contract, Obligation]:
    contract = _lock_contract(obligation.contract)
    row = Obligation.objects.select_for_update().select_related("contract", "contract__customer").filter(
        pk=obligation.pk, contract=contract).first()
    if row is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    row.contract = contract
    return contract, row



def obligation_create(*, actor, contract: Contract, data: Mapping[str, Any]) -> Obligation:
    with transaction.atomic():
        contract = _lock_contract(contract)
        if not policies.can_manage_obligations(actor, contract):
            raise permission_denied()
        obligation = Obligation(contract=contract, **_clean_obligation(contract, data, partial=False))
        obligation.full_clean(exclude=["contract", "owner", "evidence"])
        obligation.save()
        events.obligation_event(actor=actor, action="obligation.created", obligation=obligation, changes={
            name: audit_value(getattr(obligation, name)) for name in OBLIGATION_FIELDS if getattr(obligation, name)})
        return obligation


def obligation_update(*, actor, obligation: Obligation, data: Mapping[str, Any],
                      expected_version: int | None) -> Obligation:
    with transaction.atomic():
        contract, obligation = _lock_obligation(obligation)
        if not policies.can_manage_obligations(actor, contract):
            raise permission_denied()
        check_version(obligation, expected_version)
        if obligation.status == ObligationStatus.CANCELLED:
            raise ApplicationError(FinanceErrorCode.OBLIGATION_CLOSED, _("This obligation was cancelled."))
        changes = model_update(instance=obligation, fields=OBLIGATION_FIELDS,
                               data=_clean_obligation(contract, data, partial=True))
        if changes:
            obligation.version += 1
            obligation.full_clean(exclude=["contract", "owner", "evidence"])
            obligation.save()
            events.obligation_event(actor=actor, action="obligation.updated", obligation=obligation, changes=changes)
        return obligation


def _set_linked_due_dates(obligation: Obligation) -> list[str]:
    """The installments that wait for `obligation`: due `days_after` its completion, or again unknown."""
    lines = []
    for row in Installment.objects.select_for_update().filter(obligation=obligation, status__in=LIVE_INSTALLMENTS):
        due = money.add_days(obligation.done_on, row.days_after) if obligation.status == ObligationStatus.DONE else None
        if row.due_date != due:
            row.due_date = due
            row.save(update_fields=["due_date"])
            lines.append(_plan_line(row))
    return lines


def obligation_complete(*, actor, obligation: Obligation, done_on: Any, evidence=None,
                        expected_version: int | None = None) -> Obligation:
    """Mark an obligation done on `done_on` (not in the future), with an optional evidence document of
    the contract; installments that wait for it become due."""
    done_on = _date(done_on, "done_on")
    if done_on > _today():
        raise _invalid({"done_on": [_("The date cannot be in the future.")]})
    with transaction.atomic():
        contract, obligation = _lock_obligation(obligation)
        if not policies.can_close_obligation(actor, obligation):
            raise permission_denied()
        check_version(obligation, expected_version)
        if obligation.status != ObligationStatus.OPEN:
            raise ApplicationError(FinanceErrorCode.OBLIGATION_CLOSED, _("This obligation is no longer open."))
        if evidence not in (None, ""):
            from qiyue.documents.models import Document

            evidence_id = getattr(evidence, "pk", evidence)
            try:
                evidence = Document.objects.filter(pk=int(evidence_id), contract=contract).first()
            except (TypeError, ValueError):
                evidence = None
            if evidence is None:
                raise _invalid({"evidence": [_("Choose one of this contract's documents.")]})
        else:
            evidence = None
        obligation.status = ObligationStatus.DONE
        obligation.done_on = done_on
        obligation.evidence = evidence
        obligation.version += 1
        obligation.save()
        changes = {"status": [ObligationStatus.OPEN.value, ObligationStatus.DONE.value], "done_on": done_on.isoformat()}
        if evidence is not None:
            changes["evidence"] = str(evidence)
        due = _set_linked_due_dates(obligation)
        if due:
            changes["installments_due"] = due
            totals.keep(contract)
        events.obligation_event(actor=actor, action="obligation.done", obligation=obligation, changes=changes)
        return obligation


def obligation_waive(*, actor, obligation: Obligation, reason: str,
                     expected_version: int | None = None) -> Obligation:
    reason = _reason(reason)
    with transaction.atomic():
        contract, obligation = _lock_obligation(obligation)
        if not policies.can_manage_obligations(actor, contract):
            raise permission_denied()
        check_version(obligation, expected_version)
        if obligation.status != ObligationStatus.OPEN:
            raise ApplicationError(FinanceErrorCode.OBLIGATION_CLOSED, _("This obligation is no longer open."))
        obligation.status = ObligationStatus.WAIVED
        obligation.status_reason = reason
        obligation.version += 1
        obligation.save()
        events.obligation_event(actor=actor, action="obligation.waived", obligation=obligation, changes={
            "status": [ObligationStatus.OPEN.value, ObligationStatus.WAIVED.value], "reason": reason})
        return obligation


def obligation_reopen(*, actor, obligation: Obligation, expected_version: int | None = None) -> Obligation:
    """Undo a completion or a waiver (recorded by mistake): installments that waited for it wait again."""
    with transaction.atomic():
        contract, obligation = _lock_obligation(obligation)
        if not policies.can_manage_obligations(actor, contract):
            raise permission_denied()
        check_version(obligation, expected_version)
        if obligation.status not in (ObligationStatus.DONE, ObligationStatus.WAIVED):
            raise ApplicationError(FinanceErrorCode.OBLIGATION_CLOSED, _("This obligation is not done or waived."))
        before = obligation.status
        obligation.status = ObligationStatus.OPEN
        obligation.done_on = None
        obligation.evidence = None
        obligation.status_reason = ""
        obligation.version += 1
        obligation.save()
        changes = {"status": [before, ObligationStatus.OPEN.value]}
        due = _set_linked_due_dates(obligation)
        if due:
            changes["installments_due"] = due
            totals.keep(contract)
        events.obligation_event(actor=actor, action="obligation.reopened", obligation=obligation, changes=changes)
        return obligation
