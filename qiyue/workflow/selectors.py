from django.db.models import Prefetch, QuerySet

from .models import (
    Approval,
    ApprovalComment,
    ApprovalFlow,
    ApprovalStatus,
    ApprovalTask,
    PreReviewRule,
    PreReviewRun,
    TaskStatus,
)


def prereview_rules(*, active_only: bool = True) -> QuerySet:
    rows = PreReviewRule.objects.order_by("position", "key")
    return rows.filter(active=True) if active_only else rows


def latest_prereview(*, contract) -> PreReviewRun | None:
    return PreReviewRun.objects.filter(contract=contract).order_by("-ran_at", "-pk").first()


def approvals_of(*, contract) -> QuerySet:
    """A contract's approvals, newest first, each with its steps, tasks and comments (a few queries)."""
    tasks = ApprovalTask.objects.select_related("assignee", "on_behalf_of", "added_by", "transferred_from").order_by(
        "round", "id")
    return (Approval.objects.filter(contract=contract).select_related("flow_version__flow", "submitted_by", "prereview",
                                                                      "amendment")
            .prefetch_related("steps", Prefetch("tasks", queryset=tasks),
                              Prefetch("comments", queryset=ApprovalComment.objects.select_related(
                                  "author", "document"))).order_by("-submitted_at", "-id"))


def running_approval(*, contract) -> Approval | None:
    return Approval.objects.filter(contract=contract, status=ApprovalStatus.RUNNING).first()


def inbox(*, user) -> QuerySet:
    """The user's open approval tasks, longest waiting first (the partial index approval_task_inbox)."""
    return (ApprovalTask.objects.filter(assignee_id=user.pk, status=TaskStatus.OPEN)
            .select_related("contract", "contract__customer", "step", "approval", "approval__submitted_by",
                            "on_behalf_of")
            .order_by("opened_at", "id"))


def decided(*, user) -> QuerySet:
    """Tasks the user decided or handed on, newest first."""
    return (ApprovalTask.objects.filter(assignee_id=user.pk, decided_at__isnull=False)
            .exclude(status=TaskStatus.CANCELLED)
            .select_related("contract", "contract__customer", "step", "approval", "approval__submitted_by",
                            "on_behalf_of")
            .order_by("-decided_at", "-id"))


INBOX_CAP = 99


def inbox_count(*, user) -> int:
    """Open tasks, counted up to INBOX_CAP + 1 (the navigation bar shows "99+")."""
    if not getattr(user, "pk", None):
        return 0
    # No ordering: the model's (by step, through a join) would sort every open task before counting.
    return ApprovalTask.objects.filter(assignee_id=user.pk, status=TaskStatus.OPEN).order_by()[:INBOX_CAP + 1].count()


def flows() -> QuerySet:
    return ApprovalFlow.objects.select_related("current").order_by("-is_default", "position", "id")
