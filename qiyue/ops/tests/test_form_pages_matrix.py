"""Authorization matrix of the plain form pages (ServiceFormView): contacts, communications, paper
originals and retention policies, for every role and anonymous. The customer and contract belong to
sales_a (team East): editors who see them may write (302), readers who see them are refused (403),
the other team does not find them (404)."""

import pytest
from django.urls import reverse

from qiyue.accounts.tests.factories import PASSWORD
from qiyue.contracts.models import RetentionPolicy
from qiyue.contracts.tests.factories import make_contract
from qiyue.customers.services import contact_create
from qiyue.documents.models import PaperOriginal

pytestmark = pytest.mark.django_db

ROLES = ("admin", "manager", "sales", "sales2", "sales_b", "manager_b", "legal", "finance", "auditor")
EDIT = {"admin": 302, "manager": 302, "sales": 302, "sales2": 302, "sales_b": 404, "manager_b": 404,
        "legal": 403, "finance": 403, "auditor": 403}
PAGE = {**EDIT, **{role: 200 for role, status in EDIT.items() if status == 302}}
RETENTION_GET = {role: 200 if role == "admin" else 403 for role in ROLES}
RETENTION_POST = {role: 302 if role == "admin" else 403 for role in ROLES}


@pytest.fixture
def records(users):
    contract = make_contract(users["sales"])
    contact = contact_create(actor=users["sales"], customer=contract.customer, data={"name": "王经理"})
    return contract, contact


def _requests(contract, contact):
    customer = contract.customer
    policy = RetentionPolicy.objects.order_by("pk").first()
    return {
        "contact_create": ("post", reverse("customers:contact_create", args=[customer.pk]),
                           {"contact-name": "李四"}, EDIT),
        "contact_update_page": ("get", reverse("customers:contact_update", args=[customer.pk, contact.pk]), None,
                                PAGE),
        "contact_update": ("post", reverse("customers:contact_update", args=[customer.pk, contact.pk]),
                           {"contact-name": "王总"}, EDIT),
        "communication_create": ("post", reverse("customers:communication_create", args=[customer.pk]),
                                 {"comm-occurred_on": "2026-03-01", "comm-channel": "phone", "comm-summary": "回访"},
                                 EDIT),
        "paper_create": ("post", reverse("documents:paper_create", args=[contract.pk]),
                         {"paper-room": "档案室", "paper-copies": "1"}, EDIT),
        "retention_page": ("get", reverse("archive:policies"), None, RETENTION_GET),
        "retention_update": ("post", reverse("archive:policies"),
                             {"policy": policy.pk, f"p{policy.pk}-retention_years": "12",
                              f"p{policy.pk}-description": "按制度"}, RETENTION_POST),
    }


@pytest.mark.parametrize("role", ROLES)
def test_form_pages_matrix(client, users, records, role):
    client.force_login(users[role])
    got, expected = {}, {}
    for name, (method, url, data, table) in _requests(*records).items():
        response = getattr(client, method)(url, data or {})
        got[name], expected[name] = response.status_code, table[role]
    assert got == expected


def test_anonymous_is_sent_to_log_in_and_post_only_actions_refuse_get(client, users, records):
    for _name, (method, url, data, _table) in _requests(*records).items():
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    client.force_login(users["sales"])
    contract, _contact = records
    for url in (reverse("customers:contact_create", args=[contract.customer_id]),
                reverse("customers:communication_create", args=[contract.customer_id]),
                reverse("documents:paper_create", args=[contract.pk])):
        assert client.get(url).status_code == 405, url


def test_hostile_input_answers_400_and_changes_nothing(client, users, records):
    contract, contact = records
    client.force_login(users["sales"])
    too_long = "长" * 5000
    response = client.post(reverse("customers:contact_update", args=[contract.customer_id, contact.pk]),
                           {"contact-name": too_long})
    assert response.status_code == 400
    contact.refresh_from_db()
    assert contact.name == "王经理"
    response = client.post(reverse("documents:paper_create", args=[contract.pk]), {"paper-copies": "many"})
    assert response.status_code == 302 and not PaperOriginal.objects.exists()  # error shown as a message
    client.force_login(users["admin"])
    policy = RetentionPolicy.objects.order_by("pk").first()
    for bad in ({"policy": "x"}, {"policy": 10**30}, {"policy": policy.pk, f"p{policy.pk}-retention_years": "-3"}):
        status = client.post(reverse("archive:policies"), bad).status_code
        assert status in (400, 404), bad
    policy.refresh_from_db()
    assert policy.retention_years != -3


# The user's own two-factor pages (qiyue/accounts): nothing in the URL names a record or another user, so
# every role reaches its own; with two-factor off, the actions that need it answer 409 (two_factor_off).
# When the role requires two-factor sign-in (QIYUE_2FA_REQUIRED_ROLES), everything but the setup page
# sends the user to it.
TWO_FACTOR = {
    "two_factor_page": ("get", "two_factor", None, 200, 302),
    "two_factor_setup_page": ("get", "two_factor_setup", None, 200, 200),
    "two_factor_setup_confirm": ("post", "two_factor_setup", {"code": "abc"}, 400, 400),
    "two_factor_codes": ("get", "two_factor_codes", None, 302, 302),
    "two_factor_regenerate": ("post", "two_factor_regenerate", {"regen-password": PASSWORD}, 409, 302),
    "two_factor_disable": ("post", "two_factor_disable", {"off-password": PASSWORD, "off-code": "123456"}, 409, 302),
    "login_verify": ("get", "login_verify", None, 302, 302),
    "dashboard": ("get", "dashboard", None, 200, 302),
}


@pytest.mark.parametrize("required", [False, True])
@pytest.mark.parametrize("role", ROLES)
def test_two_factor_pages_matrix(client, users, settings, role, required):
    if required:
        settings.QIYUE_2FA_REQUIRED_ROLES = [users[role].role]
    client.force_login(users[role])
    got, expected = {}, {}
    for name, (method, url_name, data, when_optional, when_required) in TWO_FACTOR.items():
        response = getattr(client, method)(reverse(url_name), data or {})
        got[name], expected[name] = response.status_code, when_required if required else when_optional
        if required and response.status_code == 302 and url_name not in ("two_factor_codes", "login_verify"):
            assert response["Location"] == reverse("two_factor_setup"), name
    assert got == expected


def test_two_factor_pages_send_anonymous_visitors_to_log_in(client, users):
    for name, (method, url_name, data, _optional, _required) in TWO_FACTOR.items():
        response = getattr(client, method)(reverse(url_name), data or {})
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    client.force_login(users["sales"])
    for url_name in ("two_factor_regenerate", "two_factor_disable"):
        assert client.get(reverse(url_name)).status_code == 405, url_name
