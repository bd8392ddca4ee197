"""What every chart of the dashboard shares: the series colours and the months on an axis."""

import calendar
import datetime

from django.utils import formats
from django.utils.translation import pgettext

SERIES_COLORS = ["#0d6efd", "#fd7e14", "#198754", "#6f42c1", "#d63384", "#20c997"]


def month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def month_label(month: datetime.date) -> str:
    # Translators: a month on a chart's axis, as a Django date format ("Y年n月" in Chinese).
    return formats.date_format(month, pgettext("chart month", "M Y"))
