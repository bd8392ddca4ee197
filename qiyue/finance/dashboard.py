"""The dashboard's receivables panel (a template tag, qiyue.finance.templatetags.finance): what the
contracts a user sees still owe per currency, the aging and what falls due per month, each amount and bar
a link to the receivables page filtered to exactly the installments it adds up. From the maintained
ReceivableStat rows: one query whatever the number of installments."""

import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from qiyue.contracts.models import UNDATED
from qiyue.contracts.selectors import BAND_MONTHS, months_around
from qiyue.core.charts import SERIES_COLORS, month_end, month_label

from . import money, receivables
from .receivable_pages import BUCKET_LABELS


def _receivables_url(**params) -> str:
    return reverse("finance:receivables") + "?" + urlencode(params)


# The aging buckets' colours: not yet due in green, then warmer the longer it is overdue.
AGING_COLORS = {"not_due": "#198754", "d1_30": "#ffc107", "d31_60": "#fd7e14", "d61_90": "#dc3545",
                "over_90": "#842029"}
DUE_MONTHS = BAND_MONTHS  # the months the summary keeps apart


def receivable_charts(*, user, today: datetime.date) -> dict:
    """What the contracts `user` sees still owe, per currency: outstanding and overdue, the aging as of
    `today` and what falls due per month (overdue first, this month and the next five, later, no due date
    yet), from the maintained ReceivableStat rows (one query)."""
    owed = receivables.summary(user=user, today=today)
    currencies = [entry.currency for entry in owed]
    months = months_around(today, ahead=DUE_MONTHS - 1)
    later = month_end(months[-1]) + datetime.timedelta(days=1)
    # The due-month columns: (key, label, first day, last day, colour).
    columns = [("overdue", str(_("Overdue")), None, None, AGING_COLORS["d61_90"])]
    columns += [(month.isoformat(), month_label(month), max(month, today), month_end(month), "#0d6efd")
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
