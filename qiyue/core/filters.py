"""Filters shared by the lists' filter sets."""

import django_filters
import django_filters.constants
from django.db.models import F
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext_lazy


def _descending(label) -> str:
    return gettext("%s (descending)") % label


descending = lazy(_descending, str)


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's OrderingFilter, whose "(descending)" labels are translated when a page shows them.
    django-filter formats them once, when the filter set's class is made (at import, in the default
    language), so an English page listed "name" next to "名称（降序）"."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", pgettext_lazy("sort", "Default order"))
        super().__init__(*args, **kwargs)

    def build_choices(self, fields, labels):
        ascending = [(param, labels.get(field, param)) for field, param in fields.items()]
        return [choice for param, label in ascending
                for choice in ((param, label), (f"-{param}", labels.get(f"-{param}", descending(label))))]


class GroupedOrderingFilter(OrderingFilter):
    """An OrderingFilter where sorting by some fields first groups the rows by another: `grouped` maps
    a field to the field its rows are grouped by (amounts by their currency, so a list sorted by amount
    never ranks 100 USD among 100 CNY as if they were the same money)."""

    def __init__(self, *args, grouped: dict[str, str] | None = None, nulls_last: frozenset[str] = frozenset(),
                 **kwargs):
        self.grouped = grouped or {}
        # Fields whose empty values sort last either way (on SQLite and PostgreSQL alike).
        self.nulls_last = nulls_last
        super().__init__(*args, **kwargs)

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        name = value.lstrip("-")
        if name in self.nulls_last:
            return F(name).desc(nulls_last=True) if value.startswith("-") else F(name).asc(nulls_last=True)
        group = self.grouped.get(name)
        return [group, value] if group else value

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        ordering = []
        for param in value:
            if param in django_filters.constants.EMPTY_VALUES:
                continue
            field = self.get_ordering_value(param)
            ordering.extend(field if isinstance(field, list) else [field])
        return qs.order_by(*ordering)
