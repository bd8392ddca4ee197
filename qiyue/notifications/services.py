"""Writes of the notifications app. Other apps call `notify` inside their own transaction: the
notifications are created only once it commits (a rolled-back change notifies nobody), and their
e-mails are then queued for the worker (see delivery.py)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.core.errors import ApplicationError, ErrorCode

from . import events
from .kinds import get_kind, kinds
from .models import EmailDigest, EmailState, Notification, NotificationSetting

MAX_PARAM_CHARS = 300


def _clean_params(params: Mapping[str, Any]) -> dict[str, str]:
    return {str(k)[:50]: str(v)[:MAX_PARAM_CHARS] for k, v in params.items()}


def emails_wanted(user_ids: Iterable[int], kind_key: str) -> set[int]:
    """Which of these users get `kind_key` by e-mail (their setting, or the kind's default)."""
    kind = get_kind(kind_key)
    ids = set(user_ids)
    chosen = dict(NotificationSetting.objects.filter(user_id__in=ids, kind=kind_key).values_list("user_id", "email"))
    return {pk for pk in ids if chosen.get(pk, kind.email if kind else False)}


def email_choices(user) -> dict[str, bool]:
    """{kind: whether `user` gets it by e-mail} for every registered kind (one query)."""
    chosen = dict(NotificationSetting.objects.filter(user_id=user.pk).values_list("kind", "email"))
    return {k.key: chosen.get(k.key, k.email) for k in kinds()}


def app_choices(user) -> dict[str, bool]:
    """{kind: whether `user` gets it in the app (unread in the inbox)} for every registered kind."""
    chosen = dict(NotificationSetting.objects.filter(user_id=user.pk).values_list("kind", "in_app"))
    return {k.key: chosen.get(k.key, True) for k in kinds()}


def takes_digest(user) -> bool:
    return EmailDigest.objects.filter(user_id=user.pk, daily=True).exists()


def _deliveries(users: Mapping[int, Any], kind_key: str) -> dict[int, tuple[str, bool]]:
    """{user id: (e-mail state, whether it is shown unread in the app)} for the `users` ({id: user})
    who take `kind_key` somewhere, as their settings say: by e-mail now, in their daily digest or not
    at all; in the app or not. A user who takes it nowhere is left out."""
    kind = get_kind(kind_key)
    chosen = {pk: (app, email) for pk, app, email in NotificationSetting.objects.filter(
        user_id__in=set(users), kind=kind_key).values_list("user_id", "in_app", "email")}
    digest = set(EmailDigest.objects.filter(user_id__in=set(users), daily=True).values_list("user_id", flat=True)) \
        if kind.digest else set()
    plans = {}
    for pk, user in users.items():
        in_app, email = chosen.get(pk, (True, kind.email))
        email = email and bool(user.email)
        if in_app or email:
            state = (EmailState.DIGEST if pk in digest else EmailState.PENDING) if email else EmailState.NONE
            plans[pk] = (state, in_app)
    return plans


def _notification(pk: int, kind: str, params: dict, url: str, plan: tuple[str, bool], now) -> Notification:
    state, in_app = plan
    return Notification(recipient_id=pk, kind=kind, params=params, url=url[:300], email_state=state,
                        email_next_at=now if state == EmailState.PENDING else None, read_at=None if in_app else now)


def _queue_emails(rows: Iterable[Notification]) -> None:
    from .delivery import schedule_email

    for row in rows:  # SQLite and PostgreSQL return the new ids
        if row.email_state == EmailState.PENDING:
            schedule_email(row.pk)


def notify(*, recipients: Iterable, kind: str, params: Mapping[str, Any] | None = None, url: str = "",
           actor=None) -> None:
    """Tell `recipients` (users; inactive ones and `actor` left out) that `kind` happened, once the
    current transaction commits."""
    if get_kind(kind) is None:
        raise ValueError(f"unknown notification kind {kind!r}")
    actor_id = getattr(actor, "pk", None)
    users = {u.pk: u for u in recipients if u is not None and u.is_active and u.pk != actor_id}
    if not users:
        return
    data = _clean_params(params or {})

    def create():
        now = timezone.now()
        plans = _deliveries(users, kind)
        _queue_emails(Notification.objects.bulk_create(
            [_notification(pk, kind, data, url, plans[pk], now) for pk in sorted(plans)]))

    transaction.on_commit(create)


def notify_now(entries: Iterable[tuple[Any, str, Mapping[str, Any], str]]) -> list[Notification]:
    """Create notifications inside the current transaction (`entries`: (recipient, kind, params, url);
    inactive recipients, and those who take the kind nowhere, left out) and queue their e-mails once it
    commits: for a writer that records what it sent in the same transaction (the reminder scan), so a
    crash can neither lose nor repeat one. Returns the notifications created."""
    entries = [entry for entry in entries if entry[0] is not None and entry[0].is_active]
    plans: dict[str, dict[int, tuple[str, bool]]] = {}
    for kind in {entry[1] for entry in entries}:
        if get_kind(kind) is None:
            raise ValueError(f"unknown notification kind {kind!r}")
        plans[kind] = _deliveries({user.pk: user for user, k, _p, _u in entries if k == kind}, kind)
    now = timezone.now()
    rows = Notification.objects.bulk_create([
        _notification(user.pk, kind, _clean_params(params or {}), url, plans[kind][user.pk], now)
        for user, kind, params, url in entries if user.pk in plans[kind]])
    if any(row.email_state == EmailState.PENDING for row in rows):
        transaction.on_commit(lambda: _queue_emails(rows))
    return rows


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notification_mark_all_read(*, actor) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


def _known(field: str, given: Iterable[str], known: set[str]) -> set[str]:
    wanted = set(given)
    unknown = sorted(wanted - known)
    if unknown:
        message = _("Unknown kind of notification: %(kinds)s.") % {"kinds": ", ".join(unknown)}
        raise ApplicationError(ErrorCode.INVALID, message, fields={field: [message]})
    return wanted


@transaction.atomic
def notification_settings_update(*, actor, email_kinds: Iterable[str], language: str | None = None,
                                 app_kinds: Iterable[str] | None = None, daily_digest: bool | None = None) -> None:
    """Which kinds `actor` gets by e-mail (every other registered kind: not), which in the app (None:
    unchanged), whether the kinds that allow it come as one daily digest e-mail (None: unchanged), and
    the language of e-mails."""
    known = {k.key for k in kinds()}
    wanted = _known("email_kinds", email_kinds, known)
    in_app = _known("app_kinds", app_kinds, known) if app_kinds is not None else None
    languages = {code for code, _name in settings.LANGUAGES}
    if language is not None and language not in languages | {""}:
        message = _("Choose one of the languages offered.")
        raise ApplicationError(ErrorCode.INVALID, message, fields={"language": [message]})
    before = sorted(k for k, email in email_choices(actor).items() if email)
    app_before = app_choices(actor)
    for key in known:
        NotificationSetting.objects.update_or_create(user=actor, kind=key, defaults={
            "email": key in wanted, "in_app": key in in_app if in_app is not None else app_before[key]})
    changes = {}
    if before != sorted(wanted):
        changes["email_kinds"] = [before, sorted(wanted)]
    if in_app is not None and sorted(k for k, on in app_before.items() if on) != sorted(in_app):
        changes["app_kinds"] = [sorted(k for k, on in app_before.items() if on), sorted(in_app)]
    if daily_digest is not None and daily_digest != takes_digest(actor):
        EmailDigest.objects.update_or_create(user=actor, defaults={"daily": daily_digest})
        changes["daily_digest"] = [not daily_digest, daily_digest]
    if language is not None and language != actor.language:
        changes["language"] = [actor.language, language]
        get_user_model().objects.filter(pk=actor.pk).update(language=language)
        actor.language = language
    if changes:
        events.notification_settings_updated_event(actor=actor, changes=changes)
