from django.db.models import QuerySet

from qiyue.core.selectors import get_or_404

from .kinds import render
from .models import Notification

# The navigation bar shows at most this ("99+" beyond).
UNREAD_SHOWN = 99


def notifications_of(*, user, unread_only: bool = False) -> QuerySet:
    rows = Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")
    return rows.filter(read_at__isnull=True) if unread_only else rows


def notification_get(*, user, pk) -> Notification:
    """One of the user's own notifications (anyone else's is not found)."""
    return get_or_404(Notification.objects.filter(recipient=user), pk)


def unread_count(*, user) -> int:
    """Capped: counting a thousand unread rows to show "99+" is wasted work."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True)[:UNREAD_SHOWN + 1].count()


def with_text(notifications) -> list[Notification]:
    """The notifications with `text` in the active language."""
    rows = list(notifications)
    for row in rows:
        row.text = render(row.kind, row.params)
    return rows
