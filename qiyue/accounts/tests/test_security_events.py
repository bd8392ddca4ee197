"""Sign-ins, sign-outs, failed sign-ins and lockouts are in the audit log."""

import json
import time

import pytest
from django.urls import reverse

from qiyue.accounts.tests.factories import PASSWORD
from qiyue.audit import security
from qiyue.audit.chain import verify
from qiyue.audit.models import AuditEvent
from qiyue.core.middleware import SessionTimeoutMiddleware

pytestmark = pytest.mark.django_db

UA = "Mozilla/5.0 (Windows NT 10.0) Edge/140"


def security_events():
    return list(AuditEvent.objects.filter(kind="security").order_by("seq"))


@pytest.fixture(autouse=True)
def _still_minute(monkeypatch):
    monkeypatch.setattr(security, "current_window", lambda: 29_000_000)


def test_sign_in_and_sign_out(client, users):
    response = client.post(reverse("login"), {"username": "sales_a", "password": PASSWORD},
                           HTTP_USER_AGENT=UA, HTTP_X_REQUEST_ID="sso-42")
    assert response.status_code == 302
    client.post(reverse("logout"))
    signed_in, signed_out = security_events()
    assert (signed_in.action, signed_in.actor_id, signed_in.outcome, signed_in.target_type, signed_in.target_id) == (
        "user.logged_in", users["sales"].pk, "success", "accounts.user", str(users["sales"].pk))
    assert (signed_in.user_agent, signed_in.correlation_id, signed_in.ip) == (UA, "sso-42", "127.0.0.1")
    assert signed_in.request_id == response["X-Request-ID"]
    assert (signed_out.action, signed_out.actor_id, signed_out.changes) == ("user.logged_out", users["sales"].pk, {})
    assert verify(AuditEvent.objects.all()).ok


def test_a_failed_sign_in_keeps_the_name_tried_and_never_the_password(client, users):
    client.post(reverse("login"), {"username": "sales_a", "password": "Wrong-Secret-991"}, HTTP_USER_AGENT=UA)
    client.post(reverse("login"), {"username": "nobody\r\nFAKE\x1b[31m", "password": "Wrong-Secret-991"})
    first, second = security_events()
    assert (first.action, first.outcome, first.actor_id, first.actor_name, first.user_agent) == (
        "user.login_failed", "failed", None, "anonymous", UA)
    assert (first.target_type, first.target_label, first.changes) == (
        "accounts.user", "sales_a", {"username": "sales_a"})
    assert second.changes["username"] == "nobody\\r\\nFAKE\\x1b[31m"
    for event in (first, second):
        stored = json.dumps([getattr(event, f.name) for f in AuditEvent._meta.fields], default=str)
        assert "Wrong-Secret-991" not in stored and "*****" not in stored


def test_failed_sign_ins_are_rate_limited_per_name_and_address(client, users, settings):
    settings.AXES_FAILURE_LIMIT = 1000  # no lockout here: only the audit log's own limit
    settings.QIYUE_SECURITY_EVENTS_PER_MINUTE = 5
    for _ in range(40):
        client.post(reverse("login"), {"username": "sales_a", "password": "wrong-password"})
    client.post(reverse("login"), {"username": "sales_a", "password": "wrong-password"}, REMOTE_ADDR="10.9.9.9")
    actions = [e.action for e in security_events()]
    assert actions == ["user.login_failed"] * 5 + ["security.limit_reached", "user.login_failed"]


def test_lockout_is_recorded_once_and_refusals_after_it_are_limited(client, users, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.QIYUE_SECURITY_EVENTS_PER_MINUTE = 4
    for _ in range(3):
        client.post(reverse("login"), {"username": "sales_a", "password": "wrong-password"})
    for _ in range(30):  # the right password too is refused while locked out
        response = client.post(reverse("login"), {"username": "sales_a", "password": PASSWORD})
        assert response.status_code == 429
    actions = [e.action for e in security_events()]
    # axes' receiver runs first: the third failure's lockout is written just before the failure itself.
    assert actions == (["user.login_failed"] * 2 + ["user.locked_out", "user.login_failed"]
                       + ["user.login_refused"] * 4 + ["security.limit_reached"])
    locked = AuditEvent.objects.get(action="user.locked_out")
    assert (locked.outcome, locked.target_label, locked.changes) == ("denied", "sales_a", {"username": "sales_a"})
    # The lockout page itself (429) is no second record as a denied request.
    assert not AuditEvent.objects.filter(action="request.denied").exists()


def test_a_session_ended_by_the_timeout_is_a_sign_out_with_its_reason(client, users, settings):
    client.force_login(users["sales"])
    client.get(reverse("dashboard"))
    session = client.session
    session[SessionTimeoutMiddleware.SEEN_KEY] = int(time.time()) - settings.QIYUE_SESSION_IDLE_SECONDS - 5
    session.save()
    client.get(reverse("dashboard"))
    event = AuditEvent.objects.get(action="user.logged_out")
    assert (event.actor_id, event.changes) == (users["sales"].pk, {"logout_reason": "idle"})
