"""The security baseline of issue 2, point 12."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from qiyue.accounts.tests.factories import PASSWORD

BASE_DIR = Path(__file__).resolve().parents[3]


def test_argon2_is_the_configured_hasher():
    # conftest swaps in a fast hasher; the real settings module is what production runs.
    import config.settings

    assert config.settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_argon2_hashes_passwords(settings):
    from django.contrib.auth.hashers import make_password

    import config.settings

    settings.PASSWORD_HASHERS = config.settings.PASSWORD_HASHERS
    assert make_password("Qiyue-secret-123").startswith("argon2$")


@pytest.mark.django_db
def test_login_locks_out_after_five_failures(client, users, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    url = reverse("login")
    for _ in range(5):
        response = client.post(url, {"username": "sales_a", "password": "wrong-password"})
        assert "_auth_user_id" not in client.session
    response = client.post(url, {"username": "sales_a", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (403, 429)
    assert "Too many failed login attempts" in response.content.decode()
    # Another user from the same address is not locked out.
    response = client.post(url, {"username": "sales_b", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_successful_login_before_the_limit_resets_the_count(client, users, settings):
    settings.AXES_ENABLED = True
    url = reverse("login")
    for _ in range(4):
        client.post(url, {"username": "sales_a", "password": "wrong-password"})
    assert client.post(url, {"username": "sales_a", "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_csrf_is_enforced_on_login(users):
    client = Client(enforce_csrf_checks=True)
    url = reverse("login")
    assert client.post(url, {"username": "sales_a", "password": PASSWORD}).status_code == 403
    client.get(url)  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(url, {"username": "sales_a", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.mark.django_db
def test_csrf_is_enforced_on_forms(users):
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["sales"])
    assert client.post(reverse("logout")).status_code == 403
    assert client.post(reverse("set_language"), {"language": "en"}).status_code == 403
    assert client.post(reverse("customers:create"), {"name": "无令牌公司"}).status_code == 403
    client.get(reverse("dashboard"))
    token = client.cookies["csrftoken"].value
    assert client.post(reverse("logout"), {"csrfmiddlewaretoken": token}).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["login", "dashboard"])
def test_security_headers(client, users, url_name):
    if url_name != "login":
        client.force_login(users["sales"])
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["style-src"] == ["'self'"]  # no inline styles
    assert directives["base-uri"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_inline_scripts_in_base_template():
    html = (BASE_DIR / "qiyue" / "templates" / "base.html").read_text()
    for line in html.splitlines():
        if "<script" in line:
            assert "src=" in line


# Set by the test run itself (the browser tests allow sync ORM calls inside Playwright's loop);
# a production process must not inherit them.
_NOT_INHERITED = {"DATABASE_URL", "QIYUE_SECRET_KEY", "SECRET_KEY", "QIYUE_DEBUG", "QIYUE_AUDIT_KEY",
                  "QIYUE_SECURE_COOKIES", "QIYUE_SSL_REDIRECT", "QIYUE_HSTS_SECONDS", "DJANGO_SETTINGS_MODULE",
                  "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _production_env(data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update(QIYUE_ENV="production", QIYUE_DATA_DIR=str(data_dir), QIYUE_ALLOWED_HOSTS="contracts.example.com",
               **extra)
    return env


def test_check_deploy_is_clean_in_production(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "qiyue.cli", "check", "--deploy", "--fail-level", "WARNING"],
        # A production names where audit checkpoints go (audit.W001 otherwise).
        env=_production_env(tmp_path, QIYUE_AUDIT_CHECKPOINT_SYSLOG="1"), cwd=BASE_DIR, capture_output=True,
        text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


PRINT_SETTINGS = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from django.conf import settings
print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT,
      settings.SECURE_HSTS_SECONDS > 0)
print(settings.SECRET_KEY)
"""


def test_production_generates_a_private_secret_key_and_turns_debug_off(tmp_path):
    def run():
        return subprocess.run([sys.executable, "-c", PRINT_SETTINGS], env=_production_env(tmp_path),
                              cwd=BASE_DIR, capture_output=True, text=True, timeout=60, check=True).stdout.split("\n")

    flags, key = run()[:2]
    assert flags == "False True True True True"
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key == key_file.read_text().strip() and len(key) >= 50
    assert run()[1] == key  # kept, not regenerated


def test_production_uses_the_given_secret_key(tmp_path):
    result = subprocess.run([sys.executable, "-c", PRINT_SETTINGS],
                            env=_production_env(tmp_path, QIYUE_SECRET_KEY="k" * 60),
                            cwd=BASE_DIR, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split("\n")[1] == "k" * 60
    assert not (tmp_path / "secret_key").exists()


def test_no_inline_styles_in_templates():
    """The CSP allows no inline style: templates use classes (scripts may still size things through
    the DOM)."""
    found = [f"{path.relative_to(BASE_DIR)}" for path in (BASE_DIR / "qiyue" / "templates").rglob("*.html")
             if "style=" in path.read_text() or "<style" in path.read_text()]
    assert not found, found


@pytest.mark.django_db
def test_the_api_docs_page_needs_no_inline_style(client, users):
    client.force_login(users["sales"])
    html = client.get(reverse("api-docs")).content.decode()
    assert "<style" not in html and "css/api-docs" in html


def test_cookies_carry_the_host_prefix_over_https(tmp_path):
    """With secure cookies (production) the session and CSRF cookies are __Host- cookies; without, the
    plain names (a browser drops a __Host- cookie that is not Secure)."""
    import subprocess
    import sys

    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; django.setup(); "
            "from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)")
    for secure, expected in (("1", "__Host-sessionid __Host-csrftoken True True"),
                             ("0", "sessionid csrftoken False False")):
        env = {"PATH": "/usr/bin:/bin", "QIYUE_DATA_DIR": str(tmp_path), "QIYUE_SECURE_COOKIES": secure}
        out = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                             timeout=120)
        assert out.stdout.strip() == expected, out.stderr


@pytest.mark.django_db
def test_guesses_spread_over_addresses_lock_the_account(client, users, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    url = reverse("login")
    for n in range(5):
        client.post(url, {"username": "sales_a", "password": "wrong-password"}, REMOTE_ADDR=f"203.0.113.{n + 1}")
    response = client.post(url, {"username": "sales_a", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert "_auth_user_id" not in client.session and response.status_code in (403, 429)


@pytest.mark.django_db
def test_a_session_ends_after_inactivity_and_after_its_absolute_age(client, users, settings, monkeypatch):
    import time as real_time

    from qiyue.core import middleware

    settings.QIYUE_SESSION_IDLE_SECONDS = 1800
    settings.SESSION_COOKIE_AGE = 8 * 3600
    now = [real_time.time()]
    monkeypatch.setattr(middleware.time, "time", lambda: now[0])
    client.force_login(users["sales"])
    dashboard = reverse("dashboard")
    assert client.get(dashboard).status_code == 200
    # Busy: a request every 20 minutes keeps the session for the whole working day…
    for _ in range(23):
        now[0] += 20 * 60
        assert client.get(dashboard).status_code == 200
    # …but not past its absolute age, however busy.
    now[0] += 20 * 60 + 1
    response = client.get(dashboard)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    # Idle: 31 minutes without a request ends a fresh session.
    client.force_login(users["sales"])
    assert client.get(dashboard).status_code == 200
    now[0] += 31 * 60
    assert client.get(dashboard).status_code == 302
    assert "_auth_user_id" not in client.session
