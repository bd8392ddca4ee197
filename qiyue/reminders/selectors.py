"""Reads of the reminders app: a user's dates within what they may see (the calendar page, the feed,
the dashboard's "due soon" panel, the API), the rules, the feed."""

import datetime
from dataclasses import dataclass

from django.db.models import Q

from qiyue.core.permissions import Scope

from . import dates
from .models import CalendarFeed, ReminderRule, Subject
from .texts import summaries, summary

THROUGH_CONTRACT = (Subject.OBLIGATION_DUE, Subject.APPROVAL_WAITING)


@dataclass(frozen=True)
class Whose:
    """Whose dates: `mine` (the user's own), else one owner's, one team's, or (all empty) everything
    the user may see."""

    mine: bool = True
    owner_id: int | None = None
    team_id: int | None = None


MINE = Whose()


def _q(user, subject: str, whose: Whose) -> Q | None:
    scope = Scope.of(user)
    if scope.sees_nothing:
        return Q(pk__in=[])
    via = "contract__" if subject in THROUGH_CONTRACT else ""
    q = None if scope.sees_all else scope.q(via)
    owner = user.pk if whose.mine else whose.owner_id
    if owner is not None:
        if subject == Subject.OBLIGATION_DUE:  # the obligation's own owner, else its contract's
            mine = Q(owner_id=owner) | Q(owner_id__isnull=True, contract__owner_id=owner)
        else:
            mine = Q(**{f"{via}owner_id": owner})
        q = mine if q is None else q & mine
    if whose.team_id is not None and not whose.mine:
        team = Q(**{f"{via}team_id": whose.team_id})
        q = team if q is None else q & team
    return q


def user_dates(user, start: datetime.date, end: datetime.date, *, whose: Whose = MINE,
               subjects=dates.CALENDAR_SUBJECTS, limit: int | None = None) -> list[dates.DateEntry]:
    """The dates in [start, end] of `subjects` that `user` may see (and `whose` picks), by date."""
    entries = []
    for subject in subjects:
        entries += dates.SOURCES[subject](start, end, scope=_q(user, subject, whose), limit=limit)
    entries.sort(key=lambda e: (e.date, e.subject, e.number, e.object_id))
    return entries[:limit] if limit else entries


class BadFilter(Exception):
    """A calendar filter the user may not pick (another team's owner or team, or nonsense)."""


def choices(user) -> tuple[list, list]:
    """The owners and teams `user` may pick in the calendar: none for sales; a manager's own team and
    its members; every team and active user for the roles that see everything."""
    from django.contrib.auth import get_user_model

    from qiyue.accounts.models import Team

    from .policies import can_look_at_others

    if not can_look_at_others(user):
        return [], []
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    teams = Team.objects.order_by("name")
    if not Scope.of(user).sees_all:
        users = users.filter(team_id=user.team_id) if user.team_id else users.filter(pk=user.pk)
        teams = teams.filter(pk=user.team_id)
    return list(users.only("id", "username", "display_name")), list(teams)


def whose(kind: str, owner: int | None, team: int | None, owners: list, teams: list) -> Whose:
    """Whose dates a calendar asks for: "mine", "all" (everything the user may see), "owner" (with
    `owner`) or "team" (with `team`), an owner or team among those `choices` offered; else BadFilter."""
    if kind == "mine":
        return MINE
    if kind == "all":
        return Whose(mine=False)
    if kind == "owner" and owner in {u.pk for u in owners}:
        return Whose(mine=False, owner_id=owner)
    if kind == "team" and team in {t.pk for t in teams}:
        return Whose(mine=False, team_id=team)
    raise BadFilter(kind)


def decorate(entries: list[dates.DateEntry]) -> list[dates.DateEntry]:
    """Give each entry its `text` in the active language."""
    texts = summaries()
    for entry in entries:
        entry.text = summary(entry, texts)
    return entries


def rules():
    return ReminderRule.objects.prefetch_related("to_users").order_by("position", "pk")


def feed_of(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user_id=user.pk).first()
