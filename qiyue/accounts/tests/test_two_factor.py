"""Two-factor sign-in end to end through the real pages, services and database: setup with a code
computed here from the shown secret (django_otp.oath), the second log-in step, single-use codes,
recovery codes, throttling and lockout, roles that require it, admin reset, hostile input."""

import re
import time
from base64 import b32decode
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import TOTP, totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from qiyue.accounts import services
from qiyue.accounts.services import token_issue, two_factor_confirm, two_factor_enrolment_start
from qiyue.accounts.tests.factories import PASSWORD
from qiyue.audit.models import AuditEvent
from qiyue.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    # Most tests type a right code right after a wrong one; throttling has its own test.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def clock(monkeypatch):
    """The clock django-otp's TOTP device checks codes against, moved on by hand (a code is accepted
    once: the next log-in needs the code of a later 30-second step)."""
    now = [time.time()]

    class Clock:
        @staticmethod
        def time():
            return now[0]

        @staticmethod
        def advance(seconds=30):
            now[0] += seconds

        @staticmethod
        def now():
            return now[0]

    from django_otp.plugins.otp_totp import models

    monkeypatch.setattr(models, "time", Clock)
    return Clock


def code_at(device, when: float) -> str:
    device.refresh_from_db()
    t = TOTP(device.bin_key, device.step, device.t0, device.digits, 0)
    t.time = when
    return f"{t.token():06d}"


def enrol(user, clock=None):
    """Two-factor on for `user` through the services; returns (device, recovery codes)."""
    device = two_factor_enrolment_start(actor=user)
    code = code_at(device, clock.now()) if clock else f"{totp(device.bin_key):06d}"
    codes = two_factor_confirm(actor=user, code=code)
    device.refresh_from_db()
    return device, codes


def password_step(client, username, next_url=""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def actions(user) -> list[str]:
    return list(AuditEvent.objects.filter(target_type="accounts.user", target_id=str(user.pk),
                                          action__startswith="two_factor.").order_by("seq")
                .values_list("action", flat=True))


def test_setup_through_the_pages_then_log_in_with_a_real_code(client, users, clock):
    user = users["sales"]
    client.force_login(user)
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 200 and page["Cache-Control"].startswith("max-age=0")
    html = page.content.decode()
    assert "<svg" in html and "style=" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = re.search(r'data-testid="twofa-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    assert client.get(reverse("two_factor_setup")).content.decode().count(secret[:4]) >= 1  # a reload keeps it
    assert TOTPDevice.objects.filter(user=user).count() == 1
    key = b32decode(secret)
    wrong = client.post(reverse("two_factor_setup"), {"code": f"{(totp(key) + 1) % 10**6:06d}"})
    assert wrong.status_code == 400 and not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    t = TOTP(key)
    t.time = clock.now()
    response = client.post(reverse("two_factor_setup"), {"code": f"{t.token():06d}"})
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_codes")
    codes_page = client.get(reverse("two_factor_codes")).content.decode()
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", codes_page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(reverse("two_factor_codes")).status_code == 302  # shown once
    assert client.get(reverse("dashboard")).status_code == 200  # this session was verified by the setup

    client.post(reverse("logout"))
    response = password_step(client, "sales_a", next_url="/customers/")
    assert response.status_code == 302 and response["Location"] == reverse("login_verify")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("dashboard")).status_code == 302  # not logged in yet
    assert client.get(reverse("login_verify")).status_code == 200
    clock.advance()
    t.time = clock.now()
    response = client.post(reverse("login_verify"), {"code": f"{t.token() // 1000:03d} {t.token() % 1000:03d}"})
    assert response.status_code == 302 and response["Location"] == "/customers/"
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.session["otp_device_id"]
    assert actions(user) == ["two_factor.enrolment_started", "two_factor.enabled"]


def test_a_code_is_accepted_once(client, users, clock):
    user = users["sales"]
    device, _codes = enrol(user, clock)
    clock.advance()
    code = code_at(device, clock.now())
    password_step(client, "sales_a")
    assert client.post(reverse("login_verify"), {"code": code}).status_code == 302
    client.post(reverse("logout"))
    password_step(client, "sales_a")
    response = client.post(reverse("login_verify"), {"code": code})
    assert response.status_code == 400 and "_auth_user_id" not in client.session
    assert 'data-testid="error-code"' in response.content.decode()
    # Nor an earlier code still inside the tolerance window.
    assert client.post(reverse("login_verify"), {"code": code_at(device, clock.now() - 30)}).status_code == 400
    assert actions(user)[-2:] == ["two_factor.failed", "two_factor.failed"]
    failed = AuditEvent.objects.filter(action="two_factor.failed").latest("seq")
    assert (failed.kind, failed.outcome) == (AuditEvent.Kind.SECURITY, AuditEvent.Outcome.FAILED)
    clock.advance()
    assert client.post(reverse("login_verify"), {"code": code_at(device, clock.now())}).status_code == 302


def test_a_recovery_code_works_once(client, users, clock):
    user = users["sales"]
    _device, codes = enrol(user, clock)
    password_step(client, "sales_a")
    response = client.post(reverse("login_verify"), {"code": codes[0].upper(), "method": "recovery"}, follow=True)
    assert response.status_code == 200 and response.wsgi_request.user.is_authenticated
    assert "9 are left" in response.content.decode()
    assert StaticToken.objects.filter(device__user=user).count() == 9
    client.post(reverse("logout"))
    password_step(client, "sales_a")
    assert client.post(reverse("login_verify"), {"code": codes[0]}).status_code == 400
    assert "_auth_user_id" not in client.session
    assert client.post(reverse("login_verify"), {"code": codes[1].replace("-", "")}).status_code == 302
    assert actions(user)[-3:] == ["two_factor.recovery_code_used", "two_factor.failed",
                                  "two_factor.recovery_code_used"]


def test_a_role_that_requires_it_sets_it_up_right_after_the_password(client, users, settings, clock):
    settings.QIYUE_2FA_REQUIRED_ROLES = ["legal", "admin"]
    response = password_step(client, "legal1")
    assert response.status_code == 302
    for url in (reverse("dashboard"), "/customers/", "/contracts/", reverse("two_factor"), "/audit/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("two_factor_setup"), url
    api = client.get("/api/v1/customers/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    htmx = client.get("/customers/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204 and htmx["HX-Redirect"] == reverse("two_factor_setup")
    page = client.get(reverse("two_factor_setup"))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="twofa-required"' in html
    assert reverse("customers:list") not in html  # the navigation offers only the way out
    device = TOTPDevice.objects.get(user=users["legal"])
    response = client.post(reverse("two_factor_setup"), {"code": code_at(device, clock.now())})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get("/api/v1/customers/").status_code == 200
    # It cannot be turned off while the role requires it.
    clock.advance()
    response = client.post(reverse("two_factor_disable"),
                           {"off-password": PASSWORD, "off-code": code_at(device, clock.now())})
    assert response.status_code == 403 and TOTPDevice.objects.filter(user=users["legal"]).exists()
    assert 'data-testid="twofa-cannot-disable"' in client.get(reverse("two_factor")).content.decode()
    # Other roles are not asked.
    other = type(client)()
    password_step(other, "sales_a")
    assert other.get(reverse("dashboard")).status_code == 200


def test_an_unverified_session_of_a_user_with_two_factor_is_ended(client, users, clock):
    user = users["sales"]
    client.force_login(user)  # a session from before two-factor was turned on elsewhere
    enrol(user, clock)
    response = client.get("/customers/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    client.force_login(user)
    api = client.get("/api/v1/customers/")
    assert api.status_code == 401 and api.json()["code"] == "not_authenticated"


def test_the_admin_log_in_form_is_not_a_way_around(client, users, clock):
    enrol(users["admin"], clock)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == reverse("login") + "?next=/admin/"


def test_an_api_token_is_not_gated(client, users, settings, clock):
    settings.QIYUE_2FA_REQUIRED_ROLES = ["sales"]
    token = token_issue(actor=None, user=users["sales"])
    assert client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_wrong_codes_are_throttled_and_lock_the_account(client, users, settings, clock):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    device, _codes = enrol(users["sales"], clock)
    clock.advance()
    right = code_at(device, clock.now())
    password_step(client, "sales_a")
    assert client.post(reverse("login_verify"), {"code": "000000" if right != "000000" else "111111"}).status_code == 400
    response = client.post(reverse("login_verify"), {"code": right})
    assert response.status_code == 429 and "_auth_user_id" not in client.session  # wait first
    assert "Wait" in response.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    for _ in range(4):
        response = client.post(reverse("login_verify"), {"code": "000000" if right != "000000" else "111111"})
    assert response.status_code in (403, 429) and "Too many failed login attempts" in response.content.decode()
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username="sales_a").exists()
    logged = "".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert "000000" not in logged and "111111" not in logged  # the codes tried are masked
    # The account is locked: neither the password nor the right code gets in now.
    assert client.post(reverse("login_verify"), {"code": right}).status_code == 302  # back to the log-in
    response = password_step(client, "sales_a")
    assert "_auth_user_id" not in client.session and response.status_code in (403, 429)


def test_the_pending_log_in_expires(client, users, settings, clock):
    device, _codes = enrol(users["sales"], clock)
    password_step(client, "sales_a")
    session = client.session
    session["qiyue_2fa_pending"]["at"] -= settings.QIYUE_2FA_PENDING_SECONDS + 1
    session.save()
    clock.advance()
    response = client.post(reverse("login_verify"), {"code": code_at(device, clock.now())})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("code", ["", "   ", "abc", "12345", "1234567", "12345a", "１２３４５６", "1" * 100_000,
                                  "<script>", "0x1e240", "+12345", "1_2345"])
def test_hostile_codes_at_the_second_step_are_form_errors(client, users, clock, code):
    enrol(users["sales"], clock)
    password_step(client, "sales_a")
    response = client.post(reverse("login_verify"), {"code": code})
    assert response.status_code == 400 and 'data-testid="error-code"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_another_users_code_or_device_does_not_sign_in(client, users, clock):
    mine, _ = enrol(users["sales"], clock)
    theirs, their_codes = enrol(users["sales2"], clock)
    clock.advance()
    password_step(client, "sales_a")
    response = client.post(reverse("login_verify"), {"code": code_at(theirs, clock.now()),
                                                      "device": theirs.persistent_id,
                                                      "otp_device_id": theirs.persistent_id})
    assert response.status_code == 400
    assert client.post(reverse("login_verify"), {"code": their_codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=users["sales2"]).count() == 10
    assert client.post(reverse("login_verify"), {"code": code_at(mine, clock.now())}).status_code == 302
    assert client.session["otp_device_id"] == mine.persistent_id


@pytest.mark.parametrize("data", [{}, {"code": ""}, {"code": "x" * 100_000}, {"code": "abcdefghjk"},
                                  {"code": "99999999"}])
def test_hostile_setup_confirmations(client, users, data):
    client.force_login(users["sales"])
    client.get(reverse("two_factor_setup"))
    response = client.post(reverse("two_factor_setup"), data)
    assert response.status_code == 400 and 'data-testid="error-code"' in response.content.decode()
    assert not TOTPDevice.objects.filter(user=users["sales"], confirmed=True).exists()


def test_new_recovery_codes_replace_the_old_ones(client, users, clock):
    user = users["sales"]
    device, old = enrol(user, clock)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    url = reverse("two_factor_regenerate")
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"regen-password": "not-it"}).status_code == 400
    assert client.post(url, {"regen-code": "x" * 100_000}).status_code == 400
    assert client.get(url).status_code == 405
    response = client.post(url, {"regen-password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_codes")
    new = re.findall(r"<code>([a-z0-9-]+)</code>", client.get(reverse("two_factor_codes")).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    tokens = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert tokens == {code.replace("-", "") for code in new}
    clock.advance()
    assert client.post(url, {"regen-code": code_at(device, clock.now())}).status_code == 302
    assert actions(user).count("two_factor.recovery_codes_regenerated") == 2
    assert "two_factor.failed" in actions(user)  # the wrong password


def test_turning_it_off_needs_the_password_and_a_code(client, users, clock):
    user = users["sales"]
    device, codes = enrol(user, clock)
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    url = reverse("two_factor_disable")
    clock.advance()
    code = code_at(device, clock.now())
    for data in ({}, {"off-password": PASSWORD}, {"off-code": code}, {"off-password": "wrong", "off-code": code},
                 {"off-password": PASSWORD, "off-code": "123"}, {"off-password": "p" * 100_000, "off-code": code}):
        assert client.post(url, data).status_code == 400, data
    assert TOTPDevice.objects.filter(user=user).exists()
    response = client.post(url, {"off-password": PASSWORD, "off-code": codes[3]})  # a recovery code will do
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists()
    assert client.get(reverse("dashboard")).status_code == 200  # the session goes on, password-only now
    assert actions(user)[-1] == "two_factor.disabled"
    client.post(reverse("logout"))
    assert password_step(client, "sales_a")["Location"] == reverse("dashboard")


def test_an_admin_resets_a_users_two_factor(client, users, clock):
    enrol(users["sales"], clock)
    admin_device, _ = enrol(users["admin"], clock)
    client.force_login(users["admin"])
    session = client.session
    session["otp_device_id"] = admin_device.persistent_id
    session.save()
    changelist = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "Two-factor" in changelist
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "reset_two_factor", "_selected_action": [users["sales"].pk]})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=users["sales"]).exists()
    assert TOTPDevice.objects.filter(user=users["admin"]).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert event.actor_id == users["admin"].pk and event.target_id == str(users["sales"].pk)
    with pytest.raises(ApplicationError) as refused:
        services.two_factor_reset(actor=users["manager"], user=users["admin"])
    assert refused.value.code == "permission_denied"
    log = client.get(reverse("audit:list")).content.decode()
    assert "reset two-factor authentication" in log and "turned on two-factor authentication" in log
    # django-otp's own device pages are not offered (they would change devices unaudited).
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404


def test_the_reset_command(users, clock):
    enrol(users["legal"], clock)
    out = StringIO()
    call_command("reset2fa", "legal1", stdout=out)
    assert "reset for legal1" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=users["legal"]).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert event.actor_id is None
    out = StringIO()
    call_command("reset2fa", "legal1", stdout=out)
    assert "nothing changed" in out.getvalue()


def test_an_unknown_required_role_fails_the_checks(settings):
    from qiyue.accounts.apps import check_two_factor_roles

    settings.QIYUE_2FA_REQUIRED_ROLES = ["admin"]
    assert check_two_factor_roles(None) == []
    settings.QIYUE_2FA_REQUIRED_ROLES = ["admn"]
    assert [e.id for e in check_two_factor_roles(None)] == ["accounts.E001"]


def test_a_code_typed_with_a_chinese_input_method_is_read(client, users, clock):
    device, codes = enrol(users["sales"], clock)
    clock.advance()
    full_width = code_at(device, clock.now()).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    password_step(client, "sales_a")
    assert client.post(reverse("login_verify"), {"code": full_width[:3] + "\u3000" + full_width[3:]}).status_code == 302
    client.post(reverse("logout"))
    password_step(client, "sales_a")
    recovery = codes[0].upper().replace("-", "－").translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert client.post(reverse("login_verify"), {"code": recovery, "method": "recovery"}).status_code == 302
