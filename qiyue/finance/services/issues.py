"""Issues and risks noted on a contract: noted, changed, resolved (with how) and reopened."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from qiyue.contracts.models import Contract
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied
from qiyue.core.services import audit_value, model_update

from .. import events, policies
from ..errors import FinanceErrorCode
from ..models import ContractIssue, IssueKind, IssueStatus, Severity
from .common import _date, _invalid, _lock_contract, _text, _today, check_version, clean_owner

ISSUE_FIELDS = ("kind", "title", "description", "severity", "owner", "due_date")


def _clean(contract: Contract, data: Mapping[str, Any], *, partial: bool) -> dict:
    clean = {}
    if not partial or "kind" in data:
        kind = data.get("kind") or IssueKind.ISSUE
        if kind not in IssueKind.values:
            raise _invalid({"kind": [_("Choose issue or risk.")]})
        clean["kind"] = kind
    if not partial or "title" in data:
        clean["title"] = _text(data.get("title"), "title", 300, required=True)
    if not partial or "description" in data:
        clean["description"] = _text(data.get("description"), "description", 2000)
    if not partial or "severity" in data:
        severity = data.get("severity") or Severity.MEDIUM
        if severity not in Severity.values:
            raise _invalid({"severity": [_("Choose low, medium or high.")]})
        clean["severity"] = severity
    if not partial or "due_date" in data:
        clean["due_date"] = _date(data.get("due_date"), "due_date", required=False)
    if not partial or "owner" in data:
        clean["owner"] = clean_owner(data.get("owner"), contract)
    return clean


def _lock(issue: ContractIssue) -> tuple[Contract, ContractIssue]:
    contract = _lock_contract(issue.contract)
    row = ContractIssue.objects.select_for_update().filter(pk=issue.pk, contract=contract).first()
    if row is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    row.contract = contract
    return contract, row



def issue_create(*, actor, contract: Contract, data: Mapping[str, Any]) -> ContractIssue:
    with transaction.atomic():
        contract = _lock_contract(contract)
        if not policies.can_manage_issues(actor, contract):
            raise permission_denied()
        issue = ContractIssue(contract=contract, created_by=actor, **_clean(contract, data, partial=False))
        issue.full_clean(exclude=["contract", "owner", "created_by"])
        issue.save()
        events.issue_event(actor=actor, action="issue.created", issue=issue, changes={
            name: audit_value(getattr(issue, name)) for name in ISSUE_FIELDS if getattr(issue, name)})
        return issue


def issue_update(*, actor, issue: ContractIssue, data: Mapping[str, Any],
                 expected_version: int | None) -> ContractIssue:
    with transaction.atomic():
        contract, issue = _lock(issue)
        if not policies.can_manage_issues(actor, contract):
            raise permission_denied()
        check_version(issue, expected_version)
        changes = model_update(instance=issue, fields=ISSUE_FIELDS, data=_clean(contract, data, partial=True))
        if changes:
            issue.version += 1
            issue.full_clean(exclude=["contract", "owner", "created_by"])
            issue.save()
            events.issue_event(actor=actor, action="issue.updated", issue=issue, changes=changes)
        return issue


def issue_resolve(*, actor, issue: ContractIssue, resolution: Any,
                  expected_version: int | None = None) -> ContractIssue:
    """Mark it resolved today, saying how (required)."""
    resolution = _text(resolution, "resolution", 2000, required=True)
    with transaction.atomic():
        contract, issue = _lock(issue)
        if not policies.can_resolve_issue(actor, issue):
            raise permission_denied()
        check_version(issue, expected_version)
        if issue.status != IssueStatus.OPEN:
            raise ApplicationError(FinanceErrorCode.ISSUE_CLOSED, _("This issue is already resolved."))
        issue.status = IssueStatus.RESOLVED
        issue.resolution = resolution
        issue.resolved_on = _today()
        issue.version += 1
        issue.save()
        events.issue_event(actor=actor, action="issue.resolved", issue=issue, changes={
            "status": [IssueStatus.OPEN.value, IssueStatus.RESOLVED.value], "resolution": resolution})
        return issue


def issue_reopen(*, actor, issue: ContractIssue, expected_version: int | None = None) -> ContractIssue:
    with transaction.atomic():
        contract, issue = _lock(issue)
        if not policies.can_resolve_issue(actor, issue):
            raise permission_denied()
        check_version(issue, expected_version)
        if issue.status != IssueStatus.RESOLVED:
            raise ApplicationError(FinanceErrorCode.ISSUE_CLOSED, _("This issue is open."))
        issue.status = IssueStatus.OPEN
        issue.resolved_on = None
        issue.version += 1
        issue.save()
        events.issue_event(actor=actor, action="issue.reopened", issue=issue, changes={
            "status": [IssueStatus.RESOLVED.value, IssueStatus.OPEN.value]})
        return issue
