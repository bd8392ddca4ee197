"""The dashboard's charts: contracts by status, signed amount per month over the last 12 months (one
series per currency: amounts in different currencies are never added up), contracts expiring per month
over the next 12, and the receivables: their aging and what falls due per month. Each bar links to the
list filtered to exactly what it counts (the contracts list, or finance's receivables page).

The figures come from the trigger-maintained ContractStat, ContractMonthStat and ReceivableStat rows, so
the charts cost a few small queries whatever the number of contracts and installments.
"""

import calendar
import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from qiyue.contracts.models import UNDATED, Status
from qiyue.contracts.selectors import (
    LIVE_STATUSES,
    expiring_by_month,
    months_around,
    signed_by_month,
)
from qiyue.finance import money, receivables
from qiyue.finance.receivable_pages import BUCKET_LABELS

# The status badges' colours (qiyue.css), so a bar and its badge match.
STATUS_COLORS = {
    Status.DRAFT: "#6c757d", Status.IN_REVIEW: "#087990", Status.APPROVED: "#0d6efd", Status.SIGNED: "#6f42c1",
    Status.ACTIVE: "#198754", Status.COMPLETED: "#13795b", Status.EXPIRED: "#ffc107", Status.TERMINATED: "#dc3545",
    Status.CANCELLED: "#212529",
}
SERIES_COLORS = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#d63384", "#20c997"]
MONTHS = 12


def _list_url(**params) -> str:
    return reverse("contracts:list") + "?" + urlencode(params, doseq=True)


def _receivables_url(**params) -> str:
    return reverse("finance:receivables") + "?" + urlencode(params)


def _month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _month_label(month: datetime.date) -> str:
    # Translators: a month on a chart's axis, as a Django date format ("Y年n月" in Chinese).
    return formats.date_format(month, pgettext("chart month", "M Y"))


def dashboard_charts(*, user, today: datetime.date, by_status: list[dict]) -> dict:
    """The three charts' data, for the page's tables and (as JSON) for the chart library."""
    status_rows = [{**row, "color": STATUS_COLORS[row["status"]],
                    "url": _list_url(status=row["status"])} for row in by_status]

    past = months_around(today, back=MONTHS - 1)
    signed = signed_by_month(user=user, months=past)
    # The currency with the largest amount first: it is the one shown when the chart opens.
    currencies = sorted(signed, key=lambda c: -sum(cell["amount"] for cell in signed[c].values()))
    signed_rows = []
    for month in past:
        cells = []
        for currency in currencies:
            cell = signed[currency].get(month, {"count": 0, "amount": 0})
            cells.append({**cell, "currency": currency, "url": _list_url(
                currency=currency, signing_date_after=month.isoformat(),
                signing_date_before=_month_end(month).isoformat(), ordering="signing_date")})
        signed_rows.append({"month": month, "label": _month_label(month), "cells": cells})

    ahead = months_around(today, ahead=MONTHS - 1)
    expiring_rows = [{"month": month, "label": _month_label(month), "count": count, "url": _list_url(
        status=list(LIVE_STATUSES), expiry_date_after=month.isoformat(),
        expiry_date_before=_month_end(month).isoformat(), ordering="expiry_date")}
        for month, count in expiring_by_month(user=user, months=ahead).items()]

    data = {
        "locale": "ZH" if (get_language() or "").startswith("zh") else "EN",
        "status": {"labels": [str(row["label"]) for row in status_rows],
                   "values": [row["count"] for row in status_rows],
                   "colors": [row["color"] for row in status_rows],
                   "links": [row["url"] for row in status_rows],
                   "name": _("Contracts")},
        "signed": {"labels": [row["label"] for row in signed_rows],
                   "series": [{"name": currency, "color": SERIES_COLORS[i % len(SERIES_COLORS)],
                               "values": [float(row["cells"][i]["amount"]) for row in signed_rows],
                               "counts": [row["cells"][i]["count"] for row in signed_rows],
                               "links": [row["cells"][i]["url"] for row in signed_rows]}
                              for i, currency in enumerate(currencies)],
                   "count_label": _("Contracts")},
        "expiring": {"labels": [row["label"] for row in expiring_rows],
                     "values": [row["count"] for row in expiring_rows],
                     "links": [row["url"] for row in expiring_rows],
                     "name": _("Contracts")},
    }
    return {"status_rows": status_rows, "signed_rows": signed_rows, "signed_currencies": currencies,
            "expiring_rows": expiring_rows, "chart_data": data,
            "signed_any": bool(currencies), "expiring_any": any(row["count"] for row in expiring_rows)}


# The aging buckets' colours: not yet due in green, then warmer the longer it is overdue.
AGING_COLORS = {"not_due": "#198754", "d1_30": "#ffc107", "d31_60": "#fd7e14", "d61_90": "#dc3545",
                "over_90": "#842029"}
DUE_MONTHS = 6


def receivable_charts(*, user, today: datetime.date) -> dict:
    """What the contracts `user` sees still owe, per currency: outstanding and overdue, the aging as of
    `today` and what falls due per month (overdue first, this month and the next five, later, no due date
    yet), from the maintained ReceivableStat rows (one query)."""
    owed = receivables.summary(user=user, today=today)
    currencies = [entry.currency for entry in owed]
    months = months_around(today, ahead=DUE_MONTHS - 1)
    later = _month_end(months[-1]) + datetime.timedelta(days=1)
    # The due-month columns: (key, label, first day, last day, colour).
    columns = [("overdue", str(_("Overdue")), None, None, AGING_COLORS["d61_90"])]
    columns += [(month.isoformat(), _month_label(month), max(month, today), _month_end(month), "#0d6efd")
                for month in months]
    columns += [("later", str(_("Later")), later, None, "#6ea8fe"),
                ("undated", str(BUCKET_LABELS["undated"]), None, None, "#adb5bd")]

    summary = []
    aging_rows = [{"key": key, "label": str(BUCKET_LABELS[key]), "color": AGING_COLORS[key], "cells": []}
                  for key in money.AGING_BUCKETS]
    due_rows = [{"key": key, "label": label, "color": color, "cells": []} for key, label, _f, _l, color in columns]
    for entry in owed:
        currency, buckets, outstanding, overdue = entry.currency, entry.aging, entry.outstanding, entry.overdue
        by_column = dict.fromkeys((row["key"] for row in due_rows), Decimal("0"))
        for due_date, amount, _n in entry.by_due_date:
            if due_date == UNDATED:
                by_column["undated"] += amount
            elif due_date < today:
                by_column["overdue"] += amount
            elif due_date >= later:
                by_column["later"] += amount
            else:
                by_column[datetime.date(due_date.year, due_date.month, 1).isoformat()] += amount
        summary.append({"currency": currency, "outstanding": outstanding, "overdue": overdue,
                        "share": round(overdue * 100 / outstanding) if outstanding else 0,
                        "url": _receivables_url(currency=currency),
                        "overdue_url": _receivables_url(currency=currency, bucket="overdue")})
        for row in aging_rows:
            row["cells"].append({"currency": currency, "amount": buckets[row["key"]],
                                 "url": _receivables_url(currency=currency, bucket=row["key"])})
        for row, (key, _label, first, last, _color) in zip(due_rows, columns, strict=True):
            params = {"currency": currency, "bucket": key}
            if first:
                params = {"currency": currency, "bucket": "not_due", "due_after": first.isoformat()}
                if last:
                    params["due_before"] = last.isoformat()
            row["cells"].append({"currency": currency, "amount": by_column[key], "url": _receivables_url(**params)})

    def chart(rows):
        return {"labels": [row["label"] for row in rows], "series": [
            {"name": currency, "color": SERIES_COLORS[i % len(SERIES_COLORS)],
             "values": [float(row["cells"][i]["amount"]) for row in rows],
             "colors": [row["color"] for row in rows], "links": [row["cells"][i]["url"] for row in rows]}
            for i, currency in enumerate(currencies)]}

    return {
        "receivable_currencies": currencies,
        "receivable_summary": summary,
        "receivable_aging_rows": aging_rows,
        "receivable_due_rows": due_rows,
        "receivables_any": bool(currencies),
        "receivable_chart_data": {"aging": chart(aging_rows), "due": chart(due_rows)},
    }
