"""The notification centre: created only when the change commits, read in the reader's language, the
unread count in the navigation bar, e-mail in the recipient's language by the worker with back-off and
never twice, per-kind e-mail settings, and the contracts app's first notices to owners."""

import datetime
import threading
import time

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from qiyue.audit.models import AuditEvent
from qiyue.contracts.services import contract_transition, contract_update
from qiyue.contracts.tests.factories import make_contract
from qiyue.notifications import delivery, services
from qiyue.notifications.kinds import kinds
from qiyue.notifications.models import EmailState, Notification, NotificationSetting
from qiyue.notifications.selectors import unread_count

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned(users):
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    return make_contract(users["sales"], title="门店租赁合同")


def _submit_and_return(users, contract, capture):
    """The manager moves the owner's contract on: they cancel the draft (the approval workflow tells
    people of its own steps with its own kinds: qiyue/workflow/tests)."""
    with capture(execute=True):
        contract = contract_transition(actor=users["manager"], contract=contract, name="cancel", reason="缺少附件")
    return contract


def test_the_owner_is_told_when_someone_else_moves_their_contract(users, owned, django_capture_on_commit_callbacks):
    _submit_and_return(users, owned, django_capture_on_commit_callbacks)
    # The manager's cancellation tells the owner.
    (notice,) = Notification.objects.all()
    assert notice.recipient == users["sales"] and notice.kind == "contract.status_changed"
    assert notice.url == reverse("contracts:detail", args=[owned.pk])
    assert notice.email_state == EmailState.PENDING
    assert DBTaskResult.objects.filter(task_path__endswith="send_notification_email").count() == 1


def test_nothing_is_created_when_the_change_rolls_back(users, owned, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                contract_transition(actor=users["manager"], contract=owned, name="cancel", reason="重复录入")
                raise RuntimeError("the request failed later")
        except RuntimeError:
            pass
    assert not Notification.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_handed_over_contract_tells_its_new_owner(users, owned, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        contract_update(actor=users["manager"], contract=owned, data={"owner": users["sales2"]},
                        expected_version=owned.version)
    (notice,) = Notification.objects.all()
    assert notice.recipient == users["sales2"] and notice.kind == "contract.assigned"
    assert notice.email_state == EmailState.NONE  # sales2 has no e-mail address


@pytest.mark.parametrize(("language", "words"), [("en", ["changed", "Cancelled", "门店租赁合同"]),
                                                 ("zh-hans", ["的状态改为", "已作废", "门店租赁合同"])])
def test_the_inbox_reads_in_the_readers_language(client, users, owned, django_capture_on_commit_callbacks,
                                                  language, words, settings):
    _submit_and_return(users, owned, django_capture_on_commit_callbacks)
    client.force_login(users["sales"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(reverse("notifications:list")).content.decode()
    assert all(word in html for word in words), html[html.find("open-notification"):][:300]
    assert 'data-testid="unread-count"' in html
    api = client.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert api["count"] == 1 and words[1] in api["results"][0]["text"] and api["results"][0]["read"] is False


def test_opening_marks_read_and_goes_to_the_contract(client, users, owned, django_capture_on_commit_callbacks):
    _submit_and_return(users, owned, django_capture_on_commit_callbacks)
    notice = Notification.objects.get()
    client.force_login(users["sales"])
    response = client.post(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("contracts:detail", args=[owned.pk])
    assert unread_count(user=users["sales"]) == 0
    assert 'data-testid="unread-count"' not in client.get(reverse("notifications:list")).content.decode()
    assert 'data-testid="empty-notifications"' in client.get(reverse("notifications:list")).content.decode()
    # Another user's notification is not found, by page or API; a GET does not mark anything.
    client.force_login(users["sales2"])
    assert client.post(reverse("notifications:open", args=[notice.pk])).status_code == 404
    assert client.post(f"/api/v1/notifications/{notice.pk}/read/").status_code == 404
    assert client.get(f"/api/v1/notifications/{notice.pk}/").status_code == 404
    assert client.get(reverse("notifications:open", args=[notice.pk])).status_code == 405
    assert client.post(reverse("notifications:open", args=[99999999999999999999])).status_code == 404


def test_a_stored_address_elsewhere_is_never_followed(client, users):
    notice = Notification.objects.create(recipient=users["sales"], kind="contract.assigned", params={},
                                         url="//evil.example/x")
    client.force_login(users["sales"])
    response = client.post(reverse("notifications:open", args=[notice.pk]))
    assert response["Location"] == reverse("notifications:list")


def test_mark_all_read_by_page_and_api(client, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            services.notify(recipients=[users["sales"]], kind="contract.assigned",
                            params={"actor": "王芳", "number": f"HT-{n}", "title": "合同"})
    client.force_login(users["sales"])
    assert client.get(reverse("notifications:list")).context["notifications_unread"] == 3
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 3}
    assert unread_count(user=users["sales"]) == 0
    assert client.get("/api/v1/notifications/", {"unread": "true"}).json()["count"] == 0
    assert client.get("/api/v1/notifications/").json()["count"] == 3
    assert client.post(reverse("notifications:read_all")).status_code == 302


def test_unread_count_costs_one_query_and_stops_at_a_hundred(client, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(recipients=[users["sales"]], kind="contract.assigned",
                        params={"actor": "a", "number": "n", "title": "t"})
    Notification.objects.bulk_create([Notification(recipient=users["sales"], kind="contract.assigned",
                                                   params={}) for _ in range(150)])
    assert unread_count(user=users["sales"]) == 100
    client.force_login(users["sales"])
    assert ">99+<" in client.get(reverse("dashboard")).content.decode()


def test_email_goes_in_the_recipients_language_once(users, owned, django_capture_on_commit_callbacks, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    users["sales"].language = "en"
    users["sales"].save()
    _submit_and_return(users, owned, django_capture_on_commit_callbacks)
    notice = Notification.objects.get()
    assert delivery.deliver(notice.pk) == "sent"
    assert delivery.deliver(notice.pk) == "not due or not pending"  # a task queued twice: one mail
    (message,) = mail.outbox
    assert message.to == ["sales@example.com"] and "Cancelled" in message.subject and "门店租赁合同" in message.subject
    assert f"{settings.QIYUE_BASE_URL}/contracts/{owned.pk}/" in message.body
    notice.refresh_from_db()
    assert notice.email_state == EmailState.SENT and notice.email_sent_at is not None


def test_a_failing_mail_is_retried_with_back_off_then_given_up(users, owned, django_capture_on_commit_callbacks,
                                                              settings, monkeypatch):
    _submit_and_return(users, owned, django_capture_on_commit_callbacks)
    notice = Notification.objects.get()
    DBTaskResult.objects.all().delete()

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("the mail server is down")

    monkeypatch.setattr(delivery, "send_mail", refuse)
    assert delivery.deliver(notice.pk) == "retry"
    notice.refresh_from_db()
    assert notice.email_state == EmailState.PENDING and notice.email_attempts == 1
    assert "mail server is down" in notice.email_error
    retry = DBTaskResult.objects.get()
    assert retry.run_after is not None and retry.run_after > timezone.now() + datetime.timedelta(seconds=50)
    assert delivery.deliver(notice.pk) == "not due or not pending"  # not before its time
    for attempt in range(2, len(delivery.BACKOFF) + 2):
        Notification.objects.filter(pk=notice.pk).update(email_next_at=timezone.now())
        expected = "retry" if attempt <= len(delivery.BACKOFF) else "failed"
        assert delivery.deliver(notice.pk) == expected
    notice.refresh_from_db()
    assert notice.email_state == EmailState.FAILED and notice.email_attempts == len(delivery.BACKOFF) + 1


def test_the_sweep_requeues_lost_tasks_and_never_resends_a_claimed_mail(users, owned,
                                                                      django_capture_on_commit_callbacks):
    _submit_and_return(users, owned, django_capture_on_commit_callbacks)
    notice = Notification.objects.get()
    DBTaskResult.objects.all().delete()
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert delivery.sweep(now=later) == {"requeued": 1, "failed": 0}
    assert DBTaskResult.objects.count() == 1
    # A worker claimed it and died while sending: it may have gone out, so it is not sent again.
    Notification.objects.filter(pk=notice.pk).update(email_state=EmailState.SENDING, email_next_at=timezone.now())
    assert delivery.sweep(now=timezone.now() + delivery.CLAIM_LEASE + datetime.timedelta(minutes=1)) == {
        "requeued": 0, "failed": 1}
    notice.refresh_from_db()
    assert notice.email_state == EmailState.FAILED and "not sent again" in notice.email_error


def test_settings_choose_the_kinds_sent_by_email_and_are_audited(client, users, owned,
                                                                 django_capture_on_commit_callbacks):
    client.force_login(users["sales"])
    page = client.get(reverse("notifications:settings"))
    assert page.status_code == 200 and 'value="contract.status_changed"' in page.content.decode()
    response = client.post(reverse("notifications:settings"), {"email_kinds": ["contract.assigned"],
                                                                "app_kinds": [k.key for k in kinds()],
                                                                "language": "en"})
    assert response.status_code == 302
    assert not NotificationSetting.objects.get(user=users["sales"], kind="contract.status_changed").email
    users["sales"].refresh_from_db()
    assert users["sales"].language == "en"
    event = AuditEvent.objects.filter(action="notification_settings.updated").get()
    assert event.changes["language"] == ["", "en"]
    _submit_and_return(users, owned, django_capture_on_commit_callbacks)
    assert Notification.objects.get().email_state == EmailState.NONE  # in the inbox only
    # The API reads and writes the same; bad input is a 400 naming the field, and changes nothing.
    assert client.put("/api/v1/notifications/settings/", {"email_kinds": ["nonsense"]},
                      content_type="application/json").json()["fields"]["email_kinds"]
    assert client.put("/api/v1/notifications/settings/", {"email_kinds": "x" * 5000},
                      content_type="application/json").status_code == 400
    assert client.put("/api/v1/notifications/settings/", {"email_kinds": [], "language": "fr"},
                      content_type="application/json").status_code == 400
    assert client.post(reverse("notifications:settings"), {"language": "klingon"}).status_code == 400
    body = client.put("/api/v1/notifications/settings/", {"email_kinds": ["contract.status_changed"]},
                      content_type="application/json").json()
    chosen = {k["kind"]: k["email"] for k in body["kinds"]}
    assert chosen["contract.status_changed"] is True and chosen["contract.assigned"] is False
    assert not any(email for kind, email in chosen.items() if kind != "contract.status_changed")
    assert body["language"] == "en"


def test_anonymous_users_are_sent_to_log_in(client):
    assert client.get(reverse("notifications:list")).status_code == 302
    assert client.get(reverse("notifications:settings")).status_code == 302
    assert client.get("/api/v1/notifications/").status_code in (401, 403)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_one_mail(users, settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent connections to the in-memory SQLite test database are not possible")
    users["sales"].email = "sales@example.com"
    users["sales"].save()
    notice = Notification.objects.create(recipient=users["sales"], kind="contract.assigned",
                                         params={"actor": "王芳", "number": "HT-1", "title": "合同"},
                                         email_state=EmailState.PENDING, email_next_at=timezone.now())
    sent = []
    monkeypatch.setattr(delivery, "send_mail", lambda *args, **kwargs: sent.append(args) or time.sleep(0.2))
    start = threading.Barrier(2)
    outcomes = []

    def work():
        try:
            start.wait()
            outcomes.append(delivery.deliver(notice.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["not due or not pending", "sent"] and len(sent) == 1
