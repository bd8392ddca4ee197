"""Amendments (变更, R6.3) and contract versions: a signed or active contract changes its agreed terms only
through an amendment, approved like a contract (the workflow app runs its approval on the signal
`amendment_submitted`) and then signed; signing applies its values to the contract, which keeps every
earlier version whole."""

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models as db_models
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.core.search_kinds import reindex_later
from qiyue.core.services import audit_value, model_update

from . import events, policies, signals
from . import search as contract_search
from .errors import ContractErrorCode
from .models import Amendment, AmendmentStatus, Contract, ContractVersion, Status

# The agreed terms an amendment may change (payment and other terms are written in words).
AMENDABLE = ("amount", "tax_rate", "effective_date", "expiry_date", "open_ended", "auto_renewal",
             "notice_period_days")
# What a version keeps.
VERSION_FACTS = (*AMENDABLE, "currency", "payment_terms", "other_terms")
AMENDABLE_STATUSES = (Status.SIGNED, Status.ACTIVE)
OPEN = (AmendmentStatus.DRAFT, AmendmentStatus.IN_REVIEW, AmendmentStatus.APPROVED)
TEXTS = {"reason": 1000, "payment_terms": 2000, "other_terms": 4000}


def _invalid(fields: dict) -> ApplicationError:
    return ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields=fields)


def _lock_contract(contract: Contract) -> Contract:
    row = (Contract.objects.select_for_update(of=("self",)).select_related("customer", "owner", "team").live()
           .filter(pk=contract.pk).first())
    if row is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    return row


def _lock(amendment: Amendment) -> tuple[Contract, Amendment]:
    contract = _lock_contract(amendment.contract)
    return contract, Amendment.objects.select_for_update().get(pk=amendment.pk)


def _lock_to_change(actor, amendment: Amendment, expected_version: int | None) -> tuple[Contract, Amendment]:
    """The contract and the amendment, locked, for one of the contract's editors, as the page saw it."""
    contract, amendment = _lock(amendment)
    if not policies.can_amend(actor, contract):
        raise permission_denied()
    if expected_version is not None and expected_version != amendment.version:
        raise stale_version_error()
    return contract, amendment


def _texts(data: Mapping[str, Any], *, required_reason: bool) -> dict[str, str]:
    values, errors = {}, {}
    for key, limit in TEXTS.items():
        if key not in data:
            continue
        value = data.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[key] = [_("Enter text.")]
            continue
        value = value.strip()
        if len(value) > limit:
            errors[key] = [_("At most %(n)d characters.") % {"n": limit}]
        values[key] = value
    if required_reason and not values.get("reason"):
        errors["reason"] = [_("Say why the contract changes.")]
    if errors:
        raise _invalid(errors)
    return values


def _typed(field, value):
    """`value` as the field's own type, refusing what a model field would silently coerce (a flag for a
    number, a fraction for a whole number); amounts kept to the field's decimal places."""
    is_flag = isinstance(field, db_models.BooleanField)
    if isinstance(value, bool) != is_flag and value is not None and not (is_flag and isinstance(value, str)):
        raise ValidationError(_("Enter a valid value."))
    if isinstance(field, db_models.IntegerField) and isinstance(value, float) and not value.is_integer():
        raise ValidationError(_("Enter a whole number."))
    python = field.to_python(value)
    if isinstance(field, db_models.DecimalField) and python is not None:
        if not python.is_finite():
            raise ValidationError(_("Enter a number."))
        try:
            python = python.quantize(Decimal(1).scaleb(-field.decimal_places))
        except ArithmeticError:  # more digits than any amount has
            raise ValidationError(_("Enter a number.")) from None
    return python


def clean_changes(contract: Contract, raw) -> dict[str, str]:
    """The new values `raw` gives for the amendable terms, as audit text, keeping only those that differ
    from the contract's; every value checked as the contract's own field (and together, as a contract)."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        raise _invalid({"changes": [_("Give the new values by field.")]})
    unknown = set(raw) - set(AMENDABLE)
    if unknown:
        raise _invalid({"changes": [_("These cannot change by amendment: %(fields)s.") % {
            "fields": ", ".join(sorted(map(str, unknown)))[:200]}]})
    probe = Contract(**{name: getattr(contract, name) for name in (*AMENDABLE, "currency", "no_amount_reason")})
    errors, changed = {}, {}
    for name, value in raw.items():
        field = Contract._meta.get_field(name)
        try:
            python = _typed(field, value)
            if python is None and not field.null:
                raise ValidationError(_("This field is required."))
            for validator in field.validators:
                validator(python)
        except (ValidationError, TypeError, ValueError) as exc:
            errors[name] = list(getattr(exc, "messages", [str(exc)]))
            continue
        if python != getattr(contract, name):
            setattr(probe, name, python)
            changed[name] = python
    if errors:
        raise _invalid(errors)
    if probe.amount:
        probe.no_amount_reason = ""  # a framework agreement priced by its amendment: the reason goes
    try:
        probe.clean()  # the rules between the terms (expiry after the effective date, open-ended …)
    except ValidationError as exc:
        raise _invalid(exc.message_dict if hasattr(exc, "error_dict") else {"changes": exc.messages}) from exc
    return {name: audit_value(value) for name, value in changed.items()}


def _check_open(contract: Contract, *, excluding: int | None = None) -> None:
    rows = Amendment.objects.filter(contract=contract, status__in=OPEN)
    if excluding:
        rows = rows.exclude(pk=excluding)
    if rows.exists():
        raise ApplicationError(ContractErrorCode.AMENDMENT_OPEN, _(
            "This contract has an amendment under way: finish or cancel it first."))


@transaction.atomic
def amendment_create(*, actor, contract: Contract, data: Mapping[str, Any]) -> Amendment:
    """Raise an amendment of a signed or active contract: new values, the reason, terms in words."""
    contract = _lock_contract(contract)
    if not policies.can_amend(actor, contract):
        raise permission_denied()
    if contract.status not in AMENDABLE_STATUSES:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Only a signed or active contract is amended."))
    _check_open(contract)
    texts = _texts(data, required_reason=True)
    changes = clean_changes(contract, data.get("changes"))
    if not changes and not texts.get("payment_terms") and not texts.get("other_terms"):
        raise _invalid({"changes": [_("Change at least one term.")]})
    document = data.get("document")
    if document is not None and getattr(document, "contract_id", None) != contract.pk:
        raise _invalid({"document": [_("Choose a document of this contract.")]})
    number = (Amendment.objects.filter(contract=contract).aggregate(n=Max("number"))["n"] or 0) + 1
    amendment = Amendment.objects.create(contract=contract, number=number, changes=changes, created_by=actor,
                                         document=document, **texts)
    events.amendment_event(actor=actor, action="amendment.created", amendment=amendment,
                           changes=_described(contract, changes, texts))
    return amendment


def _described(contract: Contract, changes: dict, texts: dict) -> dict:
    described = {name: [audit_value(getattr(contract, name)), value] for name, value in changes.items()}
    described.update({key: value for key, value in texts.items() if value})
    return described


@transaction.atomic
def amendment_update(*, actor, amendment: Amendment, data: Mapping[str, Any],
                     expected_version: int | None = None) -> Amendment:
    contract, amendment = _lock_to_change(actor, amendment, expected_version)
    if amendment.status != AmendmentStatus.DRAFT:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Only a draft amendment changes."))
    texts = _texts(data, required_reason="reason" in data)
    if "changes" in data:
        amendment.changes = clean_changes(contract, data.get("changes"))
    for key, value in texts.items():
        setattr(amendment, key, value)
    if not amendment.changes and not amendment.payment_terms and not amendment.other_terms:
        raise _invalid({"changes": [_("Change at least one term.")]})
    amendment.version += 1
    amendment.save()
    events.amendment_event(actor=actor, action="amendment.updated", amendment=amendment,
                           changes=_described(contract, amendment.changes, texts))
    return amendment


def _move(actor, amendment: Amendment, contract: Contract, status: str, action: str, *, reason: str = "") -> None:
    before = amendment.status
    amendment.status = status
    amendment.version += 1
    amendment.save(update_fields=["status", "version"])
    events.amendment_event(actor=actor, action=action, amendment=amendment,
                           changes={"status": [before, status], **({"reason": reason} if reason else {})})


@transaction.atomic
def amendment_submit(*, actor, amendment: Amendment, expected_version: int | None = None) -> Amendment:
    """Send the amendment for approval: the workflow app starts it (signal amendment_submitted)."""
    contract, amendment = _lock_to_change(actor, amendment, expected_version)
    if amendment.status != AmendmentStatus.DRAFT:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Only a draft amendment is submitted."))
    if contract.status not in AMENDABLE_STATUSES:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Only a signed or active contract is amended."))
    _move(actor, amendment, contract, AmendmentStatus.IN_REVIEW, "amendment.submitted")
    signals.amendment_submitted.send(sender=Amendment, amendment=amendment, contract=contract, actor=actor)
    return amendment


@transaction.atomic
def amendment_settle(*, actor, amendment: Amendment, outcome: str, reason: str = "") -> Amendment:
    """The approval's outcome (called by the workflow app): approved, or back to draft when rejected
    or withdrawn."""
    contract, amendment = _lock(amendment)
    if amendment.status != AmendmentStatus.IN_REVIEW:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("This amendment is not in review."))
    target = AmendmentStatus.APPROVED if outcome == "approved" else AmendmentStatus.DRAFT
    _move(actor, amendment, contract, target, f"amendment.{outcome}", reason=reason)
    return amendment


@transaction.atomic
def amendment_cancel(*, actor, amendment: Amendment, reason: str = "",
                     expected_version: int | None = None) -> Amendment:
    contract, amendment = _lock_to_change(actor, amendment, expected_version)
    if amendment.status not in (AmendmentStatus.DRAFT, AmendmentStatus.APPROVED):
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _(
            "An amendment in review is withdrawn from its approval first; a signed one stays."))
    reason = _texts({"reason": reason}, required_reason=True)["reason"]
    _move(actor, amendment, contract, AmendmentStatus.CANCELLED, "amendment.cancelled", reason=reason)
    return amendment


def close_open_amendments(*, actor, contract: Contract) -> None:
    """A contract that ended (terminated, completed, expired) is no longer amended: amendments under way
    are cancelled (their approvals end with them: the workflow app listens to the transition)."""
    for amendment in Amendment.objects.select_for_update().filter(contract=contract, status__in=OPEN):
        _move(actor, amendment, contract, AmendmentStatus.CANCELLED, "amendment.cancelled",
              reason=_("The contract ended."))


def _facts(contract: Contract, *, payment_terms: str = "", other_terms: str = "") -> dict:
    facts = {name: audit_value(getattr(contract, name)) for name in (*AMENDABLE, "currency")}
    facts.update(payment_terms=payment_terms, other_terms=other_terms)
    return facts


def ensure_first_version(contract: Contract) -> ContractVersion:
    """Version 1, the terms as signed (made by the sign transition; for a contract signed before
    versions were kept, by its first amendment's signing)."""
    first = ContractVersion.objects.filter(contract=contract).order_by("number").first()
    if first is None:
        first = ContractVersion.objects.create(contract=contract, number=1, facts=_facts(contract),
                                               effective_on=contract.signing_date or contract.effective_date)
    return first


@transaction.atomic
def amendment_sign(*, actor, amendment: Amendment, signed_on: datetime.date | None,
                   expected_version: int | None = None) -> Amendment:
    """Record that the approved amendment was signed: its values become the contract's, and the
    contract's new version is kept beside the earlier ones."""
    contract, amendment = _lock_to_change(actor, amendment, expected_version)
    if amendment.status != AmendmentStatus.APPROVED:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Only an approved amendment is signed."))
    if contract.status not in AMENDABLE_STATUSES:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("Only a signed or active contract is amended."))
    if not isinstance(signed_on, datetime.date):
        raise _invalid({"signed_on": [_("Enter the signing date.")]})
    if signed_on > timezone.localdate():
        raise _invalid({"signed_on": [_("The signing date cannot be in the future.")]})
    ensure_first_version(contract)
    values = {name: Contract._meta.get_field(name).to_python(value) for name, value in amendment.changes.items()}
    if values.get("amount"):
        values["no_amount_reason"] = ""
    changes = model_update(instance=contract, fields=(*AMENDABLE, "no_amount_reason"), data=values)
    try:
        contract.full_clean()
    except ValidationError as exc:
        raise _invalid(exc.message_dict) from exc
    contract.version += 1
    contract.save()
    number = ContractVersion.objects.filter(contract=contract).aggregate(n=Max("number"))["n"] + 1
    ContractVersion.objects.create(contract=contract, number=number, amendment=amendment, effective_on=signed_on,
                                   facts=_facts(contract, payment_terms=amendment.payment_terms,
                                                other_terms=amendment.other_terms))
    amendment.signed_on = signed_on
    amendment.status = AmendmentStatus.SIGNED
    amendment.version += 1
    amendment.save(update_fields=["signed_on", "status", "version"])
    reindex_later(contract_search.KIND, contract.pk)
    events.contract_amended_event(actor=actor, contract=contract, amendment=amendment, changes={
        **changes, "version": [number - 1, number]})
    return amendment


# --- Reading ---------------------------------------------------------------------------------------

def versions(contract: Contract) -> list[ContractVersion]:
    return list(ContractVersion.objects.filter(contract=contract).select_related("amendment").order_by("number"))


def labels() -> dict[str, str]:
    named = {name: str(capfirst(Contract._meta.get_field(name).verbose_name)) for name in (*AMENDABLE, "currency")}
    named.update(payment_terms=str(capfirst(Amendment._meta.get_field("payment_terms").verbose_name)),
                 other_terms=str(capfirst(Amendment._meta.get_field("other_terms").verbose_name)))
    return named


def compare(first: ContractVersion, second: ContractVersion) -> list[dict]:
    """Every kept fact of two versions, in order, with whether it differs."""
    names = labels()
    return [{"field": name, "label": names[name], "old": first.facts.get(name, ""), "new": second.facts.get(name, ""),
             "changed": first.facts.get(name, "") != second.facts.get(name, "")} for name in VERSION_FACTS]


def change_rows(amendment: Amendment) -> list[dict]:
    """What an amendment changes: each term's value now and the new one."""
    names = labels()
    contract = amendment.contract
    version = getattr(amendment, "contract_version", None) if amendment.status == AmendmentStatus.SIGNED else None
    previous = (ContractVersion.objects.filter(contract=contract, number=version.number - 1).first()
                if version is not None else None)
    rows = []
    for name, value in amendment.changes.items():
        # Signed: the value it replaced; otherwise the contract's value now.
        if version is not None:
            before = previous.facts.get(name, "") if previous else ""
        else:
            before = audit_value(getattr(contract, name))
        rows.append({"field": name, "label": names.get(name, name), "old": before, "new": value})
    return rows
