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
from .models import EmailState, Notification, NotificationSetting

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
        from .delivery import schedule_email

        mailed = {pk for pk in emails_wanted(users, kind) if users[pk].email}
        now = timezone.now()
        rows = Notification.objects.bulk_create([
            Notification(recipient_id=pk, kind=kind, params=data, url=url[:300],
                         email_state=EmailState.PENDING if pk in mailed else EmailState.NONE,
                         email_next_at=now if pk in mailed else None)
            for pk in sorted(users)])
        for row in rows:  # SQLite and PostgreSQL return the new ids
            if row.email_state == EmailState.PENDING:
                schedule_email(row.pk)

    transaction.on_commit(create)


def notify_now(entries: Iterable[tuple[Any, str, Mapping[str, Any], str]]) -> list[Notification]:
    """Create notifications inside the current transaction (`entries`: (recipient, kind, params, url);
    inactive recipients left out) and queue their e-mails once it commits: for a writer that records
    what it sent in the same transaction (the reminder scan), so a crash can neither lose nor repeat
    one. Returns the rows created, in the order given."""
    entries = [e for e in entries if e[0] is not None and e[0].is_active]
    if not entries:
        return []
    wanted: dict[str, set[int]] = {}
    for user, kind, _params, _url in entries:
        if get_kind(kind) is None:
            raise ValueError(f"unknown notification kind {kind!r}")
        wanted.setdefault(kind, set()).add(user.pk)
    mailed = {kind: {pk for pk in emails_wanted(ids, kind)} for kind, ids in wanted.items()}
    now = timezone.now()
    rows = []
    for user, kind, params, url in entries:
        mail = user.pk in mailed[kind] and bool(user.email)
        rows.append(Notification(recipient_id=user.pk, kind=kind, params=_clean_params(params or {}), url=url[:300],
                                 email_state=EmailState.PENDING if mail else EmailState.NONE,
                                 email_next_at=now if mail else None))
    rows = Notification.objects.bulk_create(rows)
    pending = [row.pk for row in rows if row.email_state == EmailState.PENDING]

    def queue():
        from .delivery import schedule_email

        for pk in pending:
            schedule_email(pk)

    if pending:
        transaction.on_commit(queue)
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


@transaction.atomic
def notification_settings_update(*, actor, email_kinds: Iterable[str], language: str | None = None) -> None:
    """Which kinds `actor` gets by e-mail (every other registered kind: not), and the language of it."""
    known = {k.key for k in kinds()}
    wanted = set(email_kinds)
    unknown = sorted(wanted - known)
    if unknown:
        message = _("Unknown kind of notification: %(kinds)s.") % {"kinds": ", ".join(unknown)}
        raise ApplicationError(ErrorCode.INVALID, message, fields={"email_kinds": [message]})
    languages = {code for code, _name in settings.LANGUAGES}
    if language is not None and language not in languages | {""}:
        message = _("Choose one of the languages offered.")
        raise ApplicationError(ErrorCode.INVALID, message, fields={"language": [message]})
    before = sorted(k for k, email in email_choices(actor).items() if email)
    for key in known:
        NotificationSetting.objects.update_or_create(user=actor, kind=key, defaults={"email": key in wanted})
    changes = {}
    if before != sorted(wanted):
        changes["email_kinds"] = [before, sorted(wanted)]
    if language is not None and language != actor.language:
        changes["language"] = [actor.language, language]
        get_user_model().objects.filter(pk=actor.pk).update(language=language)
        actor.language = language
    if changes:
        events.notification_settings_updated_event(actor=actor, changes=changes)
