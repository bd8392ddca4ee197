from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from qiyue.core import permissions
from qiyue.core import tags as tag_vocabulary
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.core.search_kinds import reindex_later
from qiyue.core.services import model_update, snapshot
from qiyue.core.text import normalize_company_name, split_tags
from qiyue.core.validators import normalize_credit_code

from . import events, policies
from . import search as customer_search
from .errors import CustomerErrorCode
from .models import Communication, Contact, Customer, CustomerTag
from .selectors import customer_duplicates

CUSTOMER_FIELDS = ("name", "credit_code", "industry", "level", "address", "owner", "team", "tags", "notes",
                   "invoice_title", "taxpayer_id", "invoice_address_phone", "invoice_bank_account")
CONTACT_FIELDS = ("name", "title", "phone", "email", "is_primary")
COMMUNICATION_FIELDS = ("occurred_on", "channel", "summary", "contract")


def _clean_customer_data(data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if "name" in data:
        data["name"] = (data["name"] or "").strip()
    if "credit_code" in data:
        data["credit_code"] = normalize_credit_code(data["credit_code"]) or None
    if "tags" in data:
        data["tags"] = ",".join(split_tags(data["tags"]))
    return data


def _check_duplicates(actor, customer: Customer, confirm_duplicate: bool) -> None:
    """Warn about a near-identical name anywhere (so nobody creates a second record of a customer
    another team already has), but name only the customers the actor may see."""
    if confirm_duplicate:
        return
    dupes = customer_duplicates(name=customer.name, exclude_pk=customer.pk)
    if not dupes:
        return
    names = "、".join(c.name for c in dupes[:3] if policies.can_see_customer(actor, c))
    if names:
        message = _("A customer with a very similar name already exists: %(names)s. Confirm to save anyway.") % {
            "names": names}
        field = _("Similar to an existing customer: %(names)s") % {"names": names}
    else:
        message = _("Another team already has a customer with a very similar name. Confirm to save anyway.")
        field = _("Another team already has a customer with a very similar name.")
    raise ApplicationError(CustomerErrorCode.DUPLICATE_CUSTOMER, message, fields={"name": [field]})


@transaction.atomic
def customer_create(*, actor, data: Mapping[str, Any], confirm_duplicate: bool = False) -> Customer:
    if not policies.can_create_customer(actor):
        raise permission_denied()
    data = _clean_customer_data(data)
    data.setdefault("owner", actor)
    data.setdefault("team", actor.team if data["owner"] == actor else data["owner"].team)
    policies.check_assignment(actor, data["owner"], data.get("team"))
    customer = Customer(**{k: v for k, v in data.items() if k in CUSTOMER_FIELDS})
    customer.name_normalized = normalize_company_name(customer.name)
    customer.full_clean()
    _check_duplicates(actor, customer, confirm_duplicate)
    customer.save()
    tag_vocabulary.remember(CustomerTag, owner_id=customer.owner_id, team_id=customer.team_id, tags=customer.tags)
    reindex_later(customer_search.KIND, customer.pk)  # queued at commit, indexed by the worker
    events.customer_created_event(actor=actor, customer=customer, changes=snapshot(customer, CUSTOMER_FIELDS))
    return customer


@transaction.atomic
def customer_update(*, actor, customer: Customer, data: Mapping[str, Any], expected_version: int | None,
                    confirm_duplicate: bool = False) -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not policies.can_edit_customer(actor, customer):
        raise permission_denied()
    if expected_version is not None and expected_version != customer.version:
        raise stale_version_error()
    data = _clean_customer_data(data)
    old_name = customer.name
    changes = model_update(instance=customer, fields=CUSTOMER_FIELDS, data=data)
    if not changes:
        return customer
    if "owner" in changes or "team" in changes:
        policies.check_assignment(actor, customer.owner, customer.team)
    customer.name_normalized = normalize_company_name(customer.name)
    customer.full_clean()
    if customer.name != old_name:
        _check_duplicates(actor, customer, confirm_duplicate)
    customer.version += 1
    customer.save()
    tag_vocabulary.remember(CustomerTag, owner_id=customer.owner_id, team_id=customer.team_id, tags=customer.tags)
    reindex_later(customer_search.KIND, customer.pk)
    events.customer_updated_event(actor=actor, customer=customer, changes=changes)
    return customer


def _require_edit(actor, customer: Customer) -> None:
    if not policies.can_edit_customer(actor, customer):
        raise permission_denied()


@transaction.atomic
def contact_create(*, actor, customer: Customer, data: Mapping[str, Any]) -> Contact:
    _require_edit(actor, customer)
    contact = Contact(customer=customer, **{k: v for k, v in data.items() if k in CONTACT_FIELDS})
    contact.full_clean()
    contact.save()
    events.contact_created_event(actor=actor, contact=contact, changes=snapshot(contact, CONTACT_FIELDS))
    return contact


@transaction.atomic
def contact_update(*, actor, contact: Contact, data: Mapping[str, Any]) -> Contact:
    contact = Contact.objects.select_for_update(of=("self",)).select_related("customer").get(pk=contact.pk)
    _require_edit(actor, contact.customer)
    changes = model_update(instance=contact, fields=CONTACT_FIELDS, data=data)
    if changes:
        contact.full_clean()
        contact.save()
        events.contact_updated_event(actor=actor, contact=contact, changes=changes)
    return contact


@transaction.atomic
def contact_delete(*, actor, contact: Contact) -> None:
    _require_edit(actor, contact.customer)
    changes = {k: [v[1], None] for k, v in snapshot(contact, CONTACT_FIELDS).items()}
    events.contact_deleted_event(actor=actor, contact=contact, changes=changes)
    contact.delete()


@transaction.atomic
def communication_create(*, actor, customer: Customer, data: Mapping[str, Any]) -> Communication:
    _require_edit(actor, customer)
    record = Communication(customer=customer, author=actor,
                           **{k: v for k, v in data.items() if k in COMMUNICATION_FIELDS})
    record.full_clean()
    if record.contract_id is not None and (record.contract.customer_id != customer.pk
                                           or not permissions.can_see(actor, record.contract)):
        raise ApplicationError(ErrorCode.INVALID, _("The contract belongs to another customer."),
                               fields={"contract": [_("Choose a contract of this customer.")]})
    record.save()
    events.communication_created_event(actor=actor, communication=record,
                                       changes=snapshot(record, COMMUNICATION_FIELDS))
    return record
