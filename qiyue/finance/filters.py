"""Filters of the finance lists, shared by the API (and the pages as they come)."""

import django_filters
from django.utils.translation import gettext_lazy

from qiyue.documents.filters import IdFilter

from .models import Invoice, InvoiceKind, InvoiceStatus, Payment, PaymentStatus


class PaymentFilter(django_filters.FilterSet):
    """The payments list's filters. The rows are the user's already: an id names a row, never widens them."""

    contract = IdFilter(label=gettext_lazy("contract id"), field_name="contract_id")
    customer = IdFilter(label=gettext_lazy("customer id"), field_name="customer_id")
    status = django_filters.ChoiceFilter(label=gettext_lazy("status"), choices=PaymentStatus.choices)
    received_from = django_filters.DateFilter(label=gettext_lazy("received from"), field_name="received_on",
                                              lookup_expr="gte")
    received_to = django_filters.DateFilter(label=gettext_lazy("received until"), field_name="received_on",
                                            lookup_expr="lte")

    class Meta:
        model = Payment
        fields = []


class InvoiceFilter(django_filters.FilterSet):
    """The invoices list's filters (the API and finance's invoices page)."""

    contract = IdFilter(label=gettext_lazy("contract id"), field_name="contract_id")
    customer = IdFilter(label=gettext_lazy("customer id"), field_name="customer_id")
    status = django_filters.ChoiceFilter(label=gettext_lazy("status"), choices=InvoiceStatus.choices)
    kind = django_filters.ChoiceFilter(label=gettext_lazy("invoice type"), choices=InvoiceKind.choices)
    number = django_filters.CharFilter(label=gettext_lazy("invoice number"), field_name="number", max_length=20)
    issued_from = django_filters.DateFilter(label=gettext_lazy("issued from"), field_name="issued_on",
                                            lookup_expr="gte")
    issued_to = django_filters.DateFilter(label=gettext_lazy("issued until"), field_name="issued_on",
                                          lookup_expr="lte")

    class Meta:
        model = Invoice
        fields = []
