"""Ids that are no whole number, negative or beyond a 64-bit key answer 404 on record pages and the API."""

import pytest

pytestmark = pytest.mark.django_db
@pytest.mark.parametrize("path", ["customers", "contracts"])
@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999", "-1", "1.5"])
def test_hostile_pk(client, users, path, pk):
    client.force_login(users["legal"])
    assert client.get(f"/api/v1/{path}/{pk}/").status_code == 404
    assert client.get(f"/{path}/{pk}/").status_code == 404
