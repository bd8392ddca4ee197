import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.audit.services import audit_record
from qiyue.core import permissions
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.core.roles import Role
from qiyue.core.services import model_update, snapshot
from qiyue.core.text import split_tags

from .models import Contract, SigningMethod
from .numbering import next_contract_number
from .transitions import TRANSITIONS, Transition

CONTRACT_FIELDS = (
    "number", "title", "customer", "our_entity", "counterparty_signatory", "amount", "currency", "tax_rate",
    "signing_date", "effective_date", "expiry_date", "auto_renewal", "notice_period_days", "owner", "team",
    "tags", "description", "nature", "subject_matter", "signing_form", "parent",
)
# The number is fixed once the contract leaves draft; it identifies the signed document.
EDITABLE_AFTER_DRAFT = tuple(f for f in CONTRACT_FIELDS if f != "number")


def _clean_contract_data(actor, data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "tags" in data:
        data["tags"] = ",".join(split_tags(data["tags"]))
    if "number" in data:
        data["number"] = (data["number"] or "").strip()
    for key in ("customer", "parent"):
        obj = data.get(key)
        # A customer or framework agreement the actor may not see is as good as missing.
        if obj is not None and not permissions.visible(actor, type(obj).objects.filter(pk=obj.pk)).exists():
            raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                                   fields={key: [_("Select a valid choice.")]})
    return data


@transaction.atomic
def contract_create(*, actor, data: Mapping[str, Any]) -> Contract:
    if not permissions.can_create(actor):
        raise permission_denied()
    data = _clean_contract_data(actor, data)
    if data.get("customer") is None:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"customer": [_("This field is required.")]})
    data.setdefault("owner", actor)
    data.setdefault("team", actor.team if data["owner"] == actor else data["owner"].team)
    permissions.check_assignment(actor, data["owner"], data.get("team"))
    contract = Contract(**{k: v for k, v in data.items() if k in CONTRACT_FIELDS})
    if not contract.number:
        contract.number = next_contract_number()
    contract.full_clean()
    contract.save()
    audit_record(actor=actor, action="contract.created", target=contract,
                 changes=snapshot(contract, CONTRACT_FIELDS))
    return contract


def _lock(contract: Contract) -> Contract:
    return Contract.objects.select_for_update(of=("self",)).select_related("customer", "owner", "team").get(pk=contract.pk)


@transaction.atomic
def contract_update(*, actor, contract: Contract, data: Mapping[str, Any], expected_version: int | None) -> Contract:
    contract = _lock(contract)
    if not permissions.can_edit(actor, contract):
        raise permission_denied()
    if expected_version is not None and expected_version != contract.version:
        raise stale_version_error()
    data = _clean_contract_data(actor, data)
    allowed = CONTRACT_FIELDS if contract.status == "draft" else EDITABLE_AFTER_DRAFT
    if "number" in data and data["number"] != contract.number and "number" not in allowed:
        raise ApplicationError(ErrorCode.INVALID, _("The number cannot change after the draft stage."),
                               fields={"number": [_("The number cannot change after the draft stage.")]})
    if "number" in data and not data["number"]:
        data.pop("number")
    changes = model_update(instance=contract, fields=allowed, data=data)
    if not changes:
        return contract
    if "owner" in changes or "team" in changes:
        permissions.check_assignment(actor, contract.owner, contract.team)
    contract.full_clean()
    contract.version += 1
    contract.save()
    audit_record(actor=actor, action="contract.updated", target=contract, changes=changes)
    return contract


def can_take(actor, contract: Contract, transition: Transition) -> bool:
    """Role and ownership check for one transition (status is checked separately)."""
    if actor.role not in transition.roles or not actor.is_active:
        return False
    if actor.role in (Role.ADMIN, Role.LEGAL):
        return True
    # Managers and sales act only on contracts they own or that belong to their team.
    return contract.owner_id == actor.pk or (actor.team_id is not None and contract.team_id == actor.team_id)


def available_transitions(actor, contract: Contract) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if contract.status in t.sources and can_take(actor, contract, t)]


@transaction.atomic
def contract_transition(
    *,
    actor,
    contract: Contract,
    name: str,
    reason: str = "",
    signing_method: str = "",
    signing_date: datetime.date | None = None,
    expected_version: int | None = None,
) -> Contract:
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Unknown action “%(name)s”.") % {"name": name},
                               status=400)
    contract = _lock(contract)
    if not can_take(actor, contract, transition):
        raise permission_denied()
    if expected_version is not None and expected_version != contract.version:
        raise stale_version_error()
    if contract.status not in transition.sources:
        raise ApplicationError(
            ErrorCode.ILLEGAL_TRANSITION,
            _("A contract that is “%(status)s” cannot be changed with “%(action)s”.")
            % {"status": contract.get_status_display(), "action": transition.label},
        )
    reason = (reason or "").strip()
    if transition.reason_required and not reason:
        raise ApplicationError(ErrorCode.REASON_REQUIRED, _("Please give a reason."),
                               fields={"reason": [_("A reason is required for this action.")]})
    if len(reason) > 1000:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"reason": [_("At most 1000 characters.")]})
    before = {"status": contract.status, "status_reason": contract.status_reason}
    data: dict[str, Any] = {"status": transition.target, "status_reason": reason}
    if transition.needs_signing:
        errors = {}
        if signing_method not in SigningMethod.values:
            errors["signing_method"] = [_("Choose how the contract was signed.")]
        if signing_date is None:
            errors["signing_date"] = [_("Enter the signing date.")]
        elif signing_date > timezone.localdate():
            errors["signing_date"] = [_("The signing date cannot be in the future.")]
        if errors:
            raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields=errors)
        data.update(signing_method=signing_method, signing_date=signing_date)
    changes = model_update(instance=contract, fields=("status", "status_reason", "signing_method", "signing_date"),
                           data=data)
    if reason and "status_reason" not in changes:
        changes["status_reason"] = [before["status_reason"], reason]
    contract.status_changed_at = timezone.now()
    try:
        contract.full_clean()
    except ValidationError as exc:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields=exc.message_dict) from exc
    contract.version += 1
    contract.save()
    audit_record(actor=actor, action=transition.action, target=contract, changes=changes)
    return contract
