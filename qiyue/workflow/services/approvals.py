"""Approvals (R4.1): submitting a contract starts one on the flow its rules choose; approvers decide
step by step; the last approval approves the contract, a rejection or a withdrawal returns it to
draft. Every write locks the contract, then its approval, checks the page's `version` and bumps it,
so two approvers deciding at once give one outcome and a decision on a stale page is refused."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.contracts import amendments
from qiyue.contracts import selectors as contract_selectors
from qiyue.contracts import services as contract_services
from qiyue.contracts.models import Contract
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.documents import services as document_services

from .. import approvers, checklist, events, flows, notices, policies
from ..errors import WorkflowErrorCode
from ..models import (
    Approval,
    ApprovalComment,
    ApprovalFlow,
    ApprovalStatus,
    ApprovalStep,
    ApprovalTask,
    Review,
    StepStatus,
    TaskStatus,
)
from .prereview_runs import prereview_run

URGE_INTERVAL = datetime.timedelta(hours=1)
MAX_ADDED_PER_STEP = 10
MAX_COMMENT = 2000
# The facts an approval locks (R4.4): what reviewers approved, kept with the approval as submitted.
MATERIAL_FACTS = ("title", "customer_id", "our_entity", "counterparty_signatory", "amount", "currency", "tax_rate",
                  "effective_date", "expiry_date", "open_ended", "auto_renewal", "notice_period_days", "parent_id")
OPEN_STATES = (TaskStatus.OPEN, TaskStatus.WAITING)


def contract_facts(contract: Contract, *, risk_level: str = "none") -> dict:
    """What flow conditions test (flows.py), for `contract` now."""
    return {"amount_cny": contract_selectors.amount_in_cny(contract), "nature": contract.nature,
            "subject_matter": contract.subject_matter, "signing_form": contract.signing_form,
            "contract_type": contract.contract_type_id, "customer_level": contract.customer.level,
            "supplement": contract.parent_id is not None, "risk_level": risk_level}


def _material(contract: Contract) -> dict:
    values = {}
    for name in MATERIAL_FACTS:
        value = getattr(contract, name)
        values[name] = value.isoformat() if hasattr(value, "isoformat") else (
            str(value) if value is not None and not isinstance(value, bool | int) else value)
    return values


def flow_for(contract: Contract, facts: dict) -> ApprovalFlow:
    """The first active flow, by priority, whose conditions hold; else the default flow."""
    candidates = (ApprovalFlow.objects.filter(active=True, current__isnull=False).select_related("current")
                  .order_by("position", "id"))
    default = None
    for flow in candidates:
        if flow.is_default:
            default = flow
        elif flows.evaluate(flow.conditions, facts).holds:
            return flow
    if default is None:
        raise ApplicationError(WorkflowErrorCode.NO_FLOW, _(
            "No approval flow applies to this contract and there is no default flow: an administrator "
            "must set one up."))
    return default


def _excluded(approval: Approval, contract: Contract) -> set:
    return {pk for pk in (contract.owner_id, approval.submitted_by_id) if pk is not None}


def _lock(contract: Contract, *, deciding=None) -> tuple[Contract, Approval]:
    """The contract and its running approval, locked in that order (every writer takes them so). An
    approver `deciding` (the actor) after the approval ended, who held a task of it (someone decided
    first), is told their task is closed."""
    contract = (Contract.objects.select_for_update(of=("self",)).select_related("customer", "owner", "team")
                .live().filter(pk=contract.pk).first())
    if contract is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    approval = (Approval.objects.select_for_update(of=("self",)).select_related("amendment")
                .filter(contract=contract, status=ApprovalStatus.RUNNING).first())
    if approval is None:
        if deciding is not None and ApprovalTask.objects.filter(
                contract=contract, assignee_id=getattr(deciding, "pk", None)).exists():
            raise _closed()
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("This contract is not in approval."))
    approval.contract = contract
    return contract, approval


def _check_version(approval: Approval, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != approval.version:
        raise stale_version_error()


def _bump(approval: Approval, **fields) -> None:
    for name, value in fields.items():
        setattr(approval, name, value)
    approval.version += 1
    approval.save(update_fields=["version", *fields])


def _text(value, field: str, *, required: bool, limit: int = 1000, message: str = "") -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={field: [_("Enter text.")]})
    if required and not value:
        raise ApplicationError(ErrorCode.REASON_REQUIRED, message or _("Please give a reason."),
                               fields={field: [message or _("A reason is required for this action.")]})
    if len(value) > limit:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={field: [_("At most %(n)d characters.") % {"n": limit}]})
    return value


# --- Starting ------------------------------------------------------------------------------------------

def _open_tasks(approval: Approval, step: ApprovalStep, contract: Contract, *, actor) -> list[ApprovalTask]:
    """Make the step current: a new round of tasks for whoever it names (fallback: administrators)."""
    step_def = approval.flow_version.steps[step.index]
    assignments, fell_back = approvers.step_assignments(step_def["approvers"], contract,
                                                        excluded=_excluded(approval, contract))
    if not assignments:
        raise ApplicationError(WorkflowErrorCode.NO_APPROVER, _(
            "Nobody can approve the step “%(step)s” of this contract (its owner and submitter may not): "
            "an administrator must change the flow.") % {"step": step.name()})
    now = timezone.now()
    step.status, step.started_at, step.finished_at = StepStatus.ACTIVE, now, None
    step.round += 1
    step.fallback = fell_back
    step.save(update_fields=["status", "started_at", "finished_at", "round", "fallback"])
    tasks = ApprovalTask.objects.bulk_create([
        ApprovalTask(approval=approval, step=step, contract=contract, assignee=a.assignee,
                     on_behalf_of=a.on_behalf_of, status=TaskStatus.OPEN, round=step.round, opened_at=now)
        for a in assignments])
    approval.current_step = step.index
    notices.task_notice(actor=actor, contract=contract, users=[t.assignee for t in tasks], step=step)
    return tasks


def _flow_label(approval: Approval) -> str:
    version = approval.flow_version
    return f"{version.flow.name_zh} v{version.number}"


def _advance(approval: Approval, contract: Contract, *, actor, after_index: int) -> None:
    """Make the next step that applies current, or, when none is left, approve the contract."""
    step = (ApprovalStep.objects.filter(approval=approval, index__gt=after_index, status=StepStatus.UPCOMING)
            .order_by("index").first())
    if step is not None:
        _open_tasks(approval, step, contract, actor=actor)
        _bump(approval, current_step=step.index)
        return
    _bump(approval, status=ApprovalStatus.APPROVED, current_step=None, finished_at=timezone.now())
    if approval.amendment_id:
        amendments.amendment_settle(actor=actor, amendment=approval.amendment, outcome="approved")
    else:
        contract_services.contract_transition(actor=actor, contract=contract, name="approve", via_workflow=True)
    events.approval_event(actor=actor, action="approval.completed", contract=contract,
                          changes={"flow": _flow_label(approval)})
    notices.outcome_notice(actor=actor, approval=approval, contract=contract, kind=notices.APPROVED)


def _as_amended(contract: Contract, amendment) -> Contract:
    """A copy of `contract` with the amendment's new values (what its approvers approve)."""
    from copy import copy

    amended = copy(contract)
    for name, value in amendment.changes.items():
        setattr(amended, name, Contract._meta.get_field(name).to_python(value))
    return amended


@transaction.atomic
def approval_start(*, actor, contract: Contract, amendment=None) -> Approval:
    """Start the approval of a contract just submitted (called inside the submit transition, after the
    pre-review), or of an amendment of it: choose the flow (on the terms as they would be), skip the
    steps whose conditions do not hold, open the first."""
    run = prereview_run(actor=actor, contract=contract, trigger="submit")
    subject = _as_amended(contract, amendment) if amendment is not None else contract
    facts = contract_facts(subject, risk_level=run.risk_level)
    flow = flow_for(subject, facts)
    version = flow.current
    approval = Approval.objects.create(
        contract=contract, amendment=amendment, flow_version=version,
        submitted_by=actor if getattr(actor, "pk", None) else None,
        prereview=run, risk_level=run.risk_level, facts=_material(subject))
    steps, skipped = [], []
    for index, definition in enumerate(version.steps):
        verdict = flows.evaluate(definition.get("when") or [], facts)
        steps.append(ApprovalStep(
            approval=approval, index=index, name_zh=definition["name_zh"], name_en=definition.get("name_en", ""),
            mode=definition["mode"], review=definition.get("review", ""),
            status=StepStatus.UPCOMING if verdict.holds else StepStatus.SKIPPED,
            skipped_because=verdict.failed))
        if not verdict.holds:
            skipped.append(definition["name_zh"])
    ApprovalStep.objects.bulk_create(steps)
    events.approval_event(actor=actor, action="approval.started", contract=contract, changes={
        "flow": _flow_label(approval), "risk_level": run.risk_level, "skipped": skipped})
    _advance(approval, contract, actor=actor, after_index=-1)
    return approval


def on_amendment_submitted(sender, *, amendment, contract, actor, **kwargs) -> None:
    """amendment_submitted: an amendment is approved like a contract."""
    approval_start(actor=actor, contract=contract, amendment=amendment)


def on_contract_transitioned(sender, *, contract, name, actor, **kwargs) -> None:
    """contract_transitioned: submitting starts an approval; reopening an approved contract voids its
    approval."""
    if name == "submit":
        approval_start(actor=actor, contract=contract)
    elif name in ("terminate", "complete", "expire"):
        # The contract ended: an amendment's approval under way ends too (the amendment is cancelled).
        running = Approval.objects.select_for_update().filter(contract=contract, status=ApprovalStatus.RUNNING,
                                                              amendment__isnull=False).first()
        if running is not None:
            _end(running, status=ApprovalStatus.VOIDED, reason=contract.status_reason or contract.get_status_display())
            events.approval_event(actor=actor, action="approval.voided", contract=contract,
                                  changes={"comment": running.outcome_reason})
    elif name == "reopen":
        approval = (Approval.objects.select_for_update().filter(contract=contract, status=ApprovalStatus.APPROVED)
                    .order_by("-submitted_at", "-id").first())
        if approval is not None:
            _bump(approval, status=ApprovalStatus.VOIDED, outcome_reason=contract.status_reason)
            events.approval_event(actor=actor, action="approval.voided", contract=contract,
                                  changes={"comment": contract.status_reason})


# --- Deciding ------------------------------------------------------------------------------------------

def _task_for(actor, contract: Contract, approval: Approval, task_id) -> ApprovalTask:
    task = (ApprovalTask.objects.select_related("step", "assignee", "on_behalf_of")
            .filter(pk=task_id, approval=approval).first() if str(task_id).isdigit() else None)
    if task is None:
        # A task of an approval that ended meanwhile (or someone else's): the page is out of date.
        if ApprovalTask.objects.filter(pk=task_id if str(task_id).isdigit() else 0, contract=contract,
                                       assignee_id=getattr(actor, "pk", None)).exists():
            raise _closed()
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    if task.assignee_id != getattr(actor, "pk", None):
        raise permission_denied(_("This approval task is someone else's."))
    if task.status != TaskStatus.OPEN:
        raise _closed(task)
    return task


def _closed(task: ApprovalTask | None = None) -> ApplicationError:
    if task is not None and task.status == TaskStatus.WAITING:
        message = _("This task waits for the approver added before you.")
    else:
        message = _("This task was decided or handed on meanwhile: reload the page to see where the approval is.")
    return ApplicationError(WorkflowErrorCode.TASK_CLOSED, message)


def _decider(task: ApprovalTask) -> dict:
    """Who decided, as the audit event records it: "X on behalf of Y" for a delegate."""
    return {"on_behalf_of": str(task.on_behalf_of)} if task.on_behalf_of_id else {}


def _close_task(task: ApprovalTask, status: str, *, comment: str = "", checklist_data: dict | None = None) -> None:
    task.status, task.decided_at, task.comment = status, timezone.now(), comment
    fields = ["status", "decided_at", "comment"]
    if checklist_data is not None:
        task.checklist = checklist_data
        fields.append("checklist")
    task.save(update_fields=fields)


def _cancel_open(approval: Approval, *, step: ApprovalStep | None = None) -> None:
    rows = ApprovalTask.objects.filter(approval=approval, status__in=OPEN_STATES)
    if step is not None:
        rows = rows.filter(step=step)
    rows.update(status=TaskStatus.CANCELLED, decided_at=timezone.now())


def _chain(task: ApprovalTask) -> int:
    return task.origin_id or task.pk


def _step_finished(step: ApprovalStep) -> bool:
    """Whether the step has its approval: all-of, when no task of this round is still to decide;
    any-of, when one approver's chain (with the approvers added to it) has approved."""
    tasks = list(ApprovalTask.objects.filter(step=step, round=step.round)
                 .exclude(status__in=(TaskStatus.CANCELLED, TaskStatus.TRANSFERRED)))
    pending = {t.pk for t in tasks if t.status in OPEN_STATES}
    if step.mode == "all":
        return not pending
    chains: dict[int, list] = {}
    for t in tasks:
        chains.setdefault(_chain(t), []).append(t)
    return any(all(t.status == TaskStatus.APPROVED for t in chain) for chain in chains.values())


def _checklist_for(step: ApprovalStep, raw, comment: str, *, approving: bool) -> dict | None:
    if step.review == Review.NONE:
        return None
    cleaned, errors = checklist.clean(raw)
    if errors:
        raise ApplicationError(WorkflowErrorCode.CHECKLIST_INCOMPLETE, _("Fill in the review checklist."),
                               fields=errors)
    if approving and checklist.has_issue(cleaned) and not comment:
        message = _("You marked an issue: say in a comment why you approve anyway.")
        raise ApplicationError(WorkflowErrorCode.CHECKLIST_INCOMPLETE, message, fields={"comment": [message]})
    return cleaned


@transaction.atomic
def approval_decide(*, actor, contract: Contract, task_id, decision: str, comment: str = "", checklist_data=None,
                    return_to: int | None = None, expected_version: int | None = None) -> Approval:
    """An approver's decision on their open task: `approve`; `reject` (back to draft, with a reason);
    `return` to the earlier step `return_to` (with a reason)."""
    if decision not in ("approve", "reject", "return"):
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"decision": [_("Choose approve, reject or return.")]})
    contract, approval = _lock(contract, deciding=actor)
    _check_version(approval, expected_version)
    task = _task_for(actor, contract, approval, task_id)
    step = task.step
    comment = _text(comment, "comment", required=decision != "approve", limit=MAX_COMMENT,
                    message=_("Say why, for the people who must change the contract."))
    marks = _checklist_for(step, checklist_data, comment, approving=decision == "approve")
    who = _decider(task)
    if decision == "approve":
        _close_task(task, TaskStatus.APPROVED, comment=comment, checklist_data=marks)
        events.approval_event(actor=actor, action="approval.task_approved", contract=contract, changes={
            "step": step.name_zh, **who, **({"checklist": _marks_summary(marks)} if marks else {}),
            **({"comment": comment} if comment else {})})
        waiting = list(ApprovalTask.objects.filter(after=task, status=TaskStatus.WAITING).select_related("assignee"))
        if waiting:
            ApprovalTask.objects.filter(pk__in=[t.pk for t in waiting]).update(
                status=TaskStatus.OPEN, opened_at=timezone.now())
            notices.task_notice(actor=actor, contract=contract, users=[t.assignee for t in waiting], step=step)
        if _step_finished(step):
            _cancel_open(approval, step=step)
            step.status, step.finished_at = StepStatus.DONE, timezone.now()
            step.save(update_fields=["status", "finished_at"])
            _advance(approval, contract, actor=actor, after_index=step.index)
        else:
            _bump(approval)
        return approval
    if decision == "reject":
        _close_task(task, TaskStatus.REJECTED, comment=comment, checklist_data=marks)
        _end(approval, status=ApprovalStatus.REJECTED, reason=comment)
        if approval.amendment_id:
            amendments.amendment_settle(actor=actor, amendment=approval.amendment, outcome="rejected", reason=comment)
        else:
            contract_services.contract_transition(actor=actor, contract=contract, name="return", reason=comment,
                                                  via_workflow=True)
        events.approval_event(actor=actor, action="approval.rejected", contract=contract, changes={
            "step": step.name_zh, **who, "comment": comment, **({"checklist": _marks_summary(marks)} if marks else {})})
        notices.outcome_notice(actor=actor, approval=approval, contract=contract, kind=notices.REJECTED,
                               reason=comment)
        return approval
    target = _return_target(approval, step, return_to)
    _close_task(task, TaskStatus.RETURNED, comment=comment, checklist_data=marks)
    _cancel_open(approval)
    ApprovalStep.objects.filter(approval=approval, index__gte=target.index, index__lte=step.index).exclude(
        status=StepStatus.SKIPPED).update(status=StepStatus.UPCOMING, finished_at=None)
    target.refresh_from_db()
    participants = list(ApprovalTask.objects.filter(approval=approval, step__index__gte=target.index)
                        .select_related("assignee").distinct())
    _open_tasks(approval, target, contract, actor=actor)
    _bump(approval, current_step=target.index)
    events.approval_event(actor=actor, action="approval.returned", contract=contract, changes={
        "step": [step.name_zh, target.name_zh], **who, "comment": comment})
    notices.outcome_notice(actor=actor, approval=approval, contract=contract, kind=notices.RETURNED,
                           reason=comment, step=target, also=[t.assignee for t in participants])
    return approval


def _return_target(approval: Approval, step: ApprovalStep, return_to) -> ApprovalStep:
    target = None
    if isinstance(return_to, int) and not isinstance(return_to, bool) or (isinstance(return_to, str)
                                                                           and return_to.isdigit()):
        target = ApprovalStep.objects.filter(approval=approval, index=int(return_to), index__lt=step.index,
                                             status=StepStatus.DONE).first()
    if target is None:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"return_to": [_("Choose an earlier step that was approved.")]})
    return target


def _marks_summary(marks: dict) -> dict:
    return {key: item["mark"] for key, item in marks.items()}


def _end(approval: Approval, *, status: str, reason: str = "") -> None:
    _cancel_open(approval)
    ApprovalStep.objects.filter(approval=approval, status__in=(StepStatus.ACTIVE, StepStatus.UPCOMING)).update(
        status=StepStatus.ENDED)
    _bump(approval, status=status, current_step=None, finished_at=timezone.now(), outcome_reason=reason[:1000])


# --- Handing on: transfer, adding an approver ---------------------------------------------------------

def _eligible(user, contract: Contract, approval: Approval, step: ApprovalStep, field: str):
    if user is None or not approvers.may_approve(user, contract, excluded=_excluded(approval, contract)):
        raise ApplicationError(WorkflowErrorCode.NOT_ELIGIBLE, _("Please correct the errors below."), fields={
            field: [_("Choose an active reviewer who can see this contract and is neither its owner nor "
                      "its submitter.")]})
    if ApprovalTask.objects.filter(step=step, round=step.round, assignee=user, status__in=OPEN_STATES).exists():
        raise ApplicationError(WorkflowErrorCode.NOT_ELIGIBLE, _("Please correct the errors below."), fields={
            field: [_("This person already has a task in this step.")]})
    return user


@transaction.atomic
def approval_transfer(*, actor, contract: Contract, task_id, to_user, comment: str = "",
                      expected_version: int | None = None) -> Approval:
    """Hand one's open task to another eligible approver (转交); their delegate takes it if they are away."""
    contract, approval = _lock(contract, deciding=actor)
    _check_version(approval, expected_version)
    task = _task_for(actor, contract, approval, task_id)
    step = task.step
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)
    if to_user is not None and to_user.pk == actor.pk:
        raise ApplicationError(WorkflowErrorCode.NOT_ELIGIBLE, _("Please correct the errors below."),
                               fields={"to": [_("Choose someone else.")]})
    _eligible(to_user, contract, approval, step, "to")
    assignment = approvers.assign(to_user, contract, excluded=_excluded(approval, contract))
    _close_task(task, TaskStatus.TRANSFERRED, comment=comment)
    new = ApprovalTask.objects.create(
        approval=approval, step=step, contract=contract, assignee=assignment.assignee,
        on_behalf_of=assignment.on_behalf_of, origin_id=_chain(task), status=TaskStatus.OPEN, round=step.round,
        opened_at=timezone.now(), transferred_from=actor)
    ApprovalTask.objects.filter(after=task, status=TaskStatus.WAITING).update(after=new)
    _bump(approval)
    events.approval_event(actor=actor, action="approval.transferred", contract=contract, changes={
        "step": step.name_zh, "to": str(assignment.assignee), **_decider(task),
        **({"comment": comment} if comment else {})})
    notices.task_notice(actor=actor, contract=contract, users=[assignment.assignee], step=step)
    return approval


@transaction.atomic
def approval_add_approver(*, actor, contract: Contract, task_id, user, position: str, comment: str = "",
                          expected_version: int | None = None) -> Approval:
    """Add an approver before oneself (they decide first, then the task comes back) or after oneself
    (they decide once one has approved) (加签). Their approval is needed whatever the step's mode."""
    if position not in ("before", "after"):
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"position": [_("Choose before or after you.")]})
    contract, approval = _lock(contract, deciding=actor)
    _check_version(approval, expected_version)
    task = _task_for(actor, contract, approval, task_id)
    step = task.step
    comment = _text(comment, "comment", required=False, limit=MAX_COMMENT)
    if user is not None and user.pk == actor.pk:
        raise ApplicationError(WorkflowErrorCode.NOT_ELIGIBLE, _("Please correct the errors below."),
                               fields={"user": [_("Choose someone else.")]})
    _eligible(user, contract, approval, step, "user")
    if ApprovalTask.objects.filter(step=step, round=step.round, added_by__isnull=False).count() >= MAX_ADDED_PER_STEP:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields={
            "user": [_("At most %(n)d approvers can be added to a step.") % {"n": MAX_ADDED_PER_STEP}]})
    assignment = approvers.assign(user, contract, excluded=_excluded(approval, contract))
    now = timezone.now()
    if position == "before":
        added = ApprovalTask.objects.create(
            approval=approval, step=step, contract=contract, assignee=assignment.assignee,
            on_behalf_of=assignment.on_behalf_of, origin_id=_chain(task), added_by=actor, status=TaskStatus.OPEN,
            round=step.round, opened_at=now)
        task.status, task.after = TaskStatus.WAITING, added
        task.save(update_fields=["status", "after"])
        notices.task_notice(actor=actor, contract=contract, users=[assignment.assignee], step=step)
    else:
        added = ApprovalTask.objects.create(
            approval=approval, step=step, contract=contract, assignee=assignment.assignee,
            on_behalf_of=assignment.on_behalf_of, origin_id=_chain(task), added_by=actor,
            status=TaskStatus.WAITING, round=step.round, after=task)
        ApprovalTask.objects.filter(after=task, status=TaskStatus.WAITING).exclude(pk=added.pk).update(after=added)
    _bump(approval)
    events.approval_event(actor=actor, action="approval.approver_added", contract=contract, changes={
        "step": step.name_zh, "added": str(assignment.assignee), "position": position,
        **({"comment": comment} if comment else {})})
    if comment:
        ApprovalComment.objects.create(approval=approval, author=actor, text=comment)
    return approval


# --- The owner's side: withdraw, urge ----------------------------------------------------------------

@transaction.atomic
def approval_withdraw(*, actor, contract: Contract, reason: str = "", expected_version: int | None = None) -> Approval:
    """The owner (or the submitter) takes the contract back to draft while nobody has decided (撤回)."""
    contract, approval = _lock(contract)
    if not policies.can_withdraw(actor, contract, approval):
        raise permission_denied()
    _check_version(approval, expected_version)
    if ApprovalTask.objects.filter(approval=approval, status__in=(
            TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.RETURNED)).exists():
        raise ApplicationError(WorkflowErrorCode.ALREADY_DECIDED, _(
            "An approver has decided already: the contract can no longer be withdrawn. Ask an approver to "
            "reject it if it must change."))
    reason = _text(reason, "reason", required=False)
    _end(approval, status=ApprovalStatus.WITHDRAWN, reason=reason)
    if approval.amendment_id:
        amendments.amendment_settle(actor=actor, amendment=approval.amendment, outcome="withdrawn", reason=reason)
    else:
        contract_services.contract_transition(actor=actor, contract=contract, name="withdraw", reason=reason,
                                              via_workflow=True)
    events.approval_event(actor=actor, action="approval.withdrawn", contract=contract,
                          changes={"comment": reason} if reason else {})
    return approval


@transaction.atomic
def approval_urge(*, actor, contract: Contract, now: datetime.datetime | None = None) -> Approval:
    """Remind the current approvers (催办), at most once an hour per approval."""
    contract, approval = _lock(contract)
    if not policies.can_urge(actor, contract, approval):
        raise permission_denied()
    now = now or timezone.now()
    if approval.urged_at is not None and now - approval.urged_at < URGE_INTERVAL:
        minutes = max(1, int((approval.urged_at + URGE_INTERVAL - now).total_seconds() // 60) + 1)
        raise ApplicationError(WorkflowErrorCode.URGED_RECENTLY, _(
            "The approvers were reminded less than an hour ago; you can urge them again in %(minutes)d "
            "minutes.") % {"minutes": minutes})
    tasks = list(ApprovalTask.objects.filter(approval=approval, status=TaskStatus.OPEN)
                 .select_related("assignee", "step"))
    _bump(approval, urged_at=now)
    step = tasks[0].step if tasks else None
    events.approval_event(actor=actor, action="approval.urged", contract=contract,
                          changes={"approvers": sorted(str(t.assignee) for t in tasks)})
    notices.urged_notice(actor=actor, contract=contract, users=[t.assignee for t in tasks], step=step)
    return approval


@transaction.atomic
def approval_comment(*, actor, contract: Contract, text: str, files=()) -> ApprovalComment:
    """A comment on the running approval (or the last one), with an optional attachment that becomes a
    document of the contract."""
    contract = contract_selectors.contract_queryset(user=actor).filter(pk=contract.pk).first() \
        if getattr(actor, "pk", None) else None
    if contract is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    approval = Approval.objects.select_for_update().filter(contract=contract).order_by("-submitted_at", "-id").first()
    if approval is None:
        raise ApplicationError(ErrorCode.ILLEGAL_TRANSITION, _("This contract has not been submitted for approval."))
    if not policies.can_comment(actor, contract, approval):
        raise permission_denied()
    text = _text(text, "text", required=True, limit=MAX_COMMENT, message=_("Write a comment."))
    document = None
    files = [f for f in files if f]
    if len(files) > 1:
        raise ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."),
                               fields={"attachment": [_("Attach one file.")]})
    if files:
        # Whoever may comment may attach a file to the comment, editor of the contract or not.
        document = document_services.document_upload(actor=actor, files=files, contract=contract,
                                                      comment=_("Attached to an approval comment"),
                                                      may_upload=True)[0]
    comment = ApprovalComment.objects.create(approval=approval, author=actor, text=text, document=document)
    _bump(approval)
    events.approval_event(actor=actor, action="approval.commented", contract=contract, changes={
        "comment": text, **({"attachment": document.title} if document else {})})
    return comment




@transaction.atomic
def approval_reopen(*, actor, contract: Contract, reason: str) -> Contract:
    """Return an approved contract to draft so its terms can change: its approval is voided (recorded)
    and it must be approved again."""
    contract = contract_selectors.contract_get(user=actor, pk=contract.pk)
    if not policies.can_reopen(actor, contract):
        raise permission_denied()
    reason = _text(reason, "reason", required=True)
    return contract_services.contract_transition(actor=actor, contract=contract, name="reopen", reason=reason,
                                                 via_workflow=True)
