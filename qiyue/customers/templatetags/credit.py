"""The customer's credit indicator as a badge whose title explains it (qiyue.customers.credit)."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import credit as rules

register = template.Library()
STYLES = {"good": "text-bg-success", "watch": "text-bg-warning", "risk": "text-bg-danger",
          "none": "text-bg-light border"}


def explanation(result: rules.Credit) -> str:
    parts = []
    if result.days_overdue:
        parts.append(ngettext("Oldest unpaid installment overdue %(days)d day.",
                              "Oldest unpaid installment overdue %(days)d days.", result.days_overdue)
                     % {"days": result.days_overdue})
    else:
        parts.append(_("Nothing overdue."))
    if result.paid:
        parts.append(ngettext("%(on_time)d of %(paid)d installment paid on time (%(share)d%%).",
                              "%(on_time)d of %(paid)d installments paid on time (%(share)d%%).", result.paid)
                     % {"on_time": result.paid_on_time, "paid": result.paid, "share": result.on_time_share})
    else:
        parts.append(_("No installment paid yet."))
    parts.append(_("Risk: overdue more than 90 days, or under half paid on time. Watch: anything overdue, or "
                   "under 80% paid on time."))
    return " ".join(parts)


@register.inclusion_tag("customers/_credit_badge.html")
def credit_badge(customer, explain: bool = False):
    result = rules.of(customer, timezone.localdate())
    return {"credit": result, "style": STYLES[result.level], "title": explanation(result), "explain": explain}
