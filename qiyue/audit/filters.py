import django_filters
from django.utils.translation import gettext_lazy as _

from qiyue.core.validators import MAX_ID

from .models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    """Shared by the audit log page, its CSV export and the API."""

    actor = django_filters.NumberFilter(label=_("actor id"), field_name="actor_id", min_value=1, max_value=MAX_ID)
    actor_name = django_filters.CharFilter(label=_("actor"), field_name="actor_name", lookup_expr="icontains")
    action = django_filters.CharFilter(label=_("action"), method="filter_action")
    kind = django_filters.ChoiceFilter(label=_("kind"), choices=AuditEvent.Kind.choices)
    outcome = django_filters.ChoiceFilter(label=_("outcome"), choices=AuditEvent.Outcome.choices)
    target_type = django_filters.CharFilter(label=_("object type"))
    target_id = django_filters.CharFilter(label=_("object id"))
    contract = django_filters.NumberFilter(label=_("contract id"), field_name="contract_id", min_value=1, max_value=MAX_ID)
    customer = django_filters.NumberFilter(label=_("customer id"), field_name="customer_id", min_value=1, max_value=MAX_ID)
    since = django_filters.IsoDateTimeFilter(label=_("from"), field_name="occurred_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(label=_("until"), field_name="occurred_at", lookup_expr="lte")
    date_from = django_filters.DateFilter(label=_("from date"), field_name="occurred_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(label=_("to date"), field_name="occurred_at", lookup_expr="date__lte")

    class Meta:
        model = AuditEvent
        fields = []

    def filter_action(self, queryset, name, value):
        value = value.strip()
        # "contract." matches every contract action; a full code matches exactly.
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value) if value else queryset
