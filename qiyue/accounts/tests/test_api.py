"""Users API (read-only directory) and the two ways to authenticate: token and session + CSRF."""

import pytest
from rest_framework.test import APIClient

from qiyue.accounts.models import User
from qiyue.accounts.services import token_issue
from qiyue.audit.models import AuditEvent
from qiyue.customers.models import Customer

URL = "/api/v1/users/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_users_directory(users):
    body = client_for(users["sales"]).get(URL).json()
    assert body["count"] == len(users)
    row = next(r for r in body["results"] if r["id"] == users["manager"].pk)
    assert row["username"] == "manager_a" and row["role"] == "manager" and row["role_display"]
    assert (row["team"], row["team_name"]) == (users["manager"].team_id, "East")
    assert not {"password", "email", "is_superuser"} & set(row)
    legal = client_for(users["sales"]).get(f"{URL}{users['legal'].pk}/").json()
    assert legal["team"] is None and legal["team_name"] is None


def test_users_filter(users):
    client = client_for(users["auditor"])
    assert client.get(URL, {"role": "sales"}).json()["count"] == 3
    assert client.get(URL, {"team": users["sales_b"].team_id}).json()["count"] == 2


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_users_are_read_only(users, method):
    client = client_for(users["admin"])
    url = URL if method == "post" else f"{URL}{users['sales'].pk}/"
    response = getattr(client, method)(url, {"username": "x", "role": "admin"}, format="json")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert User.objects.get(pk=users["sales"].pk).role == "sales"


def test_token_authentication(users):
    token = token_issue(actor=users["admin"], user=users["sales"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(URL).status_code == 200
    created = client.post("/api/v1/customers/", {"name": "令牌客户"}, format="json")
    assert created.status_code == 201
    assert Customer.objects.get(pk=created.json()["id"]).owner == users["sales"]
    assert AuditEvent.objects.filter(action="customer.created", actor_id=users["sales"].pk).count() == 1


def test_bad_or_missing_token_is_401(users):
    client = APIClient()
    missing = client.get(URL)
    assert missing.status_code == 401 and missing.json()["code"] == "not_authenticated"
    assert missing["WWW-Authenticate"] == "Token"
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    bad = client.get(URL)
    assert bad.status_code == 401 and bad.json()["code"] == "not_authenticated"


def test_inactive_user_token_is_refused(users):
    token = token_issue(actor=users["admin"], user=users["sales2"])
    User.objects.filter(pk=users["sales2"].pk).update(is_active=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(URL).status_code == 401


def test_session_authentication_requires_csrf(users):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users["sales"])
    assert client.get(URL).status_code == 200

    refused = client.post("/api/v1/customers/", {"name": "会话客户"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert not Customer.objects.exists()

    secret = "a" * 32
    client.cookies["csrftoken"] = secret
    accepted = client.post("/api/v1/customers/", {"name": "会话客户"}, format="json", HTTP_X_CSRFTOKEN=secret)
    assert accepted.status_code == 201
    assert Customer.objects.count() == 1
