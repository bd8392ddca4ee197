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
