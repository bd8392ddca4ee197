"""The kinds of notification reminders send (see qiyue.notifications): one per date watched. A
reminder's params keep the date and how far it was from the day it was sent (`days`), so its text
reads the same whenever it is opened, in the reader's language."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from qiyue.notifications.kinds import register_kind

from .models import Subject


def when(days: int) -> str:
    """How far the date was from the day the reminder went out, in the active language."""
    if days == 0:
        return str(_("today"))
    if days > 0:
        return ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}
    return ngettext("%(count)d day ago", "%(count)d days ago", -days) % {"count": -days}


def _prepare(params: dict) -> dict:
    try:
        days = int(params.get("days", 0))
    except (TypeError, ValueError):
        days = 0
    return {**params, "when": when(days)}


KINDS = {
    Subject.CONTRACT_EXPIRY: register_kind(
        "reminder.contract_expiry", label=_("Reminder: a contract expires"),
        message=_("%(number)s “%(title)s” expires on %(date)s (%(when)s)"), prepare=_prepare, digest=True),
    Subject.NOTICE_DEADLINE: register_kind(
        "reminder.notice_deadline", label=_("Reminder: a renewal notice deadline"),
        message=_("The notice deadline of %(number)s “%(title)s” is %(date)s (%(when)s); after it, the "
                  "contract's renewal terms apply"), prepare=_prepare, digest=True),
    Subject.INSTALLMENT_DUE: register_kind(
        "reminder.installment_due", label=_("Reminder: an installment falls due or is overdue"),
        message=_("Installment %(position)s of %(number)s “%(title)s” (%(amount)s still owed) is due on "
                  "%(date)s (%(when)s)"), prepare=_prepare, digest=True),
    Subject.OBLIGATION_DUE: register_kind(
        "reminder.obligation_due", label=_("Reminder: an obligation falls due or is late"),
        message=_("“%(description)s” of %(number)s “%(title)s” is due on %(date)s (%(when)s)"), prepare=_prepare, digest=True),
    Subject.REVIEW_DUE: register_kind(
        "reminder.review_due", label=_("Reminder: a contract's periodic review falls due"),
        message=_("The periodic review of %(number)s “%(title)s” is due on %(date)s (%(when)s)"), prepare=_prepare,
        digest=True),
    Subject.APPROVAL_WAITING: register_kind(
        "reminder.approval_waiting", label=_("Reminder: an approval task has waited too long"),
        message=_("%(number)s “%(title)s” has waited for %(approver)s's approval since %(date)s (%(when)s)"),
        prepare=_prepare, digest=True),
}
