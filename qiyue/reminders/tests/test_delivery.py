"""How reminders reach people: the channels each user picks per kind (in the app, by e-mail), the daily
digest instead of one e-mail each (once a day, retried when the mail server fails, never twice)."""

import datetime
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from qiyue.accounts.tests.factories import make_role_users, make_team
from qiyue.notifications import delivery
from qiyue.notifications.models import EmailDigest, EmailState, Notification, NotificationSetting
from qiyue.notifications.selectors import unread_count
from qiyue.notifications.services import notification_settings_update
from qiyue.reminders.models import ReminderSent
from qiyue.reminders.scan import run_scan

from .factories import only_rules, running_contract

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def people():
    users = make_role_users(make_team("东区"), make_team("西区"))
    for user in users.values():
        user.email = f"{user.username}@example.com"
        user.save()
    return users


def _contracts(owner, n=2):
    for i in range(n):
        running_contract(owner, expiry_date=D(2027, 3, 1) + datetime.timedelta(days=i))


DAY = D(2026, 12, 2)


def _at(hour, day=DAY):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def test_by_email_only_and_nowhere(people, django_capture_on_commit_callbacks):
    only_rules("expiry-90")
    _contracts(people["sales"])
    notification_settings_update(actor=people["sales"], email_kinds=["reminder.contract_expiry"], app_kinds=[])
    with django_capture_on_commit_callbacks(execute=True):
        run_scan(today=D(2026, 12, 1))
        run_scan(today=D(2026, 12, 2))
    rows = list(Notification.objects.filter(recipient=people["sales"]))
    assert len(rows) == 2 and all(r.read_at is not None for r in rows)  # not unread in the app
    assert unread_count(user=people["sales"]) == 0
    assert {r.email_state for r in rows} == {EmailState.PENDING}
    assert [delivery.deliver(r.pk) for r in rows] == ["sent", "sent"]  # what the queued tasks do
    assert len(mail.outbox) == 2
    notification_settings_update(actor=people["sales"], email_kinds=[], app_kinds=[])
    running_contract(people["sales"], expiry_date=D(2027, 3, 5))
    run_scan(today=D(2026, 12, 5))
    assert Notification.objects.filter(recipient=people["sales"]).count() == 2
    assert ReminderSent.objects.count() == 3  # decided once; switching back on does not resend it


def test_the_daily_digest_sends_one_mail_a_day(people, settings, django_capture_on_commit_callbacks):
    settings.QIYUE_DIGEST_HOUR = 8
    only_rules("expiry-90")
    _contracts(people["sales"], 3)
    people["sales"].language = "en"
    people["sales"].save()
    notification_settings_update(actor=people["sales"], email_kinds=["reminder.contract_expiry"], daily_digest=True)
    assert EmailDigest.objects.get(user=people["sales"]).daily
    with django_capture_on_commit_callbacks(execute=True):
        run_scan(today=D(2026, 12, 1))
        run_scan(today=D(2026, 12, 3))
    assert mail.outbox == []
    assert set(Notification.objects.values_list("email_state", flat=True)) == {EmailState.DIGEST}
    assert delivery.send_digests(now=_at(7)) == {}  # before the hour
    assert delivery.send_digests(now=_at(9)) == {"sent": 1}
    assert delivery.send_digests(now=_at(10)) == {}  # nothing waiting; and once a day anyway
    (message,) = mail.outbox
    assert message.subject == "[Qiyue] 3 reminders for 2026-12-02"
    assert message.body.count("expires on") == 3 and "/contracts/" in message.body
    assert set(Notification.objects.values_list("email_state", flat=True)) == {EmailState.SENT}


def test_a_digest_that_fails_is_retried_then_shown_failed(people, settings, django_capture_on_commit_callbacks):
    settings.QIYUE_DIGEST_HOUR = 8
    only_rules("expiry-90")
    _contracts(people["sales"], 1)
    notification_settings_update(actor=people["sales"], email_kinds=["reminder.contract_expiry"], daily_digest=True)
    run_scan(today=D(2026, 12, 1))
    with mock.patch.object(delivery, "send_mail", side_effect=OSError("connection refused")):
        assert delivery.send_digests(now=_at(9)) == {"retry": 1}
        row = Notification.objects.get()
        assert row.email_state == EmailState.DIGEST and "connection refused" in row.email_error
        for _attempt in range(len(delivery.BACKOFF) - 1):
            delivery.send_digests(now=_at(9))
        assert delivery.send_digests(now=_at(9)) == {"failed": 1}
    assert Notification.objects.get().email_state == EmailState.FAILED
    assert delivery.send_digests(now=_at(11)) == {}
    assert mail.outbox == []


def test_two_workers_send_one_digest(people, settings):
    settings.QIYUE_DIGEST_HOUR = 8
    only_rules("expiry-90")
    _contracts(people["sales"], 2)
    notification_settings_update(actor=people["sales"], email_kinds=["reminder.contract_expiry"], daily_digest=True)
    run_scan(today=D(2026, 12, 1))
    # The second worker looks while the first has claimed the day: it finds the day taken.
    real = delivery.send_mail

    def second_worker_looks(*args, **kwargs):
        assert delivery._send_digest(people["sales"].pk, D(2026, 12, 2), _at(9)) == "claimed elsewhere or sent today"
        return real(*args, **kwargs)

    with mock.patch.object(delivery, "send_mail", side_effect=second_worker_looks):
        assert delivery.send_digests(now=_at(9)) == {"sent": 1}
    assert len(mail.outbox) == 1


def test_settings_page_saves_channels_and_digest(client, people):
    client.force_login(people["sales"])
    page = client.get("/notifications/settings/").content.decode()
    assert 'data-testid="app-reminder.contract_expiry"' in page and 'name="daily_digest"' in page
    response = client.post("/notifications/settings/", {
        "app_kinds": ["reminder.installment_due"], "email_kinds": ["reminder.contract_expiry"], "daily_digest": "on",
        "language": ""})
    assert response.status_code == 302
    setting = NotificationSetting.objects.get(user=people["sales"], kind="reminder.contract_expiry")
    assert (setting.in_app, setting.email) == (False, True)
    assert EmailDigest.objects.get(user=people["sales"]).daily
    assert client.post("/notifications/settings/", {"app_kinds": ["nonsense"]}).status_code == 400
