"""Who may do what in the archive."""

from qiyue.core.policies import has_role
from qiyue.core.roles import Role


def may_see_deleted(user) -> bool:
    """Admins and auditors look into deleted contracts (read-only): deletion stays reviewable."""
    return has_role(user, {Role.ADMIN, Role.AUDITOR})
