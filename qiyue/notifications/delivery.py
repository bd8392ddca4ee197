"""E-mail of notifications, sent by the worker: in the recipient's language, retried with back-off
when sending fails, and never sent twice. A row is claimed (pending → sending) by one conditional
update before its mail goes out, so two workers, or a task queued twice, cannot both send it; a claim
whose worker died is not sent again (the sweep marks it failed): twice is worse than once missed."""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from .kinds import render
from .models import EmailDigest, EmailState, Notification

logger = logging.getLogger(__name__)

# After the 1st, 2nd, … failure, the next attempt waits this long; after the last, the mail has failed.
BACKOFF = (datetime.timedelta(minutes=1), datetime.timedelta(minutes=5), datetime.timedelta(minutes=30),
           datetime.timedelta(hours=2), datetime.timedelta(hours=12))
# A claim older than this belongs to a worker that died while sending.
CLAIM_LEASE = datetime.timedelta(minutes=15)
# A pending mail due longer than this has lost its queued task (the sweep queues it again).
LOST_AFTER = datetime.timedelta(minutes=2)


@task()
def send_notification_email(notification_id: int) -> str:
    return deliver(notification_id)


def schedule_email(notification_id: int, *, run_after: datetime.datetime | None = None) -> None:
    if run_after is not None and send_notification_email.get_backend().supports_defer:
        send_notification_email.using(run_after=run_after).enqueue(notification_id)
    elif run_after is None:
        send_notification_email.enqueue(notification_id)
    # A backend that cannot defer (the immediate one, in development): the sweep retries it when due.


def message_of(notification: Notification) -> tuple[str, str]:
    """(subject, body) of the notification's e-mail, in the active language."""
    text = render(notification.kind, notification.params)
    base = settings.QIYUE_BASE_URL.rstrip("/")
    lines = [text, ""]
    if notification.url:
        lines += [_("Open it in Qiyue: %(url)s") % {"url": base + notification.url}, ""]
    lines += ["-- ", _("Choose which notifications you get by e-mail: %(url)s") % {
        "url": base + reverse("notifications:settings")}]
    return f"[{_('Qiyue')}] {text}"[:200], "\n".join(lines)


def deliver(notification_id: int) -> str:
    now = timezone.now()
    claimed = Notification.objects.filter(pk=notification_id, email_state=EmailState.PENDING,
                                          email_next_at__lte=now + datetime.timedelta(seconds=5)).update(
        email_state=EmailState.SENDING, email_attempts=F("email_attempts") + 1, email_next_at=now)
    if not claimed:
        return "not due or not pending"
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient = notification.recipient
    try:
        if not recipient.is_active or not recipient.email:
            raise ValueError("the recipient has no active account with an e-mail address")
        with translation.override(recipient.language or settings.LANGUAGE_CODE):
            subject, body = message_of(notification)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
    except Exception as exc:  # noqa: BLE001  (any failure of the mail backend is retried)
        attempts = notification.email_attempts
        retry = attempts <= len(BACKOFF) and recipient.is_active and bool(recipient.email)
        next_at = now + BACKOFF[attempts - 1] if retry else None
        Notification.objects.filter(pk=notification_id, email_state=EmailState.SENDING).update(
            email_state=EmailState.PENDING if retry else EmailState.FAILED, email_next_at=next_at,
            email_error=f"{type(exc).__name__}: {exc}"[:300])
        logger.warning("notification %s: e-mail attempt %s failed (%s)%s", notification_id, attempts, exc,
                       "; retrying later" if retry else "; giving up")
        if retry:
            schedule_email(notification_id, run_after=next_at)
        return "retry" if retry else "failed"
    Notification.objects.filter(pk=notification_id).update(email_state=EmailState.SENT, email_sent_at=timezone.now(),
                                                           email_error="")
    return "sent"


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """The periodic job: queue again the pending mails whose task was lost, and mark failed the
    claims of workers that died while sending (never sent again: they may have gone out)."""
    now = now or timezone.now()
    lost_claims = Notification.objects.filter(email_state=EmailState.SENDING,
                                              email_next_at__lt=now - CLAIM_LEASE).update(
        email_state=EmailState.FAILED, email_error="the worker stopped while sending; not sent again")
    due = list(Notification.objects.filter(email_state=EmailState.PENDING, email_next_at__lt=now - LOST_AFTER)
               .order_by("email_next_at").values_list("pk", flat=True)[:1000])
    for pk in due:
        schedule_email(pk)
    return {"requeued": len(due), "failed": lost_claims}


# A digest lists at most this many notifications (the rest: "and N more", in the inbox).
DIGEST_LINES = 200


def digest_of(rows: list[Notification], more: int, day) -> tuple[str, str]:
    """(subject, body) of a daily digest in the active language."""
    base = settings.QIYUE_BASE_URL.rstrip("/")
    count = len(rows) + more
    subject = _("[%(site)s] %(count)s reminders for %(date)s") % {"site": _("Qiyue"), "count": count,
                                                                   "date": day.isoformat()}
    lines = [_("Your reminders of %(date)s:") % {"date": day.isoformat()}, ""]
    for row in rows:
        lines.append(f"- {render(row.kind, row.params)}")
        if row.url:
            lines.append(f"  {base}{row.url}")
    if more:
        lines += ["", _("… and %(count)s more in your inbox: %(url)s") % {
            "count": more, "url": base + reverse("notifications:list")}]
    lines += ["", "-- ", _("Choose which notifications you get by e-mail: %(url)s") % {
        "url": base + reverse("notifications:settings")}]
    return subject[:200], "\n".join(lines)


def _send_digest(user_id: int, today, now) -> str:
    digest, _created = EmailDigest.objects.get_or_create(user_id=user_id)
    before = digest.last_sent_on
    claimed = EmailDigest.objects.filter(Q(last_sent_on__isnull=True) | Q(last_sent_on__lt=today),
                                         pk=digest.pk).update(last_sent_on=today)
    if not claimed:
        return "claimed elsewhere or sent today"
    waiting = Notification.objects.filter(recipient_id=user_id, email_state=EmailState.DIGEST)
    ids = list(waiting.order_by("created_at", "pk").values_list("pk", flat=True)[:5000])
    Notification.objects.filter(pk__in=ids, email_state=EmailState.DIGEST).update(
        email_state=EmailState.SENDING, email_next_at=now, email_attempts=F("email_attempts") + 1)
    rows = list(Notification.objects.filter(pk__in=ids[:DIGEST_LINES]).order_by("created_at", "pk"))
    recipient = digest.user
    try:
        if not recipient.is_active or not recipient.email:
            raise ValueError("the recipient has no active account with an e-mail address")
        with translation.override(recipient.language or settings.LANGUAGE_CODE):
            subject, body = digest_of(rows, len(ids) - len(rows), today)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
    except Exception as exc:  # noqa: BLE001  (retried on the next round, up to the back-off's length)
        error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = digest.attempts + 1
        retry = attempts <= len(BACKOFF) and recipient.is_active and bool(recipient.email)
        Notification.objects.filter(pk__in=ids, email_state=EmailState.SENDING).update(
            email_state=EmailState.DIGEST if retry else EmailState.FAILED, email_error=error)
        EmailDigest.objects.filter(pk=digest.pk).update(last_sent_on=before if retry else today, attempts=attempts,
                                                        last_error=error)
        logger.warning("daily digest of user %s: attempt %s failed (%s)", user_id, attempts, exc)
        return "retry" if retry else "failed"
    Notification.objects.filter(pk__in=ids).update(email_state=EmailState.SENT, email_sent_at=timezone.now(),
                                                   email_error="")
    EmailDigest.objects.filter(pk=digest.pk).update(attempts=0, last_error="")
    return "sent"


def send_digests(now: datetime.datetime | None = None) -> dict[str, int]:
    """The periodic job: from QIYUE_DIGEST_HOUR (local time) on, one e-mail per user with
    notifications waiting for their digest, once a day."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.hour < settings.QIYUE_DIGEST_HOUR:
        return {}
    users = (Notification.objects.filter(email_state=EmailState.DIGEST).order_by()
             .values_list("recipient_id", flat=True).distinct())
    outcomes: dict[str, int] = {}
    for user_id in list(users):
        outcome = _send_digest(user_id, local.date(), now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
