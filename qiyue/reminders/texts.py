"""How a date reads in the calendar, the feed and the API, in the active language."""

from django.utils.translation import gettext as _

from . import dates
from .models import Subject


def summaries() -> dict[str, str]:
    """Each kind of date's title, in the active language (%-placeholders filled per entry)."""
    return {
        Subject.CONTRACT_EXPIRY: _("Expires: %(number)s %(title)s"),
        Subject.NOTICE_DEADLINE: _("Notice deadline: %(number)s %(title)s"),
        Subject.INSTALLMENT_DUE: _("Payment due: %(number)s installment %(position)s, %(amount)s"),
        Subject.OBLIGATION_DUE: _("Obligation due: %(number)s %(description)s"),
        Subject.APPROVAL_WAITING: _("Waiting for approval: %(number)s %(title)s"),
        Subject.REVIEW_DUE: _("Review due: %(number)s %(title)s"),
    }


def summary(entry: dates.DateEntry, texts: dict[str, str] | None = None) -> str:
    """The entry's title in the active language (`texts`: summaries() read once for many entries)."""
    text = (texts or summaries())[entry.subject]
    return text % {"number": entry.number, "title": entry.title, "amount": entry.amount, **entry.extra}
