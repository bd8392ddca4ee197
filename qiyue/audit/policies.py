"""Who may read the audit log (timelines on a page follow that page's visibility instead)."""

from qiyue.core.policies import has_role
from qiyue.core.roles import Role


def can_read_audit_log(user) -> bool:
    return has_role(user, {Role.ADMIN, Role.AUDITOR})
