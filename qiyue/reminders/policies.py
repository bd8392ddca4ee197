"""Who may do what with reminders: administrators manage the rules and the contract types' automatic
status; every signed-in user has their own calendar and feed; those who see more than their own
contracts (managers, and the roles that see everything) may look at another owner's or team's dates."""

from qiyue.core.permissions import Scope
from qiyue.core.policies import is_admin
from qiyue.core.roles import Role


def can_manage_rules(user) -> bool:
    return is_admin(user)


def can_look_at_others(user) -> bool:
    """May pick another owner or a team in the calendar (within what they see anyway)."""
    scope = Scope.of(user)
    return scope.sees_all or (not scope.sees_nothing and user.role == Role.MANAGER)
