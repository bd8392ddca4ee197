"""The documents API's list filters. An id that is no whole number, below 1 or past the largest
64-bit key is refused (400 `invalid` naming the filter): never ignored, which would widen the list,
and never sent to the database, where SQLite overflows."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from qiyue.core.validators import MAX_ID

from .models import Document, DocumentKind, PaperLoan, PaperOriginal


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number from 1 to MAX_ID (NumberFilter alone takes "1.5")."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class DocumentFilter(django_filters.FilterSet):
    contract = IdFilter(label=_("contract id"), field_name="contract_id")
    customer = IdFilter(label=_("customer id"), field_name="customer_id")
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=DocumentKind.choices)

    class Meta:
        model = Document
        fields = []


class PaperOriginalFilter(django_filters.FilterSet):
    contract = IdFilter(label=_("contract id"), field_name="contract_id")

    class Meta:
        model = PaperOriginal
        fields = []


class PaperLoanFilter(django_filters.FilterSet):
    contract = IdFilter(label=_("contract id"), field_name="original__contract_id")

    class Meta:
        model = PaperLoan
        fields = []
