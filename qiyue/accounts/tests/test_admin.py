import pytest

from qiyue.accounts.models import User
from qiyue.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_admin_changes_to_users_are_audited(client, users):
    client.force_login(users["admin"])
    target = users["sales"]
    url = f"/admin/accounts/user/{target.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {
        "username": target.username, "display_name": "新名字", "first_name": "", "last_name": "", "email": "",
        "role": "manager", "team": target.team_id, "is_active": "on",
    })
    assert response.status_code == 302, response.content[:2000]
    target.refresh_from_db()
    assert target.role == "manager"
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "user.updated" and event.actor_id == users["admin"].pk
    assert event.changes["role"] == ["sales", "manager"]


@pytest.mark.parametrize("role", ["manager", "sales", "legal", "finance", "auditor"])
def test_only_admins_reach_the_admin_site(client, users, role):
    client.force_login(users[role])
    assert client.get("/admin/accounts/user/").status_code == 302  # to the admin login
    assert User.objects.count() == len(users)


def test_admin_password_change_is_audited(client, users):
    client.force_login(users["admin"])
    target = users["sales"]
    response = client.post(f"/admin/accounts/user/{target.pk}/password/", {
        "password1": "A-Brand-New-Passphrase-5", "password2": "A-Brand-New-Passphrase-5", "usable_password": "true"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.check_password("A-Brand-New-Passphrase-5")
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.action, event.target_id, event.actor_id) == ("user.password_set", str(target.pk), users["admin"].pk)
