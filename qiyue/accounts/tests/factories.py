"""Test data builders for users and teams: real rows through the real services."""

import itertools

from qiyue.accounts.models import Team, User
from qiyue.accounts.services import user_create

_counter = itertools.count(1)
PASSWORD = "Qiyue-test-pass-2026"


def make_team(name: str | None = None) -> Team:
    return Team.objects.get_or_create(name=name or f"Team {next(_counter)}")[0]


def make_user(role: str = "sales", team: Team | None = None, username: str | None = None) -> User:
    return user_create(actor=None, username=username or f"{role}{next(_counter)}", role=role, team=team,
                       password=PASSWORD, display_name=(username or role).title())


def make_role_users(team_a: Team, team_b: Team) -> dict[str, User]:
    """One user per role; sales and a manager in team A (sales twice), a sales user and a manager in team B."""
    return {
        "admin": make_user("admin", username="admin1"),
        "manager": make_user("manager", team_a, username="manager_a"),
        "sales": make_user("sales", team_a, username="sales_a"),
        "sales2": make_user("sales", team_a, username="sales_a2"),
        "sales_b": make_user("sales", team_b, username="sales_b"),
        "manager_b": make_user("manager", team_b, username="manager_b"),
        "legal": make_user("legal", username="legal1"),
        "finance": make_user("finance", username="finance1"),
        "auditor": make_user("auditor", username="auditor1"),
    }
