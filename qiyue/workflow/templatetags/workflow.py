"""Review and approval's parts of the contract workspace: the approval panel (progress, the user's
decision, the owner's actions, comments, earlier rounds) and the pre-review panel of the approval tab."""

from django import template
from django.contrib.auth import get_user_model
from django.utils.translation import get_language

from .. import approvers, checklist, display, policies, selectors
from ..models import ApprovalStatus, StepStatus, TaskStatus

register = template.Library()


def _chinese() -> bool:
    return (get_language() or "").startswith("zh")


def _task_row(task) -> dict:
    return {"task": task, "checklist": checklist.rows(task.checklist) if task.checklist else []}


def _step_rows(approval) -> list[dict]:
    tasks_by_step: dict[int, list] = {}
    for task in approval.tasks.all():
        tasks_by_step.setdefault(task.step_id, []).append(task)
    definitions = approval.flow_version.steps
    users = {}
    rows = []
    for step in approval.steps.all():
        tasks = tasks_by_step.get(step.pk, [])
        definition = definitions[step.index] if step.index < len(definitions) else {}
        waiting = [t for t in tasks if t.status == TaskStatus.OPEN and t.round == step.round]
        rows.append({
            "step": step,
            "name": step.name(),
            "tasks": [_task_row(t) for t in tasks],
            "waiting": waiting,
            "skipped_because": display.describe(step.skipped_because) if step.skipped_because else "",
            "approvers": [display.approver_label(a, users) for a in definition.get("approvers", [])],
        })
    return rows


def _eligible_people(user, contract, approval, task) -> list:
    excluded = {pk for pk in (contract.owner_id, approval.submitted_by_id, user.pk) if pk}
    busy = set(approval.tasks.filter(step_id=task.step_id, status__in=(TaskStatus.OPEN, TaskStatus.WAITING))
               .values_list("assignee_id", flat=True))
    people = get_user_model().objects.filter(is_active=True, role__in=policies.REVIEWERS).exclude(
        pk__in=excluded | busy).select_related("team").order_by("role", "username")
    return [p for p in people if approvers.may_approve(p, contract, excluded=excluded)]


@register.inclusion_tag("workflow/_approval_panel.html", takes_context=True)
def approval_panel(context, contract):
    request = context["request"]
    user = request.user
    approvals = list(selectors.approvals_of(contract=contract)[:10])
    current = approvals[0] if approvals and approvals[0].status == ApprovalStatus.RUNNING else None
    my_task = None
    if current is not None:
        my_task = next((t for t in current.tasks.all() if t.assignee_id == user.pk and t.status == TaskStatus.OPEN),
                       None)
    decided = current is not None and any(
        t.status in (TaskStatus.APPROVED, TaskStatus.REJECTED, TaskStatus.RETURNED) for t in current.tasks.all())
    rounds = [{"approval": a, "steps": _step_rows(a), "flow": a.flow_version.flow.name(),
               "comments": list(a.comments.all())} for a in approvals]
    return_targets = []
    my_step = None
    if my_task is not None:
        my_step = next(s for s in current.steps.all() if s.pk == my_task.step_id)
        return_targets = [s for s in current.steps.all() if s.index < my_step.index and s.status == StepStatus.DONE]
    return {
        "contract": contract, "request": request, "csrf_token": context.get("csrf_token"),
        "rounds": rounds, "current": current, "current_round": rounds[0] if current is not None else None,
        "earlier": rounds[1:] if current is not None else rounds,
        "my_task": my_task, "my_step": my_step, "return_targets": return_targets,
        "checklist_items": checklist.ITEMS, "checklist_marks": checklist.MARKS,
        "people": _eligible_people(user, contract, current, my_task) if my_task is not None else [],
        "can_withdraw": current is not None and not decided and policies.can_withdraw(user, contract, current),
        "can_urge": current is not None and policies.can_urge(user, contract, current),
        "can_comment": bool(approvals) and policies.can_comment(user, contract, approvals[0]),
        "can_reopen": policies.can_reopen(user, contract),
        "decision_error": context.get("decision_error", ""),
        # After a refused decision, what the approver entered is shown again (the checklist, the comment).
        "checklist_form": _checklist_form(context.get("decision_post")),
        "decision_comment": (context.get("decision_post") or {}).get("comment", ""),
    }


def _checklist_form(post) -> list[dict]:
    post = post or {}
    return [{"key": key, "label": label, "mark": post.get(f"check-{key}", ""), "note": post.get(f"note-{key}", "")}
            for key, label in checklist.ITEMS]


@register.inclusion_tag("workflow/_prereview_panel.html", takes_context=True)
def prereview_panel(context, contract):
    run = selectors.latest_prereview(contract=contract)
    chinese = _chinese()
    findings = []
    for finding in run.findings if run else []:
        findings.append({**finding, "label": finding["label_zh"] if chinese else finding["label_en"]})
    # Problems first (most severe first), then the clauses found.
    order = {"high": 0, "medium": 1, "low": 2, "info": 3}
    findings.sort(key=lambda f: (order.get(f["severity"], 9), f["label"]))
    return {"contract": contract, "run": run, "findings": findings,
            "problems": sum(1 for f in findings if f["severity"] != "info"),
            "can_run": policies.can_run_prereview(context["request"].user, contract)}


@register.inclusion_tag("workflow/_tasks_panel.html", takes_context=True)
def approval_tasks_panel(context, limit: int = 5):
    """The dashboard's "waiting for my approval": the user's oldest open tasks and their count."""
    user = context["request"].user
    tasks = list(selectors.inbox(user=user)[:limit])
    count = context.get("approval_inbox")
    if count is None:
        count = selectors.inbox_count(user=user)
    return {"tasks": tasks, "count": count, "more": max(0, count - len(tasks))}
