"""Who may do what with users and teams."""

from django.conf import settings

from qiyue.core.policies import has_role, is_active_user, is_admin
from qiyue.core.roles import EDITOR_ROLES, SEE_ALL_ROLES

# Roles that can own customers and contracts.
OWNER_ROLES = EDITOR_ROLES


def can_manage_users(user) -> bool:
    return is_admin(user)


def can_assign_anyone(user) -> bool:
    """Make anyone owner of a record, in any team (else: themselves or their team's members)."""
    return is_admin(user)


def sees_every_team(user) -> bool:
    """Owner and team filters offer every person and team (else the user's own team)."""
    return has_role(user, SEE_ALL_ROLES)


def requires_two_factor(user) -> bool:
    """The user's role must sign in with a second factor (QIYUE_2FA_REQUIRED_ROLES)."""
    return has_role(user, settings.QIYUE_2FA_REQUIRED_ROLES)


def can_reset_two_factor(user) -> bool:
    """Remove another user's two-factor devices (a lost phone, no recovery codes left)."""
    return is_admin(user)


def can_set_delegation(actor, user) -> bool:
    """Set or end who decides for `user` while away: the user themselves, or an administrator."""
    return is_active_user(actor) and (is_admin(actor) or getattr(actor, "pk", None) == user.pk)
