"""Filters shared by the lists' filter sets."""

import django_filters
from django.utils.functional import lazy
from django.utils.translation import gettext


def _descending(label) -> str:
    return gettext("%s (descending)") % label


descending = lazy(_descending, str)


class OrderingFilter(django_filters.OrderingFilter):
    """django-filter's OrderingFilter, whose "(descending)" labels are translated when a page shows them.
    django-filter formats them once, when the filter set's class is made (at import, in the default
    language), so an English page listed "name" next to "名称（降序）"."""

    def build_choices(self, fields, labels):
        ascending = [(param, labels.get(field, param)) for field, param in fields.items()]
        return [choice for param, label in ascending
                for choice in ((param, label), (f"-{param}", labels.get(f"-{param}", descending(label))))]
