import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from qiyue.accounts.models import Team, User
from qiyue.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_createuser_with_team_and_password_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Correct-Horse-Battery-9\n"))
    out = io.StringIO()
    call_command("createuser", "zhangsan", "--role", "sales", "--team", "华东销售部", "--password-stdin", stdout=out)
    user = User.objects.get(username="zhangsan")
    assert user.role == "sales" and user.team == Team.objects.get(name="华东销售部")
    assert user.check_password("Correct-Horse-Battery-9")
    assert not user.is_staff
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"team.created", "user.created"}


def test_createuser_refuses_weak_password_and_saves_nothing(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("123\n"))
    with pytest.raises(CommandError):
        call_command("createuser", "lisi", "--role", "legal", "--password-stdin")
    assert not User.objects.filter(username="lisi").exists()


def test_createuser_refuses_unknown_role():
    with pytest.raises(CommandError):
        call_command("createuser", "wangwu", "--role", "boss")


def test_admin_role_gets_admin_site_access():
    call_command("createuser", "root2", "--role", "admin", stdout=io.StringIO())
    user = User.objects.get(username="root2")
    assert user.is_staff and user.is_superuser and not user.has_usable_password()


def test_token_prints_a_working_key(client):
    call_command("createuser", "api", "--role", "finance", stdout=io.StringIO())
    out = io.StringIO()
    call_command("token", "api", stdout=out)
    key = out.getvalue().strip()
    assert Token.objects.get(user__username="api").key == key
    again = io.StringIO()
    call_command("token", "api", stdout=again)
    assert again.getvalue().strip() == key
    response = client.get("/api/v1/contracts/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200


def test_token_for_unknown_user():
    with pytest.raises(CommandError):
        call_command("token", "nobody")


def test_console_script_runs_django_commands(tmp_path):
    """`qiyue` is the operator's entry point; it wraps Django's commands."""
    env = {**os.environ, "QIYUE_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    script = os.path.join(os.path.dirname(sys.executable), "qiyue")
    result = subprocess.run([script, "help"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("serve", "demo", "createuser", "token", "audit", "migrate", "check"):
        assert command in result.stdout


def test_setpassword_is_audited(monkeypatch, users):
    monkeypatch.setattr(sys, "stdin", io.StringIO("Another-Long-Passphrase-7\n"))
    call_command("setpassword", "sales_a", stdout=io.StringIO())
    users["sales"].refresh_from_db()
    assert users["sales"].check_password("Another-Long-Passphrase-7")
    assert AuditEvent.objects.order_by("-seq").first().action == "user.password_set"
