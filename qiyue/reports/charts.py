"""The dashboard's charts: contracts by status, signed amount per month over the last 12 months (one
series per currency: amounts in different currencies are never added up) and contracts expiring
per month over the next 12. Each bar links to the contracts list filtered to exactly what it counts.

The figures come from the trigger-maintained ContractStat and ContractMonthStat rows, so the charts
cost two small queries whatever the number of contracts.
"""

import calendar
import datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from qiyue.contracts.models import Status
from qiyue.contracts.selectors import LIVE_STATUSES, expiring_by_month, months_around, signed_by_month

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
