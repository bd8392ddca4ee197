"""Who approves a step of a contract's approval: the approvers a flow step names (by role, by relation
to the contract, by user), less those who may not approve it, with delegations applied."""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone

from qiyue.accounts.models import Delegation
from qiyue.core.permissions import can_see
from qiyue.core.roles import Role

from .policies import REVIEWERS

User = get_user_model()


@dataclass(frozen=True)
class Assignment:
    """A task to make: `assignee` decides, standing in for `on_behalf_of` when that is set."""

    assignee: object
    on_behalf_of: object | None = None


def _active(queryset):
    return list(queryset.filter(is_active=True).select_related("team", "reports_to").order_by("pk"))


def team_managers(team_id) -> list:
    if team_id is None:
        return []
    return _active(User.objects.filter(role=Role.MANAGER, team_id=team_id))


def superior(user) -> list:
    """Whom `user` reports to; without one named, their team's managers (other than themselves)."""
    if user is None:
        return []
    if user.reports_to_id is not None:
        boss = User.objects.select_related("team", "reports_to").filter(pk=user.reports_to_id, is_active=True).first()
        return [boss] if boss else []
    return [m for m in team_managers(user.team_id) if m.pk != user.pk]


def named(approver: dict, contract) -> list:
    """The users one approver entry of a step names for `contract` (before any exclusion)."""
    kind, value = approver["type"], approver["value"]
    if kind == "role":
        return _active(User.objects.filter(role=value))
    if kind == "user":
        return _active(User.objects.filter(pk=value))
    if value == "team_manager":
        return team_managers(contract.team_id)
    bosses = superior(contract.owner)
    if value == "owner_superior_2":
        seen, result = {contract.owner_id}, []
        for boss in bosses:
            for upper in superior(boss):
                if upper.pk not in seen:
                    seen.add(upper.pk)
                    result.append(upper)
        return result
    return bosses


def may_approve(user, contract, *, excluded: set) -> bool:
    """Whether `user` may hold an approval task of `contract`: an active reviewer who sees it and is
    neither its owner nor its submitter (nobody approves their own contract)."""
    return (user is not None and user.is_active and user.pk not in excluded and user.role in REVIEWERS
            and can_see(user, contract))


def delegate_of(user, *, today: datetime.date | None = None):
    """The delegate standing in for `user` today (the latest delegation covering it), or None."""
    today = today or timezone.localdate()
    row = (Delegation.objects.filter(user=user, starts_on__lte=today, ends_on__gte=today)
           .select_related("delegate", "delegate__team").order_by("-starts_on", "-id").first())
    return row.delegate if row else None


def assign(user, contract, *, excluded: set) -> Assignment:
    """The task for `user`: theirs, or their delegate's on their behalf when one stands in for them
    today and may approve this contract."""
    delegate = delegate_of(user)
    if delegate is not None and delegate.pk != user.pk and may_approve(delegate, contract, excluded=excluded):
        return Assignment(delegate, user)
    return Assignment(user)


def step_assignments(approvers: list[dict], contract, *, excluded: set) -> tuple[list[Assignment], bool]:
    """The tasks to make for a step: everyone its entries name who may approve, each once, with
    delegations applied; when nobody is left, the administrators (as DingTalk and Feishu hand an
    approval with no approver to the administrator). The flag says whether it came to that."""
    users, seen = [], set()
    for approver in approvers:
        for user in named(approver, contract):
            if user.pk not in seen and may_approve(user, contract, excluded=excluded):
                seen.add(user.pk)
                users.append(user)
    fell_back = not users
    if fell_back:
        users = [u for u in _active(User.objects.filter(role=Role.ADMIN))
                 if may_approve(u, contract, excluded=excluded)]
    assignments, assignees = [], set()
    for user in users:
        assignment = assign(user, contract, excluded=excluded)
        if assignment.assignee.pk not in assignees:
            assignees.add(assignment.assignee.pk)
            assignments.append(assignment)
    return assignments, fell_back


def could_approve_anything(approver: dict) -> bool:
    """Whether an approver entry can ever name someone who may approve (checked when a flow is saved):
    a role or user that is active with a reviewing role, a relation when managers exist."""
    kind, value = approver["type"], approver["value"]
    if kind == "role":
        return value in REVIEWERS and User.objects.filter(role=value, is_active=True).exists()
    if kind == "user":
        return User.objects.filter(pk=value, is_active=True, role__in=REVIEWERS).exists()
    if value == "team_manager":
        return User.objects.filter(role=Role.MANAGER, is_active=True, team__isnull=False).exists()
    return (User.objects.filter(reports_to__isnull=False, is_active=True).exists()
            or User.objects.filter(role=Role.MANAGER, is_active=True, team__isnull=False).exists())
