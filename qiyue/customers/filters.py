import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.accounts.models import Team, User
from qiyue.core.filters import OrderingFilter
from qiyue.core.permissions import visible
from qiyue.core.text import normalize_company_name
from qiyue.core.validators import MAX_ID

from . import credit as credit_rules
from .models import Communication, Contact, Customer, CustomerLevel, Industry


def tag_q(field: str, tag: str) -> Q:
    return (Q(**{field: tag}) | Q(**{f"{field}__startswith": f"{tag},"})
            | Q(**{f"{field}__endswith": f",{tag}"}) | Q(**{f"{field}__contains": f",{tag},"}))


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    industry = django_filters.ChoiceFilter(label=_("industry"), choices=Industry.choices)
    level = django_filters.ChoiceFilter(label=_("level"), choices=CustomerLevel.choices)
    owner = django_filters.ModelChoiceFilter(label=_("owner"), queryset=User.objects.filter(is_active=True))
    team = django_filters.ModelChoiceFilter(label=_("team"), queryset=Team.objects.all())
    tag = django_filters.CharFilter(label=_("tag"), method="filter_tag")
    credit = django_filters.ChoiceFilter(label=_("credit"), choices=credit_rules.LEVELS, method="filter_credit")
    ordering = OrderingFilter(
        label=_("Sort by"),
        fields=(("name", "name"), ("created_at", "created_at"), ("level", "level"), ("industry", "industry")),
        field_labels={"name": _("name"), "created_at": _("created at"), "level": _("level"),
                      "industry": _("industry")},
    )

    class Meta:
        model = Customer
        fields = ["q", "industry", "level", "owner", "team", "tag", "credit"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        key = normalize_company_name(value)
        q = Q(name__icontains=value) | Q(credit_code=value.upper())
        if key:
            q |= Q(name_normalized__contains=key)
        return queryset.filter(q)

    def filter_credit(self, queryset, name, value):
        return credit_rules.filter_level(queryset, value, timezone.localdate()) if value else queryset

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tag_q("tags", value.strip())) if value.strip() else queryset


class ContactFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", min_value=1, max_value=MAX_ID)
    q = django_filters.CharFilter(method="filter_q")

    class Meta:
        model = Contact
        fields = ["customer", "q"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(phone__icontains=value) | Q(email__icontains=value))


class CommunicationFilter(django_filters.FilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", min_value=1, max_value=MAX_ID)
    # Only a contract the user may see (set in __init__): an id of any other is as unknown as a
    # missing one (400), never a way to list the communications linked to it.
    contract = django_filters.ModelChoiceFilter(queryset=Communication.objects.none())
    channel = django_filters.ChoiceFilter(choices=Communication.Channel.choices)
    occurred_after = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_before = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte")

    class Meta:
        model = Communication
        fields = ["customer", "contract", "channel"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        user = user if user is not None else getattr(request, "user", None)
        # The contract model by the relation: customers sit below contracts and do not import them.
        contracts = Communication._meta.get_field("contract").related_model.objects.live()
        self.filters["contract"].queryset = visible(user, contracts)
