from django.db.models import Q, QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

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


def two_factor_device(*, user):
    """The user's confirmed authenticator app (a TOTP device), or None: two-factor sign-in is on for
    the user exactly when there is one."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def two_factor_enabled(*, user) -> bool:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def recovery_codes_left(*, user) -> int:
    return StaticToken.objects.filter(device__user_id=user.pk, device__confirmed=True).count()
