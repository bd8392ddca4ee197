import datetime

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiyue.accounts.models import Team, User
from qiyue.accounts.selectors import filter_owners, filter_teams
from qiyue.core.filters import GroupedOrderingFilter
from qiyue.core.permissions import visible, visible_parts
from qiyue.core.validators import MAX_ID
from qiyue.customers.filters import tag_q
from qiyue.customers.models import Customer

from . import custom_fields
from .models import Contract, ContractType, FieldKind, Nature, SigningForm, Status, SubjectMatter


class ContractFilter(django_filters.FilterSet):
    """One FilterSet for the HTML list, the API, exports and (later) search."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    status = django_filters.MultipleChoiceFilter(label=_("status"), choices=Status.choices, distinct=False)
    nature = django_filters.MultipleChoiceFilter(label=_("nature"), choices=Nature.choices, distinct=False)
    subject_matter = django_filters.MultipleChoiceFilter(label=_("subject matter"), choices=SubjectMatter.choices, distinct=False)
    signing_form = django_filters.MultipleChoiceFilter(label=_("signing form"), choices=SigningForm.choices, distinct=False)
    # Customers and framework agreements: only those the user may see (set in __init__), so an id of
    # any other is as unknown as a missing one (400), never a way to list rows linked to it.
    customer = django_filters.ModelChoiceFilter(label=_("customer"), queryset=Customer.objects.none())
    owner = django_filters.ModelChoiceFilter(label=_("owner"), queryset=User.objects.all())
    team = django_filters.ModelChoiceFilter(label=_("team"), queryset=Team.objects.all())
    parent = django_filters.ModelChoiceFilter(label=_("framework agreement"), queryset=Contract.objects.none())
    contract_type = django_filters.ModelChoiceFilter(label=_("contract type"), queryset=ContractType.objects.all(),
                                                     method="filter_contract_type")
    currency = django_filters.CharFilter(label=_("currency"), lookup_expr="iexact")
    tag = django_filters.CharFilter(label=_("tag"), method="filter_tag")
    signing_date_after = django_filters.DateFilter(label=_("signed from"), field_name="signing_date",
                                                   lookup_expr="gte")
    signing_date_before = django_filters.DateFilter(label=_("signed until"), field_name="signing_date",
                                                    lookup_expr="lte")
    effective_date_after = django_filters.DateFilter(label=_("effective from"), field_name="effective_date",
                                                     lookup_expr="gte")
    effective_date_before = django_filters.DateFilter(label=_("effective until"), field_name="effective_date",
                                                      lookup_expr="lte")
    expiry_date_after = django_filters.DateFilter(label=_("expires from"), field_name="expiry_date",
                                                  lookup_expr="gte")
    expiry_date_before = django_filters.DateFilter(label=_("expires until"), field_name="expiry_date",
                                                   lookup_expr="lte")
    amount_min = django_filters.NumberFilter(label=_("amount from"), field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(label=_("amount up to"), field_name="amount", lookup_expr="lte")
    overdue = django_filters.ChoiceFilter(label=_("overdue"), method="filter_overdue", choices=(
        ("yes", _("has overdue receivables")), ("over_90", _("overdue more than 90 days")),
        ("no", _("nothing overdue"))))
    ordering = GroupedOrderingFilter(
        label=_("Sort by"),
        grouped={"amount": "currency", "outstanding_amount": "currency"},
        nulls_last=frozenset({"unpaid_since"}),
        fields=(
            ("created_at", "created_at"), ("number", "number"), ("title", "title"), ("amount", "amount"),
            ("signing_date", "signing_date"), ("effective_date", "effective_date"),
            ("expiry_date", "expiry_date"), ("status", "status"), ("customer__name", "customer"),
            ("outstanding_amount", "outstanding"), ("unpaid_since", "unpaid_since"),
        ),
        field_labels={
            "created_at": _("created at"), "number": _("contract number"), "title": _("title"),
            "amount": _("amount, per currency"), "signing_date": _("signing date"), "effective_date": _("effective date"),
            "expiry_date": _("expiry date"), "status": _("status"), "customer__name": _("customer"),
            "outstanding_amount": _("outstanding, per currency"),
            "unpaid_since": _("oldest unpaid due date (longest overdue first)"),
        },
    )

    class Meta:
        model = Contract
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        """`user` (or the request's user: the API passes the request) is whose rows may be chosen."""
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None)
        if "customer" in self.filters:
            self.filters["customer"].queryset = visible(self.user, Customer.objects.all())
        if "parent" in self.filters:
            self.filters["parent"].queryset = visible(self.user, Contract.objects.live())
        # A custom field's filters, for the fields the request names: `cf<id>` (equals), `cf<id>_min` and
        # `cf<id>_max` (numbers, amounts and dates). Typed like the field, so a bad value is a 400.
        for name in list(getattr(self.data, "keys", lambda: [])()):
            found = custom_fields.field_by_param(name)
            if found is not None and name not in self.filters:
                self._add_filter(name, custom_filter(found[0], found[1], name))
                self.filters[name].custom_field = found[0]
        # The chosen contract type's fields are offered as filters too.
        chosen = (self.data or {}).get("contract_type", "") if hasattr(self.data, "get") else ""
        if str(chosen).isdigit() and len(str(chosen)) < 12:
            for field in custom_fields.type_fields(ContractType.objects.filter(pk=int(chosen)).first()):
                for name, part in custom_filter_names(field):
                    if name not in self.filters:
                        self._add_filter(name, custom_filter(field, part, name))
                        self.filters[name].custom_field = field
        # Filtered by overdue and not sorted otherwise, the list is the longest overdue first
        # (filter_overdue): the sort chooser's empty choice says so (the form built last, with every filter).
        chosen = self.data if hasattr(self.data, "get") else {}
        if chosen.get("overdue") in ("yes", "over_90") and not chosen.get("ordering"):
            # Choices set again: a form's copy of a field keeps its widget's choices bound to the class's field.
            field = self.form.fields["ordering"]
            field.empty_label = pgettext_lazy("sort", "Longest overdue first")
            field.choices = [choice for choice in field.choices if choice[0] != ""]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__iexact=value) | Q(title__icontains=value) | Q(customer__name__icontains=value)
            | Q(counterparty_signatory__icontains=value) | Q(our_entity__icontains=value)
        )

    def filter_contract_type(self, queryset, name, value):
        if value is None:
            return queryset
        # A value of one of the type's own fields is held only by a contract of that type (changing a
        # contract's type drops the old type's values): with such a filter the type is already implied,
        # and testing it again would read every row the custom field's walk passes (see filter_contracts).
        for key, filter_ in self.filters.items():
            field = getattr(filter_, "custom_field", None)
            if field is not None and field.contract_type_id == value.pk and self.form.cleaned_data.get(key) not in (
                    None, ""):
                return queryset
        return queryset.filter(contract_type=value)

    def _add_filter(self, name, filter_):
        filter_.field_name = name
        filter_.model = self._meta.model
        filter_.parent = self
        self.filters[name] = filter_

    def filter_custom(self, queryset, name, value):
        if value in (None, ""):
            return queryset
        field, part = custom_fields.field_by_param(name)
        if part == "eq":
            return custom_fields.filter_contracts(queryset, field, equals=value)
        return custom_fields.filter_contracts(queryset, field, **{"low" if part == "min" else "high": value})

    def filter_overdue(self, queryset, name, value):
        """Overdue is derived from today: the oldest unpaid installment's due date has passed (by more
        than 90 days), or there is none that has."""
        today = timezone.localdate()
        if value in ("yes", "over_90"):
            # The customer prefetched, not joined: with the join, SQLite starts from the customers and
            # reads every overdue contract through the (customer, oldest unpaid) index, then sorts them
            # all (1 s at a million), instead of walking the list's index until a page is full.
            # Longest overdue first unless the list is sorted otherwise (the sort is applied after this
            # filter and replaces it): a walk of the (oldest unpaid) index that stops when a page is
            # full. Newest first, "more than 90 days" walked some 300,000 young contracts at a million.
            days = 90 if value == "over_90" else 0
            return (queryset.select_related(None).prefetch_related("customer")
                    .filter(unpaid_since__lt=today - datetime.timedelta(days=days))
                    .order_by("unpaid_since", "id"))
        if value == "no":
            return queryset.filter(Q(unpaid_since__isnull=True) | Q(unpaid_since__gte=today))
        return queryset

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tag_q("tags", value.strip())) if value.strip() else queryset


def custom_filter(field, part: str, name: str):
    label = str(field) + {"eq": "", "min": " ≥", "max": " ≤"}[part]
    if field.kind in (FieldKind.NUMBER, FieldKind.MONEY):
        return django_filters.NumberFilter(label=label, method="filter_custom")
    if field.kind == FieldKind.DATE:
        return django_filters.DateFilter(label=label, method="filter_custom")
    if field.kind == FieldKind.BOOLEAN:
        return django_filters.BooleanFilter(label=label, method="filter_custom")
    if field.kind in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE):
        return django_filters.ChoiceFilter(label=label, method="filter_custom", choices=[
            (c.get("value"), field.choice_label(c.get("value"))) for c in field.choices or []])
    return django_filters.CharFilter(label=label, method="filter_custom", max_length=1000)


def custom_filter_names(field) -> list[tuple[str, str]]:
    """The list parameters of a custom field: (name, part)."""
    if field.kind in (FieldKind.NUMBER, FieldKind.MONEY, FieldKind.DATE):
        return [(f"cf{field.pk}_min", "min"), (f"cf{field.pk}_max", "max")]
    return [(f"cf{field.pk}", "eq")]


# A filter form offers this many customers (the selected one, or the first by name): a select of a
# hundred thousand customers helps nobody, and the search box finds any customer by name.
CUSTOMER_CHOICES = 50


def narrow_filter_choices(form, *, user, data) -> None:
    """Offer in a list's filter form only what `user` may see, and not all of it: customers (the
    selected one or the first CUSTOMER_CHOICES by name), owners and teams in the user's scope.
    Used by the contracts list and the search page, whose forms render these as selects."""
    if "customer" in form.fields:
        customers = visible(user, Customer.objects.all())
        selected = data.get("customer", "")
        if selected.isdigit() and int(selected) <= MAX_ID:
            customers = customers.filter(pk=int(selected))
        else:
            # The first by name of each visibility part (an index walk each, see visible_parts),
            # then the first of those: an OR of owner and team sorts every customer of the team.
            first = set()
            for part in visible_parts(user, customers):
                first.update(part.order_by("name").values_list("pk", flat=True)[:CUSTOMER_CHOICES])
            customers = customers.filter(pk__in=customers.filter(pk__in=first).order_by("name").values("pk")[
                :CUSTOMER_CHOICES])
        form.fields["customer"].queryset = customers.only("id", "name").order_by("name")
    if "owner" in form.fields:
        form.fields["owner"].queryset = filter_owners(user=user)
    if "team" in form.fields:
        form.fields["team"].queryset = filter_teams(user=user)
