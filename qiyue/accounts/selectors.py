from django.db.models import Q, QuerySet

from .models import Team, User
from .policies import OWNER_ROLES, can_assign_anyone, sees_every_team


def user_list(*, user) -> QuerySet:
    """Every authenticated user may see the directory of colleagues (names, roles, teams)."""
    if not user.is_authenticated:
        return User.objects.none()
    return User.objects.select_related("team").order_by("username")


def assignable_owners(*, user) -> QuerySet:
    """Users `user` may make owner of a customer or contract."""
    qs = User.objects.filter(is_active=True, role__in=OWNER_ROLES).select_related("team")
    if can_assign_anyone(user):
        return qs
    if user.team_id:
        return qs.filter(team_id=user.team_id)
    return qs.filter(pk=user.pk)


def filter_owners(*, user) -> QuerySet:
    """The owners offered by a list's owner filter: people who can own records, within what `user`
    sees (everyone for roles that see everything, else their own team and themselves). Former
    colleagues stay: their records are still theirs until reassigned."""
    qs = User.objects.filter(role__in=OWNER_ROLES)
    if not sees_every_team(user):
        qs = qs.filter(Q(team_id=user.team_id) | Q(pk=user.pk)) if user.team_id else qs.filter(pk=user.pk)
    return qs.only("id", "username", "first_name", "last_name", "display_name").order_by("-is_active", "username")


def filter_teams(*, user) -> QuerySet:
    """The teams offered by a list's team filter: all of them, or the user's own."""
    if sees_every_team(user):
        return Team.objects.order_by("name")
    return Team.objects.filter(pk=user.team_id).order_by("name")
