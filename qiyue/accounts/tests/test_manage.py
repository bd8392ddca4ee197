"""Administration in the app: users and teams, admins only, every change audited, clear errors that
change nothing, no lost update, and no way for the last administrator to lock everyone out."""

import re

import pytest
from django.contrib.auth.backends import ModelBackend
from django.urls import reverse

from qiyue.accounts import services
from qiyue.accounts.models import Team, User
from qiyue.audit.models import AuditEvent
from qiyue.core.errors import ApplicationError

pytestmark = pytest.mark.django_db
STRONG = "Zhang-San-2026-Secure"


def _seen(user):
    return services.fingerprint(user, services.EDITABLE_USER_FIELDS)


def _edit(client, user, **changes):
    data = {"display_name": user.display_name, "email": user.email, "role": user.role,
            "team": user.team_id or "", "seen": _seen(user)}
    if user.is_active:
        data["is_active"] = "on"
    data.update(changes)
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(reverse("manage:user", args=[user.pk]), data)


@pytest.fixture
def admin_client(client, users):
    client.force_login(users["admin"])
    return client


def test_only_admins_get_in(client, users):
    for role in ("manager", "sales", "legal", "finance", "auditor"):
        client.force_login(users[role])
        assert client.get(reverse("manage:index")).status_code == 403, role
    client.force_login(users["admin"])
    html = client.get(reverse("manage:index")).content.decode()
    assert 'data-testid="manage-users"' in html and 'href="/manage/"' in html  # the navigation leads here


def test_create_a_user_with_a_password(admin_client, users, team_a):
    response = admin_client.post(reverse("manage:user_create"), {
        "username": "zhangsan", "display_name": "张三", "email": "zs@example.com", "role": "sales",
        "team": team_a.pk, "password": STRONG, "password2": STRONG})
    user = User.objects.get(username="zhangsan")
    assert response.status_code == 302 and response["Location"] == reverse("manage:user", args=[user.pk])
    assert (user.role, user.team, user.display_name) == ("sales", team_a, "张三")
    assert user.check_password(STRONG)
    event = AuditEvent.objects.get(action="user.created", target_id=str(user.pk))
    assert event.actor_id == users["admin"].pk and event.changes["role"] == [None, "sales"]


def test_create_without_a_password_shows_a_temporary_one_once(admin_client):
    response = admin_client.post(reverse("manage:user_create"), {"username": "lisi", "role": "legal"})
    assert response.status_code == 200
    password = re.search(r'data-testid="temporary-password">([^<]+)<', response.content.decode()).group(1)
    assert User.objects.get(username="lisi").check_password(password)
    assert password not in str(AuditEvent.objects.filter(action="user.created").values_list("changes", flat=True))
    assert "Set-Cookie" not in str(response.cookies) or password not in str(response.cookies)


@pytest.mark.parametrize(("data", "field"), [
    ({"username": "", "role": "sales"}, "username"),
    ({"username": "sales_a", "role": "sales"}, "username"),  # taken
    ({"username": "x" * 151, "role": "sales"}, "username"),
    ({"username": "bad name!", "role": "sales"}, "username"),
    ({"username": "wangwu", "role": "emperor"}, "role"),
    ({"username": "wangwu", "role": "sales", "team": "999999"}, "team"),
    ({"username": "wangwu", "role": "sales", "team": "abc"}, "team"),
    ({"username": "wangwu", "role": "sales", "email": "not-an-email"}, "email"),
    ({"username": "wangwu", "role": "sales", "display_name": "名" * 101}, "display_name"),
    ({"username": "wangwu", "role": "sales", "password": "123", "password2": "123"}, "password"),
    ({"username": "wangwu", "role": "sales", "password": STRONG, "password2": STRONG + "x"}, "password2"),
])
def test_bad_new_users_are_refused_with_the_field_and_reason(admin_client, users, data, field):
    before, events = User.objects.count(), AuditEvent.objects.filter(action="user.created").count()
    response = admin_client.post(reverse("manage:user_create"), data)
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in response.content.decode()
    assert User.objects.count() == before and AuditEvent.objects.filter(action="user.created").count() == events


def test_edit_role_team_and_deactivate(admin_client, users, team_b):
    sales = users["sales"]
    assert _edit(admin_client, sales, role="manager", team=team_b.pk).status_code == 302
    sales.refresh_from_db()
    assert (sales.role, sales.team) == ("manager", team_b)
    event = AuditEvent.objects.filter(action="user.updated", target_id=str(sales.pk)).latest("seq")
    assert event.changes["role"] == ["sales", "manager"]
    assert _edit(admin_client, sales, is_active=None).status_code == 302
    sales.refresh_from_db()
    assert not sales.is_active
    assert not ModelBackend().user_can_authenticate(sales)  # deactivated: no sign-in


def test_an_edit_made_meanwhile_is_never_overwritten(admin_client, users):
    sales = users["sales"]
    stale = _seen(sales)
    User.objects.filter(pk=sales.pk).update(display_name="别人改的")  # another admin, meanwhile
    response = _edit(admin_client, sales, display_name="我改的", seen=stale)
    assert response.status_code == 409 and 'data-testid="stale-error"' in response.content.decode()
    assert "别人改的" in response.content.decode()  # the form now shows what is there
    assert User.objects.get(pk=sales.pk).display_name == "别人改的"


def test_no_lock_out(admin_client, users):
    admin = users["admin"]
    response = _edit(admin_client, admin, role="sales")
    assert response.status_code == 400 and "your own administration" in response.content.decode()
    response = _edit(admin_client, admin, is_active=None)
    assert response.status_code == 400
    admin.refresh_from_db()
    assert admin.role == "admin" and admin.is_active
    # With a second administrator, the first may be demoted by the second, never the last one.
    other = services.user_create(actor=admin, username="admin2", role="admin", password=STRONG)
    admin_client.force_login(other)
    assert _edit(admin_client, admin, role="legal").status_code == 302
    admin_client.force_login(admin)  # now legal: no way in
    assert admin_client.get(reverse("manage:index")).status_code == 403


def test_the_last_active_administrator_stays(users):
    admin = users["admin"]
    other = services.user_create(actor=admin, username="admin2", role="admin", password=STRONG)
    User.objects.filter(pk=admin.pk).update(is_active=False)
    with pytest.raises(ApplicationError) as refused:
        services.user_update(actor=other, user=other, data={"role": "legal"}, seen=_seen(other))
    assert "your own administration" in refused.value.fields["role"][0]
    third = services.user_create(actor=admin, username="admin3", role="admin", password=STRONG)
    User.objects.filter(pk=third.pk).update(is_active=False)
    with pytest.raises(ApplicationError) as refused:  # `other` is the only active one left
        services.user_update(actor=admin, user=other, data={"role": "legal"}, seen=_seen(other))
    assert "last active administrator" in refused.value.fields["role"][0]
    assert User.objects.get(pk=other.pk).role == "admin"


def test_reset_password(admin_client, users):
    from qiyue.accounts.tests.factories import PASSWORD

    legal = users["legal"]
    response = admin_client.post(reverse("manage:user_password", args=[legal.pk]))
    password = re.search(r'data-testid="temporary-password">([^<]+)<', response.content.decode()).group(1)
    legal.refresh_from_db()
    assert legal.check_password(password) and not legal.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action="user.password_set", target_id=str(legal.pk)).exists()
    assert admin_client.get(reverse("manage:user_password", args=[legal.pk])).status_code == 405


def test_teams(admin_client, users, team_a):
    response = admin_client.post(reverse("manage:teams"), {"name": "华南销售部"})
    assert response.status_code == 302 and Team.objects.filter(name="华南销售部").exists()
    for bad in ("", "华南销售部", "   ", "名" * 101):
        response = admin_client.post(reverse("manage:teams"), {"name": bad})
        assert response.status_code == 400 and 'data-testid="error-name"' in response.content.decode(), bad
    page = admin_client.get(reverse("manage:team", args=[team_a.pk])).content.decode()
    assert users["manager"].username in page and users["sales"].username in page
    seen = services.fingerprint(team_a, ("name",))
    assert admin_client.post(reverse("manage:team", args=[team_a.pk]), {"name": "华东一部", "seen": seen}).status_code == 302
    team_a.refresh_from_db()
    assert team_a.name == "华东一部"
    assert AuditEvent.objects.filter(action="team.updated", target_id=str(team_a.pk)).exists()
    stale = admin_client.post(reverse("manage:team", args=[team_a.pk]), {"name": "华东二部", "seen": seen})
    assert stale.status_code == 400 and Team.objects.get(pk=team_a.pk).name == "华东一部"
    assert "Someone else changed this meanwhile" in stale.content.decode()


def test_user_list_filters_and_hostile_input(admin_client, users):
    html = admin_client.get(reverse("manage:users"), {"role": "legal"}).content.decode()
    assert html.count('data-testid="user-row"') == User.objects.filter(role="legal").count()
    for params in ({"q": "x" * 5000}, {"role": "<script>"}, {"team": "9" * 40}, {"active": "maybe"},
                   {"page": "-1"}):
        assert admin_client.get(reverse("manage:users"), params).status_code == 200, params
    assert admin_client.get(reverse("manage:user", args=[999_999])).status_code == 404


def test_pages_in_chinese(admin_client, users, settings):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for url in (reverse("manage:index"), reverse("manage:users"), reverse("manage:teams"),
                reverse("manage:user", args=[users["sales"].pk]), reverse("manage:user_create")):
        html = admin_client.get(url).content.decode()
        assert "系统管理" in html, url
