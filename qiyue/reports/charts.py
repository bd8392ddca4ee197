"""The dashboard's charts: contracts by status, signed amount per month over the last 12 months (one
series per currency: amounts in different currencies are never added up) and contracts expiring per
month over the next 12. Each bar links to the contracts list filtered to exactly what it counts. (The
receivables charts are finance's: qiyue/finance/dashboard.py.)

The figures come from the trigger-maintained ContractStat and ContractMonthStat rows, so the charts
cost two small queries whatever the number of contracts.
"""

import datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from qiyue.contracts.models import Status
from qiyue.contracts.selectors import LIVE_STATUSES, expiring_by_month, months_around, signed_by_month
from qiyue.core.charts import SERIES_COLORS, month_end, month_label

# The status badges' colours (qiyue.css), so a bar and its badge match.
STATUS_COLORS = {
    Status.DRAFT: "#6c757d", Status.IN_REVIEW: "#087990", Status.APPROVED: "#0d6efd", Status.SIGNED: "#6f42c1",
    Status.ACTIVE: "#198754", Status.COMPLETED: "#13795b", Status.EXPIRED: "#ffc107", Status.TERMINATED: "#dc3545",
    Status.CANCELLED: "#212529",
}
MONTHS = 12


def _list_url(**params) -> str:
    return reverse("contracts:list") + "?" + urlencode(params, doseq=True)


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
                signing_date_before=month_end(month).isoformat(), ordering="signing_date")})
        signed_rows.append({"month": month, "label": month_label(month), "cells": cells})

    ahead = months_around(today, ahead=MONTHS - 1)
    expiring_rows = [{"month": month, "label": month_label(month), "count": count, "url": _list_url(
        status=list(LIVE_STATUSES), expiry_date_after=month.isoformat(),
        expiry_date_before=month_end(month).isoformat(), ordering="expiry_date")}
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

