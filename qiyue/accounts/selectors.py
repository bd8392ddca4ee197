from django.db.models import QuerySet

from qiyue.core.roles import Role

from .models import User


def user_list(*, user) -> QuerySet:
    """Every authenticated user may see the directory of colleagues (names, roles, teams)."""
    if not user.is_authenticated:
        return User.objects.none()
    return User.objects.select_related("team").order_by("username")


def assignable_owners(*, user) -> QuerySet:
    """Users `user` may make owner of a customer or contract."""
    qs = User.objects.filter(is_active=True, role__in=[Role.ADMIN, Role.MANAGER, Role.SALES]).select_related("team")
    if user.role == Role.ADMIN:
        return qs
    if user.team_id:
        return qs.filter(team_id=user.team_id)
    return qs.filter(pk=user.pk)
