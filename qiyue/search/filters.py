"""The search's filters: the contract list's ContractFilter (same names, same validation) with the
query `q` and the kind of hit, minus what the index cannot answer (ordering, tags, currency, parent)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from qiyue.contracts.filters import ContractFilter
from qiyue.contracts.models import Contract
from qiyue.core.search_kinds import kind_choices

UNSUPPORTED = ("ordering", "tag", "currency", "parent")


class SearchFilter(ContractFilter):
    type = django_filters.MultipleChoiceFilter(label=_("type"), choices=kind_choices,
                                               method="filter_nothing")

    def __init__(self, data=None, *, user=None, **kwargs):
        kwargs.setdefault("queryset", Contract.objects.none())
        super().__init__(data, user=user, **kwargs)
        for name in UNSUPPORTED:
            self.filters.pop(name, None)
        # Only customers the user may see can be chosen (ContractFilter's rule), by name.
        self.filters["customer"].queryset = self.filters["customer"].queryset.order_by("name")

    def filter_nothing(self, queryset, name, value):
        return queryset


def search_filters(user, data, *, form_needed: bool = False) -> tuple[str, dict, object]:
    """(query, filters for selectors.search, the bound form) from request parameters; invalid
    filters are dropped (their errors stay on the form)."""
    if not form_needed and not any(name in data for name in SearchFilter.base_filters if name != "q"):
        # Only a query: skip building the filter form (the common case, and not free).
        return (data.get("q") or "").strip(), {}, _NoFilters()
    form = SearchFilter(data, user=user).form
    form.is_valid()
    cleaned = {name: value for name, value in getattr(form, "cleaned_data", {}).items()
               if value not in (None, "", []) and name not in form.errors}
    q = (cleaned.pop("q", "") or "").strip()
    return q, cleaned, form


class _NoFilters:
    errors: dict = {}
