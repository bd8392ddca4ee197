"""The authorization matrix: every API operation of the published OpenAPI schema and every URL pattern
of the UI, for every role (and an anonymous visitor), on the rows of the signed-in user, of their team,
of another team and on a missing id. The expected answer of each cell is computed from the policies
(`qiyue.core.permissions.can_see` and the apps' `policies.py`), not written by hand: a rule below is a
list of steps, the first that refuses decides (log in, 404, 403), else the request is allowed.

A new endpoint or page without an entry in API or UI fails `test_every_endpoint_has_an_entry`: add one
(see docs/security.md, "Adding an endpoint to the authorization matrix").

Outcomes: `login` (401 on the API, a redirect to the log-in page in the UI), `404` (also a 400 naming
the id as `does_not_exist`: an id in a request body the user may not see), `403`, `ok` (2xx/3xx; for a
write also a 400/409, i.e. authorization passed and the input or the record's state was refused).
Writes run in a transaction that is rolled back, so every cell sees the same data."""

import copy
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from qiyue.accounts.policies import can_manage_users, can_set_delegation
from qiyue.accounts.services import delegation_create
from qiyue.accounts.tests.factories import PASSWORD, make_role_users, make_team
from qiyue.audit.models import AuditEvent
from qiyue.audit.policies import can_read_audit_log
from qiyue.contracts import amendments
from qiyue.contracts.models import ContractType, CustomField, RetentionPolicy, SavedView
from qiyue.contracts.policies import (
    can_amend,
    can_create_contract,
    can_delete_contract,
    can_edit_contract,
    can_manage_contract_types,
    can_manage_retention,
    can_renew,
    can_set_legal_hold,
    can_take,
)
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.contracts.transitions import TRANSITIONS
from qiyue.core.permissions import can_see
from qiyue.core.policies import is_admin
from qiyue.customers.policies import can_create_customer, can_edit_customer
from qiyue.customers.services import communication_create, contact_create
from qiyue.customers.tests.factories import make_customer
from qiyue.documents import previews
from qiyue.documents.policies import can_change_document, can_manage_paper, can_upload_to, document_owner
from qiyue.documents.services import document_upload, paper_original_lend, paper_original_record
from qiyue.documents.tests.factories import make_image, make_pdf, upload
from qiyue.finance.policies import (
    can_close_obligation,
    can_edit_plan,
    can_manage_issues,
    can_manage_obligations,
    can_record_invoice,
    can_record_payment,
    can_request_invoice,
    can_resolve_issue,
    can_reverse_payment,
    can_see_money,
    can_withdraw_invoice_request,
    is_money_user,
)
from qiyue.finance.services import (
    invoice_request,
    issue_create,
    obligation_create,
    payment_plan_save,
    payment_record,
)
from qiyue.notifications.models import Notification
from qiyue.reminders.models import ReminderRule
from qiyue.reminders.policies import can_manage_rules
from qiyue.reminders.services import feed_reset
from qiyue.vault import keys
from qiyue.workflow.models import ApprovalTask, PreReviewRule, TaskStatus
from qiyue.workflow.policies import (
    can_comment,
    can_manage_flows,
    can_reopen,
    can_run_prereview,
    can_urge,
    can_withdraw,
)
from qiyue.workflow.selectors import running_approval
from qiyue.workflow.services import flow_save
from qiyue.workflow.tests.factories import approve_through

OK, DENIED, HIDDEN, LOGIN = "ok", "403", "404", "login"
MISSING_ID = 999_999
TODAY = datetime.date(2026, 3, 2)

# Who asks: every role, signed in, and nobody. The rows "a" belong to sales (team East), "b" to sales_b
# (team West): for sales "a" is their own, for sales2 and manager their team's, for sales_b and
# manager_b another team's; the other roles see every team.
SUBJECTS = ("anonymous", "admin", "manager", "sales", "sales2", "sales_b", "manager_b", "legal", "finance",
            "auditor")
OBJECTS = ("a", "b", "missing")


# --- The steps of a rule: each returns the refusal it decides, or None to go on ----------------------

def signed_in(user, obj):
    return LOGIN if user is None else None


def role(predicate, refusal=DENIED):
    """A question about the user alone (a role)."""
    return lambda user, obj: None if predicate(user) else refusal


def found(user, obj):
    return HIDDEN if obj is None else None


def may(predicate):
    """A policy about the user and the object (as the table's `kind` loads it)."""
    return lambda user, obj: None if predicate(user, obj) else DENIED


PUBLIC: tuple = ()
SIGNED_IN = (signed_in,)
TO_LOG_IN = (lambda user, obj: LOGIN,)  # ends on the log-in page, whoever asks


def roles(predicate) -> tuple:
    return (signed_in, role(predicate))


# Which row decides who sees an object of each kind (contacts follow their customer, documents their
# contract or customer, paper originals their contract …).
OWNING_ROW: dict[str, Callable] = {
    "customer": lambda o: o,
    "contract": lambda o: o,
    "contact": lambda o: o.customer,
    "communication": lambda o: o.customer,
    "document": document_owner,
    "image_document": document_owner,
    "version": lambda o: document_owner(o.document),
    "image_version": lambda o: document_owner(o.document),
    "paper": lambda o: o.contract,
    "loan": lambda o: o.original.contract,
    "approving": lambda o: o,  # a contract in approval (see _workflow_rows)
    "amended": lambda o: o,  # a signed contract with versions 1 and 2 and a draft amendment (see _amendment_rows)
    "amendment": lambda o: o.contract,
    "owing": lambda o: o,  # a signed contract with a payment plan (see _finance_rows)
    "payment": lambda o: o.contract,
    "obligation": lambda o: o.contract,
    "invoice": lambda o: o.contract,
    "issue": lambda o: o.contract,
}


def seen_as(kind: str):
    owning = OWNING_ROW[kind]
    return lambda user, obj: HIDDEN if obj is None or not can_see(user, owning(obj)) else None


def sees(kind: str) -> tuple:
    return (signed_in, seen_as(kind))


def owned(user, obj):
    """A user's own row (a saved view): anyone else's is as missing as one that never was."""
    return HIDDEN if obj is None or user is None or obj.user_id != user.pk else None


def received(user, obj):
    """A user's own notification: anyone else's is as missing as one that never was."""
    return HIDDEN if obj is None or user is None or obj.recipient_id != user.pk else None


def edits(kind: str, predicate) -> tuple:
    """Seen first (404), then the policy (403)."""
    return (signed_in, seen_as(kind), may(predicate))


def on_customer(predicate):
    return lambda user, obj: predicate(user, obj.customer)


def on_contract(predicate):
    return lambda user, obj: predicate(user, obj.contract)


# Review and approval: the rows "approving" are contracts in approval (their team manager holds the open
# task), "flow" approval flows, "delegation" a user's delegation (see _workflow_rows).

def _open_task(contract):
    return ApprovalTask.objects.filter(contract=contract, status=TaskStatus.OPEN).order_by("pk").first()


def holds_the_task(user, contract) -> bool:
    """The approver whose open task the body names (services.approvals: anyone else's is 403)."""
    return _open_task(contract).assignee_id == user.pk


def on_approval(predicate):
    """A workflow policy about the user, the contract and its running approval."""
    return lambda user, contract: predicate(user, contract, running_approval(contract=contract))


def in_approval(predicate) -> tuple:
    """Seen first (404), then the policy (403)."""
    return (signed_in, seen_as("approving"), may(predicate))


def delegated(user, obj):
    """A delegation: someone else's is as missing as one that never was, unless to an administrator."""
    return HIDDEN if obj is None or user is None or not can_set_delegation(user, obj.user) else None


def _task_body(fields: Callable[[Any], dict]):
    """The body of an action on the open task of the contract in approval (a missing id when none)."""
    def body(w, o):
        task = _open_task(o) if o is not None else None
        return {"task": task.pk if task else MISSING_ID, **fields(w)}
    return body


def _flow_steps(w) -> list:
    return [{"name_zh": "矩阵审批", "mode": "any", "approvers": [{"type": "role", "value": "legal"}]}]


def _delegation_body(w, o):
    today = timezone.localdate()
    return {"delegate": w.users["legal"].pk, "starts_on": today.isoformat(),
            "ends_on": (today + datetime.timedelta(days=3)).isoformat()}


def expected(rule: tuple, user, obj) -> str:
    for step in rule:
        refusal = step(user, obj)
        if refusal:
            return refusal
    return OK


# --- The table -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    rule: tuple
    kind: str | None = None  # the object the URL (or the body, `in_body`) names; None: no object
    in_body: bool = False
    body: Callable[[Any, Any], dict] | None = None  # (world, object) → request data
    query: Callable[[Any, Any], dict] | None = None  # (user, object) → query string
    args: Callable[[Any], list] = field(default=lambda o: [o.pk])  # UI: the URL's arguments
    missing_args: list | None = None  # UI: the arguments naming no object, when they are no ids


def _reason(w, o):
    return {"reason": "授权矩阵测试"}


def _transition_body(w, o):
    return {"reason": "授权矩阵测试", "signing_method": "wet_ink", "signing_date": "2026-03-01",
            "confirm_early": True}


def _contract_body(w, o):
    return {"title": "授权矩阵合同", "customer": o.pk if o else MISSING_ID, "amount": "100.00",
            "currency": "CNY", "effective_date": "2026-01-01", "expiry_date": "2026-12-31"}


def _pdf(w, o):
    return upload("矩阵.pdf", make_pdf(), "application/pdf")


API: dict[tuple[str, str], Entry] = {
    ("GET", "/api/v1/users/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/users/{id}/"): Entry((signed_in, found), kind="user"),
    ("GET", "/api/v1/customers/"): Entry(SIGNED_IN),
    ("POST", "/api/v1/customers/"): Entry(roles(can_create_customer),
                                         body=lambda w, o: {"name": "授权矩阵客户有限公司", "industry": "it"}),
    ("GET", "/api/v1/customers/{id}/"): Entry(sees("customer"), kind="customer"),
    ("PUT", "/api/v1/customers/{id}/"): Entry(edits("customer", can_edit_customer), kind="customer",
                                             body=lambda w, o: {"name": "授权矩阵改名有限公司", "version": o.version if o else 1}),
    ("PATCH", "/api/v1/customers/{id}/"): Entry(edits("customer", can_edit_customer), kind="customer",
                                               body=lambda w, o: {"notes": "矩阵", "version": o.version if o else 1}),
    ("GET", "/api/v1/contacts/"): Entry(SIGNED_IN),
    ("POST", "/api/v1/contacts/"): Entry(edits("customer", can_edit_customer), kind="customer", in_body=True,
                                        body=lambda w, o: {"customer": o.pk if o else MISSING_ID, "name": "李四"}),
    ("GET", "/api/v1/contacts/{id}/"): Entry(sees("contact"), kind="contact"),
    ("PUT", "/api/v1/contacts/{id}/"): Entry(edits("contact", on_customer(can_edit_customer)), kind="contact",
                                            body=lambda w, o: {"name": "王总"}),
    ("PATCH", "/api/v1/contacts/{id}/"): Entry(edits("contact", on_customer(can_edit_customer)), kind="contact",
                                              body=lambda w, o: {"name": "王总"}),
    ("DELETE", "/api/v1/contacts/{id}/"): Entry(edits("contact", on_customer(can_edit_customer)), kind="contact"),
    ("GET", "/api/v1/communications/"): Entry(SIGNED_IN),
    ("POST", "/api/v1/communications/"): Entry(
        edits("customer", can_edit_customer), kind="customer", in_body=True,
        body=lambda w, o: {"customer": o.pk if o else MISSING_ID, "occurred_on": "2026-03-01", "channel": "phone",
                           "summary": "回访"}),
    ("GET", "/api/v1/communications/{id}/"): Entry(sees("communication"), kind="communication"),
    ("GET", "/api/v1/contracts/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/contract-types/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/contract-types/{id}/"): Entry((signed_in, found), kind="contract_type"),
    # The role first (403), then the customer named in the body (400 does_not_exist when unseen).
    ("POST", "/api/v1/contracts/"): Entry((signed_in, role(can_create_contract), seen_as("customer")),
                                         kind="customer", in_body=True, body=_contract_body),
    ("GET", "/api/v1/contracts/{id}/"): Entry(sees("contract"), kind="contract"),
    ("PUT", "/api/v1/contracts/{id}/"): Entry(edits("contract", can_edit_contract), kind="contract",
                                             body=lambda w, o: {"title": "授权矩阵", "version": o.version if o else 1}),
    ("PATCH", "/api/v1/contracts/{id}/"): Entry(edits("contract", can_edit_contract), kind="contract",
                                               body=lambda w, o: {"title": "授权矩阵", "version": o.version if o else 1}),
    ("DELETE", "/api/v1/contracts/{id}/"): Entry(edits("contract", can_delete_contract), kind="contract",
                                                body=_reason),
    ("POST", "/api/v1/contracts/{id}/legal-hold/"): Entry((*sees("contract"), role(can_set_legal_hold)),
                                                         kind="contract",
                                                         body=lambda w, o: {"hold": True, "reason": "诉讼"}),
    **{("POST", f"/api/v1/contracts/{{id}}/{name}/"): Entry(
        edits("contract", lambda user, contract, t=transition: can_take(user, contract, t)), kind="contract",
        body=_transition_body) for name, transition in TRANSITIONS.items() if not transition.workflow},
    ("GET", "/api/v1/documents/"): Entry(SIGNED_IN),
    ("POST", "/api/v1/documents/"): Entry(
        edits("contract", can_upload_to), kind="contract", in_body=True,
        body=lambda w, o: {"contract": o.pk if o else MISSING_ID, "kind": "attachment", "file": _pdf(w, o)}),
    ("GET", "/api/v1/documents/{id}/"): Entry(sees("document"), kind="document"),
    ("PATCH", "/api/v1/documents/{id}/"): Entry(edits("document", can_change_document), kind="document",
                                               body=lambda w, o: {"title": "改名.pdf", "version": o.version if o else 1}),
    ("DELETE", "/api/v1/documents/{id}/"): Entry(edits("document", can_change_document), kind="document"),
    ("GET", "/api/v1/documents/{id}/versions/"): Entry(sees("document"), kind="document"),
    ("POST", "/api/v1/documents/{id}/versions/"): Entry(edits("document", can_change_document), kind="document",
                                                       body=lambda w, o: {"file": _pdf(w, o), "comment": "二稿"}),
    ("GET", "/api/v1/document-versions/{id}/"): Entry(sees("version"), kind="version"),
    ("GET", "/api/v1/document-versions/{id}/download/"): Entry(sees("version"), kind="version"),
    ("GET", "/api/v1/document-versions/{id}/preview/"): Entry(sees("version"), kind="version"),
    ("GET", "/api/v1/paper-originals/"): Entry(SIGNED_IN),
    ("POST", "/api/v1/paper-originals/"): Entry(
        edits("contract", can_manage_paper), kind="contract", in_body=True,
        body=lambda w, o: {"contract": o.pk if o else MISSING_ID, "room": "档案室", "copies": 1}),
    ("GET", "/api/v1/paper-originals/{id}/"): Entry(sees("paper"), kind="paper"),
    ("PATCH", "/api/v1/paper-originals/{id}/"): Entry(edits("paper", on_contract(can_manage_paper)), kind="paper",
                                                     body=lambda w, o: {"room": "二号档案室"}),
    ("POST", "/api/v1/paper-originals/{id}/lend/"): Entry(
        edits("paper", on_contract(can_manage_paper)), kind="paper",
        body=lambda w, o: {"borrower": w.users["legal"].pk, "lent_on": "2026-03-01"}),
    ("GET", "/api/v1/paper-loans/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/paper-loans/{id}/"): Entry(sees("loan"), kind="loan"),
    ("POST", "/api/v1/paper-loans/{id}/return/"): Entry(
        edits("loan", lambda user, loan: can_manage_paper(user, loan.original.contract)), kind="loan",
        body=lambda w, o: {"returned_on": "2026-03-02"}),
    ("GET", "/api/v1/audit-events/"): Entry(roles(can_read_audit_log)),
    ("GET", "/api/v1/audit-events/{id}/"): Entry((*roles(can_read_audit_log), found), kind="event"),
    ("GET", "/api/v1/search/"): Entry(SIGNED_IN, query=lambda u, o: {"q": "授权"}),
    ("GET", "/api/v1/notifications/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/notifications/{id}/"): Entry((signed_in, received), kind="notification"),
    ("POST", "/api/v1/notifications/{id}/read/"): Entry((signed_in, received), kind="notification"),
    ("POST", "/api/v1/notifications/read-all/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/notifications/settings/"): Entry(SIGNED_IN),
    ("PUT", "/api/v1/notifications/settings/"): Entry(SIGNED_IN, body=lambda w, o: {"email_kinds": []}),
    # Reminders: the rules are the administrators'; everyone has their own dates and calendar feed.
    ("GET", "/api/v1/reminder-rules/"): Entry(roles(can_manage_rules)),
    ("POST", "/api/v1/reminder-rules/"): Entry(roles(can_manage_rules), body=lambda w, o: {
        "name_zh": "矩阵提醒", "subject": "contract_expiry", "offset_days": -5}),
    ("GET", "/api/v1/reminder-rules/{id}/"): Entry((*roles(can_manage_rules), found), kind="reminder_rule"),
    ("PATCH", "/api/v1/reminder-rules/{id}/"): Entry((*roles(can_manage_rules), found), kind="reminder_rule",
                                                     body=lambda w, o: {"position": 5, "version": 1}),
    ("GET", "/api/v1/calendar/dates/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/calendar/feed/"): Entry(SIGNED_IN),
    ("PUT", "/api/v1/calendar/feed/"): Entry(SIGNED_IN, body=lambda w, o: {"time_zone": ""}),
    ("POST", "/api/v1/calendar/feed/reset/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/archive/facets/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/approval-flows/"): Entry(roles(can_manage_flows)),
    ("POST", "/api/v1/approval-flows/"): Entry(roles(can_manage_flows),
                                              body=lambda w, o: {"name_zh": "矩阵流程", "steps": _flow_steps(w)}),
    ("GET", "/api/v1/approval-flows/{id}/"): Entry((*roles(can_manage_flows), found), kind="flow"),
    ("PUT", "/api/v1/approval-flows/{id}/"): Entry(
        (*roles(can_manage_flows), found), kind="flow",
        body=lambda w, o: {"name_zh": "矩阵改名", "steps": _flow_steps(w), "version": o.version if o else 1}),
    ("PATCH", "/api/v1/approval-flows/{id}/"): Entry(
        (*roles(can_manage_flows), found), kind="flow",
        body=lambda w, o: {"description": "矩阵", "version": o.version if o else 1}),
    ("GET", "/api/v1/exchange-rates/"): Entry(roles(can_manage_flows)),
    ("POST", "/api/v1/exchange-rates/"): Entry(roles(can_manage_flows), body=lambda w, o: {
        "currency": "USD", "rate": "7.1", "valid_from": "2026-03-01"}),
    ("GET", "/api/v1/approval-tasks/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/contracts/{id}/approval/"): Entry(sees("approving"), kind="approving"),
    ("POST", "/api/v1/contracts/{id}/approval/decide/"): Entry(
        in_approval(holds_the_task), kind="approving", body=_task_body(lambda w: {"decision": "approve"})),
    ("POST", "/api/v1/contracts/{id}/approval/transfer/"): Entry(
        in_approval(holds_the_task), kind="approving", body=_task_body(lambda w: {"to": w.users["legal"].pk})),
    ("POST", "/api/v1/contracts/{id}/approval/add-approver/"): Entry(
        in_approval(holds_the_task), kind="approving",
        body=_task_body(lambda w: {"user": w.users["legal"].pk, "position": "after"})),
    ("POST", "/api/v1/contracts/{id}/approval/withdraw/"): Entry(in_approval(on_approval(can_withdraw)),
                                                                kind="approving", body=_reason),
    ("POST", "/api/v1/contracts/{id}/approval/urge/"): Entry(in_approval(on_approval(can_urge)), kind="approving"),
    ("POST", "/api/v1/contracts/{id}/approval/comments/"): Entry(in_approval(on_approval(can_comment)),
                                                                kind="approving",
                                                                body=lambda w, o: {"text": "矩阵意见"}),
    ("GET", "/api/v1/contracts/{id}/prereview/"): Entry(sees("contract"), kind="contract"),
    ("POST", "/api/v1/contracts/{id}/prereview/"): Entry(edits("contract", can_run_prereview), kind="contract"),
    ("GET", "/api/v1/contracts/{id}/amendments/"): Entry(sees("amended"), kind="amended"),
    # An editor's new amendment meets the draft one under way: 409 amendment_open (authorization passed).
    ("POST", "/api/v1/contracts/{id}/amendments/"): Entry(
        edits("amended", can_amend), kind="amended",
        body=lambda w, o: {"reason": "授权矩阵", "changes": {"amount": "12345.00"}}),
    ("GET", "/api/v1/contracts/{id}/versions/"): Entry(sees("amended"), kind="amended"),
    ("GET", "/api/v1/contracts/{id}/versions/compare/"): Entry(sees("amended"), kind="amended",
                                                              query=lambda u, o: {"a": 1, "b": 2}),
    ("GET", "/api/v1/amendments/{id}/"): Entry(sees("amendment"), kind="amendment"),
    ("PATCH", "/api/v1/amendments/{id}/"): Entry(
        edits("amendment", on_contract(can_amend)), kind="amendment",
        body=lambda w, o: {"reason": "授权矩阵", "version": o.version if o else 1}),
    ("POST", "/api/v1/amendments/{id}/submit/"): Entry(edits("amendment", on_contract(can_amend)), kind="amendment"),
    # A draft is not signed: an editor's answer is 409 illegal_transition (authorization passed).
    ("POST", "/api/v1/amendments/{id}/sign/"): Entry(edits("amendment", on_contract(can_amend)), kind="amendment",
                                                    body=lambda w, o: {"signed_on": "2026-03-01"}),
    ("POST", "/api/v1/amendments/{id}/cancel/"): Entry(edits("amendment", on_contract(can_amend)), kind="amendment",
                                                      body=_reason),
    # Execution and money: the rows "owing" are signed contracts with a plan, a payment and an obligation
    # their legal reviewer owns (see _finance_rows). Seen first (404), then the finance policies (403).
    ("POST", "/api/v1/contracts/{id}/renew/"): Entry(edits("owing", can_renew), kind="owing"),
    ("GET", "/api/v1/contracts/{id}/money/"): Entry(edits("owing", can_see_money), kind="owing"),
    # Finance's answer drops an installment with money: 409 installment_has_payments (authorization passed).
    ("PUT", "/api/v1/contracts/{id}/payment-plan/"): Entry(
        edits("owing", can_edit_plan), kind="owing",
        body=lambda w, o: {"installments": [{"due_date": "2026-03-01", "amount": "1.00"}]}),
    ("GET", "/api/v1/contracts/{id}/payments/"): Entry(edits("owing", can_see_money), kind="owing"),
    ("POST", "/api/v1/contracts/{id}/payments/"): Entry(
        edits("owing", can_record_payment), kind="owing",
        body=lambda w, o: {"amount": "1.00", "received_on": "2026-03-01"}),
    ("GET", "/api/v1/contracts/{id}/obligations/"): Entry(edits("owing", can_see_money), kind="owing"),
    ("POST", "/api/v1/contracts/{id}/obligations/"): Entry(edits("owing", can_manage_obligations), kind="owing",
                                                          body=lambda w, o: {"description": "授权矩阵义务"}),
    ("GET", "/api/v1/payments/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/payments/{id}/"): Entry(edits("payment", on_contract(can_see_money)), kind="payment"),
    ("POST", "/api/v1/payments/{id}/reverse/"): Entry(edits("payment", can_reverse_payment), kind="payment",
                                                     body=_reason),
    ("GET", "/api/v1/obligations/{id}/"): Entry(edits("obligation", on_contract(can_see_money)), kind="obligation"),
    ("PATCH", "/api/v1/obligations/{id}/"): Entry(
        edits("obligation", on_contract(can_manage_obligations)), kind="obligation",
        body=lambda w, o: {"description": "授权矩阵", "version": o.version if o else 1}),
    # Its owner (legal) may complete it, not change, waive or reopen it.
    ("POST", "/api/v1/obligations/{id}/complete/"): Entry(edits("obligation", can_close_obligation),
                                                         kind="obligation",
                                                         body=lambda w, o: {"done_on": "2026-03-01"}),
    ("POST", "/api/v1/obligations/{id}/waive/"): Entry(edits("obligation", on_contract(can_manage_obligations)),
                                                      kind="obligation", body=_reason),
    # An open obligation is not reopened: 409 obligation_closed for those who may (authorization passed).
    ("POST", "/api/v1/obligations/{id}/reopen/"): Entry(edits("obligation", on_contract(can_manage_obligations)),
                                                       kind="obligation"),
    # Invoices: the rows "invoice" are requests their contract's owner made (see _finance_rows). A write
    # that the invoice's state refuses (issuing one already issued or withdrawn) is 409: authorization passed.
    ("GET", "/api/v1/contracts/{id}/invoices/"): Entry(edits("owing", can_see_money), kind="owing"),
    ("POST", "/api/v1/contracts/{id}/invoices/"): Entry(
        edits("owing", can_request_invoice), kind="owing",
        body=lambda w, o: {"total": "1.00", "tax_rate": "13", "kind": "digital_general"}),
    ("GET", "/api/v1/invoices/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/invoices/{id}/"): Entry(edits("invoice", on_contract(can_see_money)), kind="invoice"),
    ("POST", "/api/v1/invoices/{id}/issue/"): Entry(
        edits("invoice", on_contract(can_record_invoice)), kind="invoice",
        body=lambda w, o: {"number": f"2644200000001234{(o.pk if o else 0) % 10000:04d}", "issued_on": "2026-03-01"}),
    ("POST", "/api/v1/invoices/{id}/withdraw/"): Entry(edits("invoice", can_withdraw_invoice_request),
                                                      kind="invoice", body=_reason),
    ("POST", "/api/v1/invoices/{id}/void/"): Entry(edits("invoice", on_contract(can_record_invoice)),
                                                  kind="invoice", body=_reason),
    ("POST", "/api/v1/invoices/{id}/red-letter/"): Entry(
        edits("invoice", on_contract(can_record_invoice)), kind="invoice",
        body=lambda w, o: {"number": "26442000000098769999", "issued_on": "2026-03-01", "red_reason": "error"}),
    ("POST", "/api/v1/invoices/import/"): Entry(roles(is_money_user), body=lambda w, o: {
        "file": upload("发票导出.csv", "发票号码,开票日期,价税合计\n".encode(), "text/csv")}),
    # Issues and risks: the rows "issue" are open issues the legal reviewer follows (see _finance_rows):
    # their owner may resolve them, not change them. Reopening an open one is 409 (authorization passed).
    ("GET", "/api/v1/contracts/{id}/issues/"): Entry(edits("owing", can_see_money), kind="owing"),
    ("POST", "/api/v1/contracts/{id}/issues/"): Entry(edits("owing", can_manage_issues), kind="owing",
                                                     body=lambda w, o: {"title": "授权矩阵风险"}),
    ("GET", "/api/v1/issues/{id}/"): Entry(edits("issue", on_contract(can_see_money)), kind="issue"),
    ("PATCH", "/api/v1/issues/{id}/"): Entry(edits("issue", on_contract(can_manage_issues)), kind="issue",
                                            body=lambda w, o: {"title": "授权矩阵", "version": o.version if o else 1}),
    ("POST", "/api/v1/issues/{id}/resolve/"): Entry(edits("issue", can_resolve_issue), kind="issue",
                                                   body=lambda w, o: {"resolution": "已处理"}),
    ("POST", "/api/v1/issues/{id}/reopen/"): Entry(edits("issue", can_resolve_issue), kind="issue"),
    # Receivables: everyone sees what the contracts they see still owe (scoped, never refused).
    ("GET", "/api/v1/receivables/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/receivables/summary/"): Entry(SIGNED_IN),
    ("GET", "/api/v1/delegations/"): Entry(SIGNED_IN),
    ("POST", "/api/v1/delegations/"): Entry(SIGNED_IN, body=_delegation_body),
    ("POST", "/api/v1/delegations/{id}/end/"): Entry((signed_in, delegated), kind="delegation"),
}


def _retention(w, o):
    policy = RetentionPolicy.objects.order_by("pk").first()
    return {"policy": policy.pk, f"p{policy.pk}-retention_years": "12", f"p{policy.pk}-description": "按制度"}


def _token(user, version):
    """The preview's image token, as the preview page hands it to this user."""
    return {"t": previews.image_token(user=user, version=version) if user is not None and version else ""}


# UI pages and actions by URL name, then method.
UI: dict[str, dict[str, Entry]] = {
    "set_language": {"POST": Entry(PUBLIC, body=lambda w, o: {"language": "en", "next": "/"})},
    "login": {"GET": Entry(PUBLIC)},
    # Anyone may log out; it ends on the log-in page.
    "logout": {"POST": Entry(TO_LOG_IN)},
    # The admin's own log-in form is ours (the second step cannot be skipped): a redirect, for anyone.
    "admin/login/": {"GET": Entry(TO_LOG_IN)},
    "login_verify": {"GET": Entry(SIGNED_IN)},
    # The user's own two-factor settings: nothing in the URL names a record or another user. With
    # two-factor off (as here) the actions that need it answer 409: authorization passed.
    "two_factor": {"GET": Entry(SIGNED_IN)},
    "two_factor_setup": {"GET": Entry(SIGNED_IN), "POST": Entry(SIGNED_IN, body=lambda w, o: {"code": "abc"})},
    "two_factor_codes": {"GET": Entry(SIGNED_IN)},
    "two_factor_regenerate": {"POST": Entry(SIGNED_IN, body=lambda w, o: {"regen-password": PASSWORD})},
    "two_factor_disable": {"POST": Entry(SIGNED_IN, body=lambda w, o: {"off-password": PASSWORD,
                                                                        "off-code": "123456"})},
    "dashboard": {"GET": Entry(SIGNED_IN)},
    "api-schema": {"GET": Entry(SIGNED_IN, query=lambda u, o: {"format": "json"})},
    "api-docs": {"GET": Entry(SIGNED_IN)},
    # Django's admin: the staff flag, which only the admin role carries (accounts.User.save).
    "admin:index": {"GET": Entry((signed_in, role(is_admin, refusal=LOGIN)))},
    "customers:list": {"GET": Entry(SIGNED_IN)},
    "customers:create": {"GET": Entry(roles(can_create_customer)), "POST": Entry(roles(can_create_customer))},
    "customers:detail": {"GET": Entry(sees("customer"), kind="customer")},
    "customers:timeline": {"GET": Entry(sees("customer"), kind="customer")},
    "customers:update": {"GET": Entry(edits("customer", can_edit_customer), kind="customer"),
                         "POST": Entry(edits("customer", can_edit_customer), kind="customer")},
    "customers:contact_create": {"POST": Entry(edits("customer", can_edit_customer), kind="customer",
                                               body=lambda w, o: {"contact-name": "李四"})},
    "customers:contact_update": {
        "GET": Entry(edits("contact", on_customer(can_edit_customer)), kind="contact",
                     args=lambda o: [o.customer_id, o.pk]),
        "POST": Entry(edits("contact", on_customer(can_edit_customer)), kind="contact",
                      args=lambda o: [o.customer_id, o.pk], body=lambda w, o: {"contact-name": "王总"})},
    "customers:contact_delete": {"POST": Entry(edits("contact", on_customer(can_edit_customer)), kind="contact",
                                               args=lambda o: [o.customer_id, o.pk])},
    "customers:communication_create": {"POST": Entry(
        edits("customer", can_edit_customer), kind="customer",
        body=lambda w, o: {"comm-occurred_on": "2026-03-01", "comm-channel": "phone", "comm-summary": "回访"})},
    "contracts:list": {"GET": Entry(SIGNED_IN)},
    "contracts:export": {"GET": Entry(SIGNED_IN)},
    "contracts:totals": {"GET": Entry(SIGNED_IN)},
    "contracts:create": {"GET": Entry(roles(can_create_contract)), "POST": Entry(roles(can_create_contract))},
    "contracts:parent_options": {"GET": Entry(SIGNED_IN)},
    "contracts:customer_options": {"GET": Entry(SIGNED_IN)},
    "contracts:view_save": {"POST": Entry(SIGNED_IN, body=lambda w, o: {"name": "矩阵视图", "query": "status=draft"})},
    "contracts:view_delete": {"POST": Entry((signed_in, owned), kind="saved_view")},
    "contracts:columns": {"POST": Entry(SIGNED_IN, body=lambda w, o: {"columns": ["title", "amount"]})},
    "contracts:detail": {"GET": Entry(sees("contract"), kind="contract")},
    "contracts:update": {"GET": Entry(edits("contract", can_edit_contract), kind="contract"),
                         "POST": Entry(edits("contract", can_edit_contract), kind="contract")},
    "contracts:transition": {"POST": Entry(
        edits("contract", lambda user, contract: can_take(user, contract, TRANSITIONS["cancel"])), kind="contract",
        args=lambda o: [o.pk, "cancel"], body=_reason)},
    "audit:list": {"GET": Entry(roles(can_read_audit_log))},
    "audit:export": {"GET": Entry(roles(can_read_audit_log))},
    "search:results": {"GET": Entry(SIGNED_IN, query=lambda u, o: {"q": "授权"})},
    "workflow:prereview_run": {"POST": Entry(edits("contract", can_run_prereview), kind="contract")},
    "contracts:amendment_create": {"POST": Entry(edits("amended", can_amend), kind="amended", body=lambda w, o: {
        "amend-reason": "授权矩阵", "amend-amount": "12345.00", "amend-tax_rate": "0", "amend-notice_period_days": "0"})},
    "contracts:amendment_submit": {"POST": Entry(edits("amendment", on_contract(can_amend)), kind="amendment")},
    "contracts:amendment_sign": {"POST": Entry(edits("amendment", on_contract(can_amend)), kind="amendment",
                                               body=lambda w, o: {f"sign{o.pk if o else 0}-signed_on": "2026-03-01"})},
    "contracts:amendment_cancel": {"POST": Entry(edits("amendment", on_contract(can_amend)), kind="amendment",
                                                 body=_reason)},
    "contracts:version_compare": {"GET": Entry(sees("amended"), kind="amended", query=lambda u, o: {"a": 1, "b": 2})},
    "workflow:inbox": {"GET": Entry(SIGNED_IN)},
    "workflow:delegation": {"GET": Entry(SIGNED_IN), "POST": Entry(SIGNED_IN, body=_delegation_body)},
    "workflow:delegation_end": {"POST": Entry((signed_in, delegated), kind="delegation")},
    "workflow:decide": {"POST": Entry(in_approval(holds_the_task), kind="approving",
                                      body=_task_body(lambda w: {"decision": "approve"}))},
    "workflow:transfer": {"POST": Entry(in_approval(holds_the_task), kind="approving",
                                        body=_task_body(lambda w: {"to": w.users["legal"].pk}))},
    "workflow:add_approver": {"POST": Entry(in_approval(holds_the_task), kind="approving",
                                            body=_task_body(lambda w: {"user": w.users["legal"].pk,
                                                                       "position": "after"}))},
    "workflow:withdraw": {"POST": Entry(in_approval(on_approval(can_withdraw)), kind="approving", body=_reason)},
    "workflow:urge": {"POST": Entry(in_approval(on_approval(can_urge)), kind="approving")},
    "workflow:reopen": {"POST": Entry(in_approval(can_reopen), kind="approving", body=_reason)},
    "workflow:comment": {"POST": Entry(in_approval(on_approval(can_comment)), kind="approving",
                                       body=lambda w, o: {"text": "矩阵意见"})},
    "workflow:approval_form": {"GET": Entry(sees("approving"), kind="approving")},
    "workflow:flows": {"GET": Entry(roles(can_manage_flows))},
    "workflow:flow_create": {"GET": Entry(roles(can_manage_flows)),
                             "POST": Entry(roles(can_manage_flows), body=lambda w, o: {"name_zh": "矩阵流程"})},
    "workflow:flow": {"GET": Entry((*roles(can_manage_flows), found), kind="flow"),
                      "POST": Entry((*roles(can_manage_flows), found), kind="flow",
                                    body=lambda w, o: {"name_zh": "矩阵流程"})},
    "workflow:rates": {"GET": Entry(roles(can_manage_flows)),
                       "POST": Entry(roles(can_manage_flows), body=lambda w, o: {
                           "currency": "USD", "rate": "7.1", "valid_from": "2026-03-01"})},
    "workflow:rules": {"GET": Entry(roles(can_manage_flows))},
    "workflow:rule_create": {"GET": Entry(roles(can_manage_flows)),
                             "POST": Entry(roles(can_manage_flows), body=lambda w, o: {"key": "matrix.x"})},
    "workflow:rule": {"GET": Entry((*roles(can_manage_flows), found), kind="rule"),
                      "POST": Entry((*roles(can_manage_flows), found), kind="rule",
                                    body=lambda w, o: {"label_zh": "矩阵", "severity": "low"})},
    # The contract page's execution and money tabs (the rows of _finance_rows): seen first (404), then
    # the finance policies (403). A refused input answers with the workspace or a redirect (ok).
    "contracts:renew": {"POST": Entry(edits("owing", can_renew), kind="owing")},
    "finance:plan_save": {"POST": Entry(edits("owing", can_edit_plan), kind="owing", body=lambda w, o: {
        "row-amount": ["1.00"], "row-due_date": ["2026-03-01"]})},
    "finance:payment_record": {"POST": Entry(edits("owing", can_record_payment), kind="owing",
                                             body=lambda w, o: {"amount": "1.00", "received_on": "2026-03-01"})},
    "finance:payment_reverse": {"POST": Entry(edits("payment", can_reverse_payment), kind="payment",
                                              args=lambda o: [o.contract_id, o.pk], body=_reason)},
    "finance:obligation_create": {"POST": Entry(edits("owing", can_manage_obligations), kind="owing",
                                                body=lambda w, o: {"description": "授权矩阵义务"})},
    "finance:obligation_update": {"POST": Entry(edits("obligation", on_contract(can_manage_obligations)),
                                                kind="obligation", args=lambda o: [o.contract_id, o.pk],
                                                body=lambda w, o: {"description": "授权矩阵"})},
    "finance:obligation_complete": {"POST": Entry(edits("obligation", can_close_obligation), kind="obligation",
                                                  args=lambda o: [o.contract_id, o.pk],
                                                  body=lambda w, o: {"done_on": "2026-03-01"})},
    "finance:obligation_waive": {"POST": Entry(edits("obligation", on_contract(can_manage_obligations)),
                                               kind="obligation", args=lambda o: [o.contract_id, o.pk], body=_reason)},
    "finance:invoice_create": {"POST": Entry(edits("owing", can_request_invoice), kind="owing", body=lambda w, o: {
        "total": "1.00", "tax_rate": "13", "kind": "digital_general"})},
    "finance:invoice_issue": {"POST": Entry(
        edits("invoice", on_contract(can_record_invoice)), kind="invoice", args=lambda o: [o.contract_id, o.pk],
        body=lambda w, o: {"number": f"2644200000005678{(o.pk if o else 0) % 10000:04d}", "issued_on": "2026-03-01"})},
    "finance:invoice_withdraw": {"POST": Entry(edits("invoice", can_withdraw_invoice_request), kind="invoice",
                                               args=lambda o: [o.contract_id, o.pk], body=_reason)},
    "finance:invoice_void": {"POST": Entry(edits("invoice", on_contract(can_record_invoice)), kind="invoice",
                                           args=lambda o: [o.contract_id, o.pk], body=_reason)},
    "finance:invoice_red_letter": {"POST": Entry(
        edits("invoice", on_contract(can_record_invoice)), kind="invoice", args=lambda o: [o.contract_id, o.pk],
        body=lambda w, o: {"number": "26442000000098768888", "issued_on": "2026-03-01", "red_reason": "error"})},
    "finance:invoices": {"GET": Entry(SIGNED_IN)},
    "finance:receivables": {"GET": Entry(SIGNED_IN)},
    "finance:receivables_export": {"GET": Entry(SIGNED_IN)},
    # Paying an installment of a contract the user cannot see records nothing (ok: the page again).
    "finance:receivables_pay": {"POST": Entry(roles(is_money_user), body=lambda w, o: {
        "installment": ["1"], "received_on": "2026-03-01"})},
    "finance:issue_create": {"POST": Entry(edits("owing", can_manage_issues), kind="owing",
                                           body=lambda w, o: {"title": "授权矩阵风险"})},
    "finance:issue_update": {"POST": Entry(edits("issue", on_contract(can_manage_issues)), kind="issue",
                                           args=lambda o: [o.contract_id, o.pk], body=lambda w, o: {"title": "矩阵"})},
    "finance:issue_resolve": {"POST": Entry(edits("issue", can_resolve_issue), kind="issue",
                                            args=lambda o: [o.contract_id, o.pk],
                                            body=lambda w, o: {"resolution": "已处理"})},
    "finance:issue_reopen": {"POST": Entry(edits("issue", can_resolve_issue), kind="issue",
                                           args=lambda o: [o.contract_id, o.pk])},
    "finance:invoice_import": {"POST": Entry(roles(is_money_user), body=lambda w, o: {
        "file": upload("发票导出.csv", "发票号码,开票日期,价税合计\n".encode(), "text/csv")})},
    "finance:obligation_reopen": {"POST": Entry(edits("obligation", on_contract(can_manage_obligations)),
                                                kind="obligation", args=lambda o: [o.contract_id, o.pk])},
    "notifications:list": {"GET": Entry(SIGNED_IN)},
    "notifications:open": {"POST": Entry((signed_in, received), kind="notification")},
    "notifications:read_all": {"POST": Entry(SIGNED_IN)},
    "notifications:settings": {"GET": Entry(SIGNED_IN), "POST": Entry(SIGNED_IN, body=lambda w, o: {"language": ""})},
    "reminders:calendar": {"GET": Entry(SIGNED_IN)},
    "reminders:due_soon": {"GET": Entry(SIGNED_IN)},
    "reminders:feed": {"GET": Entry(SIGNED_IN), "POST": Entry(SIGNED_IN, body=lambda w, o: {"action": "create"})},
    # The feed itself: no session; its secret address is the key (another user's works, a made-up one not).
    "reminders:feed_ics": {"GET": Entry((found,), kind="feed", args=lambda o: [o.token],
                                        missing_args=["no-such-feed"])},
    "reminders:rules": {"GET": Entry(roles(can_manage_rules))},
    "reminders:rule_create": {"GET": Entry(roles(can_manage_rules)),
                              "POST": Entry(roles(can_manage_rules), body=lambda w, o: {"name_zh": "矩阵提醒"})},
    "reminders:rule": {"GET": Entry((*roles(can_manage_rules), found), kind="reminder_rule"),
                       "POST": Entry((*roles(can_manage_rules), found), kind="reminder_rule",
                                     body=lambda w, o: {"name_zh": "矩阵提醒"})},
    "reminders:types": {"POST": Entry(roles(can_manage_rules))},
    "documents:contract_panel": {"GET": Entry(sees("contract"), kind="contract")},
    "documents:contract_upload": {"POST": Entry(edits("contract", can_upload_to), kind="contract",
                                                body=lambda w, o: {"kind": "attachment", "files": _pdf(w, o)})},
    "documents:customer_panel": {"GET": Entry(sees("customer"), kind="customer")},
    "documents:customer_upload": {"POST": Entry(edits("customer", can_upload_to), kind="customer",
                                                body=lambda w, o: {"kind": "attachment", "files": _pdf(w, o)})},
    "documents:detail": {"GET": Entry(sees("document"), kind="document")},
    "documents:add_version": {"POST": Entry(edits("document", can_change_document), kind="document",
                                            body=lambda w, o: {"file": _pdf(w, o), "comment": "二稿"})},
    "documents:delete": {"POST": Entry(edits("document", can_change_document), kind="document")},
    "documents:download": {"GET": Entry(sees("version"), kind="version")},
    "documents:preview": {"GET": Entry(sees("version"), kind="version")},
    "documents:preview_page": {"GET": Entry(sees("version"), kind="version", args=lambda o: [o.pk, 1],
                                            query=_token)},
    "documents:preview_image": {"GET": Entry(sees("image_version"), kind="image_version", query=_token)},
    "documents:paper_panel": {"GET": Entry(sees("contract"), kind="contract")},
    "documents:paper_create": {"POST": Entry(edits("contract", can_manage_paper), kind="contract",
                                             body=lambda w, o: {"paper-room": "档案室", "paper-copies": "1"})},
    "documents:paper_lend": {"POST": Entry(
        edits("paper", on_contract(can_manage_paper)), kind="paper",
        body=lambda w, o: {"lend-borrower": w.users["legal"].pk, "lend-lent_on": "2026-03-01"})},
    "documents:paper_return": {"POST": Entry(
        edits("loan", lambda user, loan: can_manage_paper(user, loan.original.contract)), kind="loan",
        body=lambda w, o: {"return-returned_on": "2026-03-02"})},
    "archive:index": {"GET": Entry(SIGNED_IN)},
    "manage:index": {"GET": Entry(roles(can_manage_users))},
    "manage:users": {"GET": Entry(roles(can_manage_users))},
    "manage:user_create": {"GET": Entry(roles(can_manage_users)), "POST": Entry(
        roles(can_manage_users), body=lambda w, o: {"username": "matrix_new", "role": "sales"})},
    "manage:user": {"GET": Entry((signed_in, role(can_manage_users), found), kind="user"),
                    "POST": Entry((signed_in, role(can_manage_users), found), kind="user",
                                  body=lambda w, o: {"display_name": "矩阵", "role": "sales", "is_active": "on",
                                                     "seen": "x"})},
    "manage:user_password": {"POST": Entry((signed_in, role(can_manage_users), found), kind="user")},
    "manage:user_two_factor": {"POST": Entry((signed_in, role(can_manage_users), found), kind="user")},
    "manage:teams": {"GET": Entry(roles(can_manage_users)),
                     "POST": Entry(roles(can_manage_users), body=lambda w, o: {"name": "矩阵新团队"})},
    "manage:team": {"GET": Entry((signed_in, role(can_manage_users), found), kind="team"),
                    "POST": Entry((signed_in, role(can_manage_users), found), kind="team",
                                  body=lambda w, o: {"name": "矩阵改名团队", "seen": "x"})},
    "contract_types:list": {"GET": Entry(roles(can_manage_contract_types)), "POST": Entry(
        roles(can_manage_contract_types), body=lambda w, o: {"name_zh": "矩阵新类型", "active": "on"})},
    "contract_types:detail": {
        "GET": Entry((signed_in, role(can_manage_contract_types), found), kind="contract_type"),
        "POST": Entry((signed_in, role(can_manage_contract_types), found), kind="contract_type",
                      body=lambda w, o: {"field-key": "matrix", "field-kind": "text", "field-label_zh": "矩阵",
                                         "field-position": "0", "field-active": "on"})},
    "contract_types:field": {
        "GET": Entry((signed_in, role(can_manage_contract_types), found), kind="custom_field",
                     args=lambda o: [o.contract_type_id, o.pk]),
        "POST": Entry((signed_in, role(can_manage_contract_types), found), kind="custom_field",
                      args=lambda o: [o.contract_type_id, o.pk],
                      body=lambda w, o: {"label_zh": "矩阵改名", "position": "1", "active": "on"})},
    "archive:policies": {"GET": Entry(roles(can_manage_retention)),
                         "POST": Entry(roles(can_manage_retention), body=_retention)},
    "archive:legal_hold": {"POST": Entry((*sees("contract"), role(can_set_legal_hold)), kind="contract",
                                         body=lambda w, o: {"hold": "1", "reason": "诉讼"})},
    "archive:delete": {"POST": Entry(edits("contract", can_delete_contract), kind="contract", body=_reason)},
    "archive:compare": {"GET": Entry(sees("document"), kind="document")},
}

# URL patterns outside the matrix, each with the reason.
NOT_IN_MATRIX = {
    "admin:": "Django's admin site: every page sits behind the same staff check as admin:index (in the matrix)",
    "api/v1/": "the REST API: its operations come from the OpenAPI schema (API above); each route must be in it",
}


# --- The data: one world for the module, every write rolled back ------------------------------------

@dataclass
class World:
    users: dict
    rows: dict  # (kind, "a" | "b") → object
    clients: dict = field(default_factory=dict)


def _workflow_rows(users) -> dict:
    """Per team: a contract in approval (an active flow sends it to its team manager first), an approval
    flow ("a" the one in use, "b" not in use) and a delegation of the team's sales person."""
    rows, today = {}, timezone.localdate()
    for key, owner, delegate in (("a", users["sales"], users["sales2"]), ("b", users["sales_b"], users["manager_b"])):
        rows[("flow", key)] = flow_save(actor=users["admin"], flow=None, data={
            "name_zh": f"矩阵流程{key}", "position": 1, "active": key == "a", "steps": [
                {"name_zh": "主管审批", "mode": "any", "approvers": [{"type": "relation", "value": "team_manager"}]}]})
        contract = make_contract(owner, customer=make_customer(owner, name=f"授权矩阵审批客户{key}有限公司"),
                                 title=f"授权矩阵审批合同{key}")
        rows[("approving", key)] = contract_transition(actor=owner, contract=contract, name="submit")
        rows[("rule", key)] = PreReviewRule.objects.order_by("pk")[0 if key == "a" else 1]
        rows[("delegation", key)] = delegation_create(actor=owner, user=owner, delegate=delegate, starts_on=today,
                                                      ends_on=today + datetime.timedelta(days=30))
    return rows


def _reminder_rows(users) -> dict:
    """Two reminder rules (the first two defaults) and the calendar feeds of sales ("a") and sales_b ("b")."""
    rules = list(ReminderRule.objects.order_by("pk")[:2])
    return {("reminder_rule", "a"): rules[0], ("reminder_rule", "b"): rules[1],
            ("feed", "a"): feed_reset(actor=users["sales"]), ("feed", "b"): feed_reset(actor=users["sales_b"])}


def _amendment_rows(users) -> dict:
    """Per team: a signed contract ("amended") whose first amendment was approved and signed (versions 1
    and 2), with a second amendment under way as a draft ("amendment")."""
    rows = {}
    for key, owner in (("a", users["sales"]), ("b", users["sales_b"])):
        contract = make_contract(owner, customer=make_customer(owner, name=f"授权矩阵变更客户{key}有限公司"),
                                 title=f"授权矩阵变更合同{key}")
        approve_through(contract_transition(actor=owner, contract=contract, name="submit"))
        contract = contract_transition(actor=owner, contract=contract, name="sign", signing_method="wet_ink",
                                       signing_date=TODAY)
        first = amendments.amendment_create(actor=owner, contract=contract,
                                            data={"reason": "追加采购", "changes": {"amount": "200000.00"}})
        amendments.amendment_submit(actor=owner, amendment=first)
        approve_through(contract)
        first.refresh_from_db()
        amendments.amendment_sign(actor=owner, amendment=first, signed_on=TODAY)
        rows[("amendment", key)] = amendments.amendment_create(
            actor=owner, contract=contract, data={"reason": "延期", "changes": {"expiry_date": "2028-12-31"}})
        contract.refresh_from_db()
        rows[("amended", key)] = contract
    return rows


def _finance_rows(users) -> dict:
    """Per team: a signed contract with a payment plan ("owing"), a payment finance recorded on it
    ("payment") and an obligation of it that the legal reviewer follows ("obligation": its owner may
    complete it, not change, waive or reopen it)."""
    rows = {}
    for key, owner in (("a", users["sales"]), ("b", users["sales_b"])):
        contract = make_contract(owner, customer=make_customer(owner, name=f"授权矩阵回款客户{key}有限公司"),
                                 title=f"授权矩阵回款合同{key}")
        approve_through(contract_transition(actor=owner, contract=contract, name="submit"))
        contract = contract_transition(actor=owner, contract=contract, name="sign", signing_method="wet_ink",
                                       signing_date=TODAY)
        payment_plan_save(actor=users["finance"], contract=contract, expected_version=None, installments=[
            {"due_date": TODAY, "amount": "40000.00"}, {"due_date": "2026-06-30", "amount": "60000.00"}])
        rows[("payment", key)] = payment_record(actor=users["finance"], contract=contract,
                                                data={"amount": "10000.00", "received_on": TODAY})[0]
        rows[("obligation", key)] = obligation_create(actor=owner, contract=contract, data={
            "description": "交付并通过验收", "due_date": "2026-04-01", "owner": users["legal"].pk})
        contract.refresh_from_db()
        rows[("owing", key)] = contract
        rows[("issue", key)] = issue_create(actor=owner, contract=contract, data={
            "title": "客户验收可能延迟", "severity": "high", "owner": users["legal"].pk})
        rows[("invoice", key)] = invoice_request(actor=owner, contract=contract, data={
            "total": "1130.00", "tax_rate": "13", "kind": "digital_general"})
    return rows


def _build() -> World:
    users = make_role_users(make_team("East"), make_team("West"))
    rows = {}
    for key, owner in (("a", users["sales"]), ("b", users["sales_b"])):
        customer = make_customer(owner, name=f"授权矩阵客户{key}有限公司")
        contract = make_contract(owner, customer=customer, title=f"授权矩阵合同{key}")
        document = document_upload(actor=owner, files=[upload("正文.pdf", make_pdf(), "application/pdf")],
                                   contract=contract)[0]
        image = document_upload(actor=owner, files=[upload("扫描件.png", make_image("PNG"), "image/png")],
                                customer=customer)[0]
        paper = paper_original_record(actor=owner, contract=contract, data={"room": "档案室", "copies": 1})
        rows.update({
            ("customer", key): customer,
            ("contract", key): contract,
            ("contact", key): contact_create(actor=owner, customer=customer, data={"name": f"联系人{key}"}),
            ("communication", key): communication_create(
                actor=owner, customer=customer,
                data={"occurred_on": TODAY, "channel": "phone", "summary": "首次拜访"}),
            ("document", key): document,
            ("image_document", key): image,
            ("version", key): document.current_version,
            ("image_version", key): image.current_version,
            ("paper", key): paper,
            ("loan", key): paper_original_lend(actor=owner, original=paper, borrower=owner, lent_on=TODAY),
            ("event", key): AuditEvent.objects.filter(contract_id=contract.pk).order_by("seq").first(),
            ("user", key): owner,
            ("team", key): owner.team,
            ("contract_type", key): (contract_type := ContractType.objects.create(name_zh=f"矩阵类型{key}")),
            ("custom_field", key): CustomField.objects.create(contract_type=contract_type, key="ref",
                                                             label_zh="编号", kind="text"),
            ("saved_view", key): SavedView.objects.create(user=owner, name=f"矩阵视图{key}", query="status=draft"),
            ("notification", key): Notification.objects.create(recipient=owner, kind="contract.assigned",
                                                               params={"actor": "矩阵", "number": key, "title": "合同"},
                                                               url=f"/contracts/{contract.pk}/"),
        })
    rows.update(_workflow_rows(users))
    rows.update(_reminder_rows(users))
    rows.update(_amendment_rows(users))
    rows.update(_finance_rows(users))
    world = World(users=users, rows=rows)
    for name in SUBJECTS:
        client = Client()
        if name != "anonymous":
            client.force_login(users[name])
        world.clients[name] = client
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once (users, teams, customers, contracts, real encrypted files …) inside a transaction
    rolled back when the module ends; each test's own transaction (`db`) undoes what it wrote."""
    tmp = tmp_path_factory.mktemp("authz")
    storage = override_settings(
        DATA_DIR=tmp, QIYUE_MASTER_KEY="", QIYUE_OLD_MASTER_KEYS=[],
        STORAGES={**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                    "OPTIONS": {"location": str(tmp / "files")}}})
    storage.enable()
    keys.keyring.cache_clear()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            yield _build()
            transaction.set_rollback(True)
    finally:
        storage.disable()
        keys.keyring.cache_clear()


# --- Asking --------------------------------------------------------------------------------------

LOGIN_PATHS = (resolve_url(settings.LOGIN_URL), "/admin/login/")


def outcome(response, *, write: bool) -> str:
    status = response.status_code
    if status == 401 or (status == 302 and response["Location"].startswith(LOGIN_PATHS)):
        return LOGIN
    if status == 400 and "does_not_exist" in str(_json(response).get("field_codes", "")):
        return HIDDEN
    if status in (403, 404):
        return str(status)
    if 200 <= status < 400 or (write and status in (400, 409)):
        return OK
    return f"unexpected {status}"


def _json(response) -> dict:
    try:
        return response.json() if response.get("Content-Type", "").startswith("application/json") else {}
    except ValueError:
        return {}


def ask(world: World, subject: str, method: str, url: str, entry: Entry, obj, *, api: bool) -> str:
    client = world.clients[subject]
    user = world.users.get(subject)
    if entry.query:
        url = f"{url}?{urlencode(entry.query(user, obj))}"
    if method == "GET":
        return outcome(client.get(url), write=False)
    data = entry.body(world, obj) if entry.body else {}
    multipart = not api or any(hasattr(value, "read") for value in data.values())
    cookies = copy.deepcopy(client.cookies)
    # A write: rolled back, and the client keeps its session whatever the answer (log out …).
    try:
        with transaction.atomic():
            send = getattr(client, method.lower())
            response = send(url, data) if multipart else send(url, data, content_type="application/json")
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies
    return outcome(response, write=True)


def cells(table_entry: Entry):
    for subject in SUBJECTS:
        for key in (OBJECTS if table_entry.kind else ("-",)):
            yield subject, key


def _object(world: World, kind: str | None, key: str):
    if kind is None or key in ("-", "missing"):
        return None
    return world.rows[(kind, key)]


def check(world: World, cells_of: Callable, request: Callable) -> list[str]:
    wrong = []
    for subject, key, entry in cells_of:
        obj = _object(world, entry.kind, key)
        want = expected(entry.rule, world.users.get(subject), obj)
        got = request(subject, key, entry, obj)
        if got != want:
            wrong.append(f"{subject} on {key}: expected {want}, got {got}")
    return wrong


@pytest.mark.parametrize(("method", "path"), sorted(API), ids=[f"{m} {p}" for m, p in sorted(API)])
def test_api_operation(world, db, method, path):
    entry = API[(method, path)]

    def request(subject, key, entry, obj):
        pk = obj.pk if obj is not None and not entry.in_body else MISSING_ID
        url = path.replace("{id}", str(pk))
        return ask(world, subject, method, url, entry, obj if key != "missing" else None, api=True)

    todo = [(subject, key, entry) for subject, key in cells(entry)]
    wrong = check(world, todo, request)
    assert not wrong, f"{method} {path}:\n" + "\n".join(wrong)


UI_CELLS = sorted((name, method) for name, methods in UI.items() for method in methods)


@pytest.mark.parametrize(("name", "method"), UI_CELLS, ids=[f"{m} {n}" for n, m in UI_CELLS])
def test_ui_url(world, db, name, method):
    entry = UI[name][method]

    def request(subject, key, entry, obj):
        if entry.kind is None:
            url = f"/{name}" if "/" in name else reverse(name)  # an unnamed pattern is keyed by its route
        elif obj is None and entry.missing_args is not None:
            url = reverse(name, args=entry.missing_args)
        elif obj is None:
            url = reverse(name, args=[MISSING_ID if isinstance(a, int) else a
                                      for a in entry.args(world.rows[(entry.kind, "a")])])
        else:
            url = reverse(name, args=entry.args(obj))
        return ask(world, subject, method, url, entry, obj, api=False)

    todo = [(subject, key, entry) for subject, key in cells(entry)]
    wrong = check(world, todo, request)
    assert not wrong, f"{method} {name}:\n" + "\n".join(wrong)


# --- Completeness ------------------------------------------------------------------------------------

def _ui_patterns(patterns, prefix="", namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
            yield from _ui_patterns(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            route = prefix + str(pattern.pattern)
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield route, name or route  # an unnamed pattern by its route


def _api_template(route: str) -> str:
    """A router's regex route as the schema's path template: ^contracts/(?P<pk>[^/.]+)/$ → contracts/{id}/."""
    route = re.sub(r"\(\?P<pk>[^)]*\)", "{id}", route)
    return "/" + route.replace("^", "").replace("$", "")


def test_every_endpoint_has_an_entry(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {(method.upper(), path) for path, item in schema["paths"].items() for method in item
                  if method != "parameters"}
    missing = sorted(operations - set(API))
    assert not missing, ("API operations without an entry in test_authz_matrix.API (add one with the rule "
                         f"from the app's policies): {missing}")
    assert not set(API) - operations, f"entries for operations the schema no longer has: {set(API) - operations}"

    names, api_routes = set(), set()
    for route, name in _ui_patterns(get_resolver().url_patterns):
        if route.startswith("api/v1/"):
            api_routes.add(_api_template(route))
        elif not any(name.startswith(prefix) for prefix in NOT_IN_MATRIX if prefix.endswith(":")) \
                or name == "admin:index":
            names.add(name)
    assert not names - set(UI), ("URL patterns without an entry in test_authz_matrix.UI (add one with the rule "
                                 f"from the app's policies): {sorted(names - set(UI))}")
    assert not set(UI) - names, f"entries for URL names that no longer exist: {set(UI) - names}"
    assert api_routes <= {path for _method, path in operations}, (
        f"API routes missing from the OpenAPI schema (so from the matrix): {api_routes - {p for _m, p in operations}}")


def test_cell_count(world, db):
    """The matrix's size and the spread of its expected answers, for the record (docs/security.md)."""
    spread: dict[str, int] = {}
    entries = [*API.values(), *(entry for methods in UI.values() for entry in methods.values())]
    for entry in entries:
        for subject, key in cells(entry):
            want = expected(entry.rule, world.users.get(subject), _object(world, entry.kind, key))
            spread[want] = spread.get(want, 0) + 1
    print(f"authorization matrix: {len(API)} API operations, {len(UI_CELLS)} UI URL×method, "
          f"{sum(spread.values())} cells, expected {spread}")
    assert sum(spread.values()) > 2000 and all(spread.get(o, 0) > 100 for o in (OK, DENIED, HIDDEN, LOGIN))
