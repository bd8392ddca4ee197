"""Who reads the audit log, who looks into deleted contracts, who manages users (cells written out)."""

import pytest

from qiyue.accounts.policies import can_assign_anyone, can_manage_users, sees_every_team
from qiyue.archive.policies import may_see_deleted
from qiyue.audit.policies import can_read_audit_log
from qiyue.core.actors import SYSTEM

pytestmark = pytest.mark.django_db

ROLES = ("admin", "manager", "sales", "legal", "finance", "auditor", "system")
TABLE = {
    can_read_audit_log: {"admin", "auditor"},
    may_see_deleted: {"admin", "auditor"},
    can_manage_users: {"admin"},
    can_assign_anyone: {"admin"},
    sees_every_team: {"admin", "legal", "finance", "auditor"},
}


@pytest.mark.parametrize("check", list(TABLE), ids=lambda c: c.__name__)
def test_policy_table(users, check):
    actors = {**users, "system": SYSTEM}
    assert {role for role in ROLES if check(actors[role])} == TABLE[check]
    inactive = users["admin"]
    inactive.is_active = False
    assert not check(inactive)
