import pytest

from qiyue.core.testing import factories


@pytest.fixture(autouse=True)
def _english_errors(settings):
    # Tests assert on codes; keep rendered text predictable where they do read it.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team_a(db):
    return factories.make_team("East")


@pytest.fixture
def team_b(db):
    return factories.make_team("West")


@pytest.fixture
def users(db, team_a, team_b):
    """One user per role; sales and managers in team A, plus a sales user in team B."""
    make = factories.make_user
    return {
        "admin": make("admin", username="admin1"),
        "manager": make("manager", team_a, username="manager_a"),
        "sales": make("sales", team_a, username="sales_a"),
        "sales2": make("sales", team_a, username="sales_a2"),
        "sales_b": make("sales", team_b, username="sales_b"),
        "manager_b": make("manager", team_b, username="manager_b"),
        "legal": make("legal", username="legal1"),
        "finance": make("finance", username="finance1"),
        "auditor": make("auditor", username="auditor1"),
    }
