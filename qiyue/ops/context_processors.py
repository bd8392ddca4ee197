"""What every page's navigation may show the user, asked of the apps' policies."""

from django.utils.functional import SimpleLazyObject

from qiyue.accounts.policies import can_manage_users
from qiyue.audit.policies import can_read_audit_log


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    return {"nav_may": SimpleLazyObject(lambda: {
        "read_audit_log": can_read_audit_log(user),
        "manage_users": can_manage_users(user),
    })}
