import copy
import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.core import permissions
from qiyue.core import tags as tag_vocabulary
from qiyue.core.actors import is_system
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.core.search_kinds import reindex_later
from qiyue.core.services import audit_value, model_update, snapshot
from qiyue.core.text import split_tags

from . import amendments, custom_fields, events, notices, policies, signals
from . import search as contract_search
from .errors import ContractErrorCode
from .models import (
    Contract,
    ContractTag,
    ContractType,
    CustomField,
    CustomValue,
    FieldKind,
    RetentionPolicy,
    SigningMethod,
    Status,
    Termination,
    TerminationCategory,
)
from .numbering import next_contract_number
from .retention import IN_WORKFLOW, Retention, retention
from .transitions import TRANSITIONS, Transition

CONTRACT_FIELDS = (
    "number", "title", "customer", "our_entity", "counterparty_signatory", "amount", "no_amount_reason",
    "currency", "tax_rate", "effective_date", "expiry_date", "open_ended", "auto_renewal",
    "notice_period_days", "owner", "team", "tags", "description", "nature", "subject_matter", "signing_form",
    "parent", "contract_type",
)
# A contract that has ended is a record: its facts no longer change.
CLOSED_STATUSES = (Status.COMPLETED, Status.EXPIRED, Status.TERMINATED, Status.CANCELLED)
# The number is fixed once the contract leaves draft; it identifies the signed document.
EDITABLE_AFTER_DRAFT = tuple(f for f in CONTRACT_FIELDS if f != "number")
# From submission on, reviewers approve (and the parties sign) these facts: changing one afterwards
# would carry an unreviewed contract through with an approval it never got. Until amendments exist,
# they change only after the contract is returned to draft (which sends it through review again).
FACTS_FROZEN_STATUSES = (Status.IN_REVIEW, Status.APPROVED, Status.SIGNED, Status.ACTIVE)
FROZEN_FIELDS = (
    "title", "customer", "our_entity", "counterparty_signatory", "amount", "no_amount_reason", "currency",
    "tax_rate", "signing_date", "effective_date", "expiry_date", "open_ended", "auto_renewal",
    "notice_period_days", "nature", "subject_matter", "signing_form", "parent",
)
# What stays editable while the facts are frozen is about who looks after the contract and how the
# company files it, not what was agreed: owner and team (a hand-over, still limited by
# check_assignment), tags and the internal description. None of it is in what reviewers approve.




def facts_frozen(contract: Contract) -> bool:
    return contract.status in FACTS_FROZEN_STATUSES


def activates_early(contract: Contract) -> bool:
    """Whether activating `contract` today is ahead of its effective date (allowed, once confirmed)."""
    return contract.effective_date is not None and contract.effective_date > timezone.localdate()


def review_gaps(contract: Contract) -> dict[str, list[str]]:
    """The facts a reviewer needs that `contract` lacks, as {field: [message]}; empty when complete."""
    gaps: dict[str, list[str]] = {}
    if contract.customer_id is None:
        gaps["customer"] = [_("Choose the customer.")]
    if contract.amount <= 0 and not contract.no_amount_reason.strip():
        gaps["amount"] = [_("Enter an amount greater than 0, or the reason the contract has none.")]
    if contract.effective_date is None:
        gaps["effective_date"] = [_("Enter the effective date.")]
    if contract.expiry_date is None and not contract.open_ended:
        gaps["expiry_date"] = [_("Enter the expiry date, or mark the contract open-ended.")]
    return gaps


def _signing_date_error() -> ApplicationError:
    """The signing date is what the `sign` transition records with its event: creating or editing a
    contract never changes it (sending it unchanged is fine, as with a frozen fact)."""
    message = _("The signing date is recorded by signing the contract; it cannot be set here.")
    return ApplicationError(ContractErrorCode.SIGNING_DATE_READ_ONLY, message, fields={"signing_date": [message]})


def _clean_contract_data(actor, data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "tags" in data:
        data["tags"] = ",".join(split_tags(data["tags"]))
    if "number" in data:
        data["number"] = (data["number"] or "").strip()
    if "no_amount_reason" in data:
        data["no_amount_reason"] = (data["no_amount_reason"] or "").strip()
    for key in ("customer", "parent"):
        obj = data.get(key)
        if obj is None:
            continue
        candidates = type(obj).objects.filter(pk=obj.pk)
        if key == "parent":
            candidates = candidates.live()
        # A customer or framework agreement the actor may not see (or a deleted one) is as good as missing.
        if not permissions.visible(actor, candidates).exists():
            raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                                   fields={key: [_("Select a valid choice.")]})
    return data


@transaction.atomic
def contract_create(*, actor, data: Mapping[str, Any]) -> Contract:
    if not policies.can_create_contract(actor):
        raise permission_denied()
    data = _clean_contract_data(actor, data)
    if data.get("signing_date") is not None:
        raise _signing_date_error()
    if data.get("customer") is None:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"customer": [_("This field is required.")]})
    data.setdefault("owner", actor)
    data.setdefault("team", actor.team if data["owner"] == actor else data["owner"].team)
    policies.check_assignment(actor, data["owner"], data.get("team"))
    _check_type(data.get("contract_type"), None)
    custom = custom_fields.clean_values(data.get("contract_type"), data.get("custom_fields"))
    contract = Contract(**{k: v for k, v in data.items() if k in CONTRACT_FIELDS})
    if not contract.number:
        # Skip numbers someone typed by hand, so the sequence never collides with them.
        contract.number = next_contract_number()
        while Contract.objects.filter(number=contract.number).exists():
            contract.number = next_contract_number()
    contract.full_clean()
    contract.save()
    tag_vocabulary.remember(ContractTag, owner_id=contract.owner_id, team_id=contract.team_id, tags=contract.tags)
    changes = snapshot(contract, CONTRACT_FIELDS)
    changes.update(custom_fields.save_values(contract, custom))
    reindex_later(contract_search.KIND, contract.pk)  # queued at commit, indexed by the worker
    events.contract_created_event(actor=actor, contract=contract, changes=changes)
    notices.assigned_notice(actor=actor, contract=contract)  # nobody is told of their own contract
    return contract


def _check_type(new, old) -> None:
    """A contract type no longer in use is kept where it is, never newly chosen."""
    if new is not None and not new.active and (old is None or new.pk != old.pk):
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"contract_type": [_("This contract type is no longer in use.")]})


def _lock(contract: Contract) -> Contract:
    """The contract's row, locked; a deleted contract is gone for every write (404)."""
    try:
        return (Contract.objects.select_for_update(of=("self",)).select_related("customer", "owner", "team")
                .live().get(pk=contract.pk))
    except Contract.DoesNotExist:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found.")) from None


def _changes_frozen_fields(actor, contract: Contract, data: Mapping[str, Any]) -> bool:
    """Whether applying `data` would change a fact approval locks (tried on a copy)."""
    probe = copy.copy(contract)
    changes = model_update(instance=probe, fields=EDITABLE_AFTER_DRAFT, data=_clean_contract_data(actor, data))
    return any(name in changes for name in FROZEN_FIELDS)


@transaction.atomic
def contract_update(*, actor, contract: Contract, data: Mapping[str, Any], expected_version: int | None,
                    void_approval: bool = False) -> Contract:
    """Change a contract. Its facts are locked from submission on; an approved contract's facts change
    only when the user chooses `void_approval`: the contract returns to draft first (its approval
    voided, recorded), and must be approved again."""
    contract = _lock(contract)
    if not policies.can_edit_contract(actor, contract):
        raise permission_denied()
    if expected_version is not None and expected_version != contract.version:
        raise stale_version_error()
    if void_approval and contract.status == Status.APPROVED and _changes_frozen_fields(actor, contract, data):
        contract_transition(actor=actor, contract=contract, name="reopen", via_workflow=True,
                            reason=_("The terms were changed after approval."))
        contract = _lock(contract)
    if contract.status in CLOSED_STATUSES:
        raise ApplicationError(ContractErrorCode.CONTRACT_CLOSED,
                               _("A completed, expired, terminated or cancelled contract can no longer be edited."))
    data = _clean_contract_data(actor, data)
    allowed = CONTRACT_FIELDS if contract.status == "draft" else EDITABLE_AFTER_DRAFT
    if "number" in data and data["number"] != contract.number and "number" not in allowed:
        raise ApplicationError(ErrorCode.INVALID, _("The number cannot change after the draft stage."),
                               fields={"number": [_("The number cannot change after the draft stage.")]})
    if "number" in data and not data["number"]:
        data.pop("number")
    old_type = contract.contract_type
    if "contract_type" in data:
        _check_type(data["contract_type"], old_type)
    new_type = data.get("contract_type", old_type)
    type_changed = getattr(new_type, "pk", None) != getattr(old_type, "pk", None)
    custom = None
    if "custom_fields" in data or type_changed:
        # A new type's required fields must come with it; otherwise what is not sent is kept.
        custom = custom_fields.clean_values(new_type, data.get("custom_fields"), partial=not type_changed)
    changes = model_update(instance=contract, fields=allowed, data=data)
    # The signing date is not among the fields model_update sets: a different one is refused here.
    moved_signing_date = "signing_date" in data and data["signing_date"] != contract.signing_date
    frozen = [name for name in FROZEN_FIELDS
              if name in changes or (name == "signing_date" and moved_signing_date)]
    if frozen and facts_frozen(contract):
        # Raised inside the transaction: the locked copy that model_update changed is thrown away.
        if contract.status == Status.APPROVED:
            message = _("This contract is approved: changing its terms returns it to draft and voids the "
                        "approval. Choose that to go on, or leave the terms as they are.")
        else:
            message = _("This contract is in review or beyond: its facts can change only after it is "
                        "returned to draft.")
        raise ApplicationError(ContractErrorCode.FACTS_FROZEN, message,
                               fields={name: [message] for name in frozen})
    if moved_signing_date:
        raise _signing_date_error()
    if custom is not None:
        changes.update(custom_fields.save_values(contract, custom, type_changed=type_changed))
    if not changes:
        return contract
    if "owner" in changes or "team" in changes:
        policies.check_assignment(actor, contract.owner, contract.team)
    contract.full_clean()
    contract.version += 1
    contract.save()
    tag_vocabulary.remember(ContractTag, owner_id=contract.owner_id, team_id=contract.team_id, tags=contract.tags)
    reindex_later(contract_search.KIND, contract.pk)
    events.contract_updated_event(actor=actor, contract=contract, changes=changes)
    if "owner" in changes:
        notices.assigned_notice(actor=actor, contract=contract)
    return contract


def available_transitions(actor, contract: Contract) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if contract.status in t.sources and policies.can_take(actor, contract, t)]


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
    confirm_early: bool = False,
    via_workflow: bool = False,
    termination: Mapping[str, Any] | None = None,
) -> Contract:
    """Take the transition `name`. Submitting needs the facts review needs (review_gaps); activating
    before the effective date needs `confirm_early`, and the audit event records that it was early.
    The approval workflow's own transitions are taken only by it (`via_workflow`), which has checked
    who may decide. Terminating records `termination` (`terminated_on`, `category`, `settlement_amount`,
    `agreed_by`, `keep_claims`; today, "other", 0, "", keep by default): see `clean_termination`."""
    transition = TRANSITIONS.get(name)
    if transition is None:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Unknown action “%(name)s”.") % {"name": name},
                               status=400)
    contract = _lock(contract)
    if transition.workflow and not via_workflow:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION,
                               _("Contracts are approved, rejected and withdrawn through their approval flow."))
    if not via_workflow and not policies.can_take(actor, contract, transition):
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
    if name == "submit":
        gaps = review_gaps(contract)
        if gaps:
            raise ApplicationError(ContractErrorCode.INCOMPLETE_FOR_REVIEW,
                                   _("Some facts a review needs are missing."), fields=gaps)
    ending = clean_termination(contract, termination or {}) if name == "terminate" else None
    early = name == "activate" and activates_early(contract)
    if early and not confirm_early:
        message = _("The contract takes effect on %(date)s; confirm to activate it now anyway.") % {
            "date": contract.effective_date.isoformat()}
        raise ApplicationError(ContractErrorCode.BEFORE_EFFECTIVE_DATE, message,
                               fields={"confirm_early": [_("Confirm to activate before the effective date.")]})
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
    if early:
        # The date it was activated ahead of: the timeline shows the early activation and by how much.
        changes["activated_early"] = [None, contract.effective_date.isoformat()]
    contract.status_changed_at = timezone.now()
    try:
        contract.full_clean()
    except ValidationError as exc:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields=exc.message_dict) from exc
    contract.version += 1
    contract.save()
    if ending is not None:
        Termination.objects.create(contract=contract, created_by=actor if getattr(actor, "pk", None) else None,
                                   **ending)
        changes["termination"] = [None, {key: audit_value(value) for key, value in ending.items()}]
    if name == "sign":
        amendments.ensure_first_version(contract)  # the terms as signed: version 1
    if transition.target in CLOSED_STATUSES:
        amendments.close_open_amendments(actor=actor, contract=contract)
    reindex_later(contract_search.KIND, contract.pk)
    events.contract_transitioned_event(actor=actor, contract=contract, transition=transition, changes=changes)
    if not transition.workflow:  # the workflow tells people about its own outcomes
        notices.status_changed_notice(actor=actor, contract=contract)
    signals.contract_transitioned.send(sender=Contract, contract=contract, name=name, actor=actor)
    return contract


def clean_termination(contract: Contract, data: Mapping[str, Any]) -> dict:
    """A termination's record, checked: the date (not in the future, not before the signing), the
    reason's category, the settlement (0 or more, in the contract's currency), who agreed, and whether
    what is still owed stays a claim."""
    from qiyue.core.money import fits_minor_unit

    errors: dict[str, list[str]] = {}
    day = data.get("terminated_on") or timezone.localdate()
    if isinstance(day, str):
        try:
            day = datetime.date.fromisoformat(day)
        except ValueError:
            errors["terminated_on"] = [_("Enter a valid date.")]
    if not errors and day > timezone.localdate():
        errors["terminated_on"] = [_("The date cannot be in the future.")]
    elif not errors and contract.signing_date and day < contract.signing_date:
        errors["terminated_on"] = [_("The contract cannot end before it was signed.")]
    category = data.get("category") or TerminationCategory.OTHER
    if category not in TerminationCategory.values:
        errors["category"] = [_("Choose a reason category.")]
    settlement = data.get("settlement_amount")
    try:
        settlement = Decimal(str(settlement).replace(",", "").strip()) if settlement not in (None, "") else Decimal(0)
        if not settlement.is_finite() or settlement < 0 or settlement > Decimal("99999999999999.99"):
            raise ValueError
        if not fits_minor_unit(settlement, contract.currency):
            errors["settlement_amount"] = [_("%(currency)s amounts cannot have this many decimals.") % {
                "currency": contract.currency}]
    except (ArithmeticError, ValueError):
        errors["settlement_amount"] = [_("Enter an amount of 0 or more.")]
    agreed_by = str(data.get("agreed_by") or "").strip()
    if len(agreed_by) > 200:
        errors["agreed_by"] = [_("At most 200 characters.")]
    if errors:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields=errors)
    keep = data.get("keep_claims", True)
    return {"terminated_on": day, "category": category, "settlement_amount": settlement, "agreed_by": agreed_by,
            "keep_claims": keep not in (False, "false", "0", "", "off", None)}


# What a renewal copies from the contract it continues.
RENEWAL_COPIES = ("title", "customer", "our_entity", "counterparty_signatory", "amount", "no_amount_reason",
                  "currency", "tax_rate", "auto_renewal", "notice_period_days", "owner", "team", "tags",
                  "description", "nature", "subject_matter", "signing_form", "parent", "contract_type")
RENEWABLE = (Status.SIGNED, Status.ACTIVE, Status.COMPLETED, Status.EXPIRED)


def open_renewal(contract: Contract) -> Contract | None:
    """The renewal of `contract` that is not cancelled, if any."""
    # Unordered: an order by id would walk the whole table rather than the `renewal_of` index.
    return next(iter(contract.renewals.live().exclude(status=Status.CANCELLED).order_by()[:1]), None)


def contract_renew(*, actor, contract: Contract) -> Contract:
    """Start the renewal (续签) of `contract`: a new draft with its terms, for the period that follows
    (from the day after its expiry, as long as it ran), linked to it both ways. One at a time: a renewal
    that is not cancelled must be used or cancelled first."""
    with transaction.atomic():
        contract = _lock(contract)
        if not policies.can_renew(actor, contract):
            raise permission_denied()
        if contract.status not in RENEWABLE:
            raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _(
                "Only a signed, active, completed or expired contract is renewed."))
        existing = open_renewal(contract)
        if existing is not None:
            raise ApplicationError(ContractErrorCode.ALREADY_RENEWED, _(
                "This contract is already being renewed by %(number)s.") % {"number": existing.number})
        data = {name: getattr(contract, name) for name in RENEWAL_COPIES}
        if not permissions.can_see(actor, contract.customer) or (
                contract.parent_id and not permissions.can_see(actor, contract.parent)):
            raise permission_denied()
        if contract.contract_type_id and not contract.contract_type.active:
            data["contract_type"] = None
        start = contract.expiry_date + datetime.timedelta(days=1) if contract.expiry_date else timezone.localdate()
        data["effective_date"] = start
        data["open_ended"] = contract.open_ended
        if contract.expiry_date and contract.effective_date and not contract.open_ended:
            data["expiry_date"] = start + (contract.expiry_date - contract.effective_date)
        if not policies.can_create_contract(contract.owner) or not policies.can_edit_contract(actor, contract):
            data["owner"] = actor
        successor = contract_create(actor=actor, data=data)
        Contract.objects.filter(pk=successor.pk).update(renewal_of=contract)
        successor.renewal_of = contract
        events.contract_renewed_event(actor=actor, contract=contract, successor=successor)
        return successor


def renewal_term_end(expiry: datetime.date, term_start: datetime.date | None,
                     term_end: datetime.date | None) -> datetime.date:
    """`expiry` plus one term, the term being term_start → term_end as agreed: in whole months when it
    is whole months (1 Jan – 31 Dec is 12 months, so the next term ends on 31 Dec), else in days; a
    contract without an agreed start runs on for a year at a time."""
    if term_start is None or term_end is None or term_start > term_end:
        return expiry + relativedelta(years=1)
    after = term_end + datetime.timedelta(days=1)
    months = (after.year - term_start.year) * 12 + after.month - term_start.month
    if months > 0 and term_start + relativedelta(months=months) == after:
        return expiry + datetime.timedelta(days=1) + relativedelta(months=months) - datetime.timedelta(days=1)
    return expiry + (after - term_start)


def agreed_term(contract: Contract) -> tuple[datetime.date | None, datetime.date | None]:
    """The term as last agreed (the latest signed version's dates; rolling forward changes only the
    contract's expiry), else the contract's own effective and expiry dates."""
    latest = contract.versions.order_by("-number").values_list("facts", flat=True).first() or {}
    try:
        start = datetime.date.fromisoformat(latest["effective_date"])
        end = datetime.date.fromisoformat(latest["expiry_date"])
    except (KeyError, TypeError, ValueError):
        return contract.effective_date, contract.expiry_date
    return start, end


@transaction.atomic
def contract_auto_renew(*, actor, contract: Contract, expected_expiry: datetime.date | None = None,
                        today: datetime.date | None = None) -> Contract:
    """Roll an auto-renewing contract's expiry forward by one term once its notice deadline (expiry
    minus the notice period) has passed without notice (R7): the system actor's action, audited with
    the old and new expiry dates. `expected_expiry`: only if the expiry is still that date (a scan
    running beside another rolls each term once)."""
    contract = _lock(contract)
    if not is_system(actor):
        raise permission_denied()
    if contract.status != Status.ACTIVE or not contract.auto_renewal or contract.expiry_date is None:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Only an active contract that renews "
                                                               "automatically and has an expiry date is renewed."))
    if expected_expiry is not None and contract.expiry_date != expected_expiry:
        raise stale_version_error()
    deadline = contract.expiry_date - datetime.timedelta(days=contract.notice_period_days)
    if deadline >= (today or timezone.localdate()):
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("The notice deadline has not passed yet."))
    before = contract.expiry_date
    contract.expiry_date = renewal_term_end(contract.expiry_date, *agreed_term(contract))
    contract.version += 1
    contract.save(update_fields=["expiry_date", "version", "updated_at"])
    reindex_later(contract_search.KIND, contract.pk)
    events.contract_auto_renewed_event(actor=actor, contract=contract, changes={
        "expiry_date": [before.isoformat(), contract.expiry_date.isoformat()]})
    return contract


# --- archive: legal hold, soft deletion, retention policies (R8.2) ----------------------------------



def _reason(reason: str, *, required: bool = True) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ApplicationError(ErrorCode.REASON_REQUIRED, _("Please give a reason."),
                               fields={"reason": [_("A reason is required for this action.")]})
    if len(reason) > 1000:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"reason": [_("At most 1000 characters.")]})
    return reason


def retention_years(nature: str) -> int | None:
    return RetentionPolicy.objects.filter(nature=nature).values_list("retention_years", flat=True).first()


def contract_retention(contract: Contract) -> Retention:
    return retention(contract, retention_years(contract.nature))


@transaction.atomic
def contract_set_legal_hold(*, actor, contract: Contract, hold: bool, reason: str) -> Contract:
    """Place (hold=True) or release a legal hold. Both need a reason, which the contract keeps
    (the reason of the last decision) and the audit event records."""
    contract = _lock(contract)
    if not policies.can_set_legal_hold(actor):
        raise permission_denied()
    reason = _reason(reason)
    if not hold and not contract.legal_hold:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("This contract is not under legal hold."))
    changes = model_update(instance=contract, fields=("legal_hold", "legal_hold_reason"),
                           data={"legal_hold": bool(hold), "legal_hold_reason": reason})
    if not changes:
        return contract
    contract.full_clean()
    contract.version += 1
    contract.save()
    events.contract_legal_hold_event(actor=actor, contract=contract, hold=bool(hold), changes=changes)
    return contract


@transaction.atomic
def contract_delete(*, actor, contract: Contract, reason: str, today: datetime.date | None = None) -> Contract:
    """Delete a contract softly: it disappears from every list, page, count and the API, while its
    row, files and audit trail stay. Refused under legal hold, within retention, while in review
    or approved (return or cancel it first), and while it has supplements that are not deleted."""
    contract = _lock(contract)
    if not policies.can_delete_contract(actor, contract):
        raise permission_denied()
    reason = _reason(reason)
    if contract.legal_hold:
        raise ApplicationError(ContractErrorCode.LEGAL_HOLD,
                               _("This contract is under legal hold and cannot be deleted."))
    if contract.status in IN_WORKFLOW:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION,
                               _("A contract in review or approved cannot be deleted; return it to draft "
                                 "or cancel it first."))
    kept = contract_retention(contract)
    if kept.within(today or timezone.localdate()):
        if kept.running or kept.until is None:
            message = _("This contract is within its retention period and cannot be deleted.")
        else:
            message = _("This contract is within its retention period until %(date)s and cannot be deleted.") % {
                "date": kept.until.isoformat()}
        raise ApplicationError(ContractErrorCode.WITHIN_RETENTION, message)
    if Contract.objects.live().filter(parent=contract).exists():
        raise ApplicationError(ContractErrorCode.HAS_SUPPLEMENTS,
                               _("Delete the supplements of this framework agreement first."))
    changes = model_update(instance=contract, fields=("deleted_at", "deleted_reason"),
                           data={"deleted_at": timezone.now(), "deleted_reason": reason})
    contract.full_clean()
    contract.version += 1
    contract.save()
    reindex_later(contract_search.KIND, contract.pk)
    events.contract_deleted_event(actor=actor, contract=contract, changes=changes)
    return contract


RETENTION_POLICY_FIELDS = ("retention_years", "description")


@transaction.atomic
def retention_policy_update(*, actor, policy: RetentionPolicy, data: Mapping[str, Any]) -> RetentionPolicy:
    if not policies.can_manage_retention(actor):
        raise permission_denied()
    policy = RetentionPolicy.objects.select_for_update().get(pk=policy.pk)
    changes = model_update(instance=policy, fields=RETENTION_POLICY_FIELDS, data=data)
    if not changes:
        return policy
    try:
        policy.full_clean()
    except ValidationError as exc:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields=exc.message_dict) from exc
    policy.save()
    events.retention_policy_updated_event(actor=actor, policy=policy, changes=changes)
    return policy


# --- Contract types and their custom fields (administrators) ------------------------------------

TYPE_FIELDS = ("name_zh", "name_en", "active")
FIELD_FIELDS = ("label_zh", "label_en", "required", "choices", "position", "active")
CHOICE_KINDS = (FieldKind.CHOICE, FieldKind.MULTI_CHOICE)
MAX_CHOICES = 200


def _require_types_admin(actor) -> None:
    if not policies.can_manage_contract_types(actor):
        raise permission_denied()


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields={field: [message]})


@transaction.atomic
def contract_type_save(*, actor, contract_type: ContractType | None, data: Mapping[str, Any]) -> ContractType:
    _require_types_admin(actor)
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items() if k in TYPE_FIELDS}
    created = contract_type is None
    if created:
        contract_type = ContractType()
    else:
        contract_type = ContractType.objects.select_for_update().get(pk=contract_type.pk)
    if ContractType.objects.filter(name_zh__iexact=data.get("name_zh", contract_type.name_zh)).exclude(
            pk=contract_type.pk).exists():
        raise _invalid("name_zh", _("A contract type of this name exists already."))
    changes = model_update(instance=contract_type, fields=TYPE_FIELDS, data=data)
    if not changes and not created:
        return contract_type
    contract_type.full_clean()
    contract_type.save()
    events.contract_type_event(actor=actor, contract_type=contract_type, created=created, changes=changes)
    return contract_type


def parse_choices(text: str) -> list[dict]:
    """Choices typed one per line as `value | 中文 | English` (the labels optional)."""
    choices, seen = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        value = parts[0]
        if not value or len(value) > 100 or len(parts) > 3 or any(len(p) > 100 for p in parts):
            raise _invalid("choices", _("Line %(n)d: write “value | 中文 | English”, each at most 100 characters.")
                           % {"n": number})
        if value in seen:
            raise _invalid("choices", _("Line %(n)d: the value “%(value)s” is there twice.") % {"n": number,
                                                                                             "value": value})
        seen.add(value)
        choices.append({"value": value, "zh": parts[1] if len(parts) > 1 and parts[1] else value,
                        "en": parts[2] if len(parts) > 2 else ""})
    if len(choices) > MAX_CHOICES:
        raise _invalid("choices", _("At most %(n)d choices.") % {"n": MAX_CHOICES})
    return choices


@transaction.atomic
def custom_field_save(*, actor, contract_type: ContractType, field: CustomField | None,
                      data: Mapping[str, Any]) -> CustomField:
    """Add a field to a contract type, or change one. Its key and kind never change once it exists
    (values are stored by them); a choice kept by contracts cannot be removed, only relabelled."""
    _require_types_admin(actor)
    created = field is None
    if created:
        key = (data.get("key") or "").strip()
        if CustomField.objects.filter(contract_type=contract_type, key=key).exists():
            raise _invalid("key", _("This contract type has a field with this key already."))
        field = CustomField(contract_type=contract_type, key=key, kind=data.get("kind") or "")
    else:
        field = CustomField.objects.select_for_update().get(pk=field.pk)
    data = dict(data)
    if "choices" in data and isinstance(data["choices"], str):
        data["choices"] = parse_choices(data["choices"])
    if field.kind in CHOICE_KINDS:
        if not data.get("choices", field.choices):
            raise _invalid("choices", _("A choice field needs at least one choice."))
        kept = set(CustomValue.objects.filter(field=field).values_list("text", flat=True)) if field.pk else set()
        missing = kept - {choice["value"] for choice in data.get("choices", field.choices)}
        if missing:
            raise _invalid("choices", _("Contracts use these values, so they stay: %(values)s.")
                           % {"values": ", ".join(sorted(missing))})
    else:
        data["choices"] = []
    changes = model_update(instance=field, fields=FIELD_FIELDS, data=data)
    if created:
        changes = snapshot(field, ("key", "kind", *FIELD_FIELDS))
    if not changes:
        return field
    field.full_clean()
    field.save()
    events.custom_field_event(actor=actor, field=field, created=created, changes=changes)
    return field
