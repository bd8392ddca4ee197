"""The navigation shows the audit log and the administration only to whom the policies allow."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role,audit,admin", [
    ("admin", True, True), ("auditor", True, False), ("manager", False, False), ("sales", False, False),
    ("legal", False, False), ("finance", False, False),
])
def test_navigation_follows_the_policies(client, users, role, audit, admin):
    client.force_login(users[role])
    html = client.get(reverse("dashboard")).content.decode()
    assert (f'href="{reverse("audit:list")}"' in html) == audit
    assert (f'href="{reverse("manage:index")}"' in html) == admin  # the in-app administration
