"""Archive reads (R8.2): contracts browsed by classification, customer, signing year and status.

Facet counts are GROUP BY queries over the same scoped, filtered queryset as the list, one query per
facet, so a count never includes a contract the user may not see. Counts are disjunctive, as in a
search engine: a facet's counts ignore that facet's own selection, so each value's count is what
selecting exactly that value (keeping the other filters) would list.
"""

import datetime
from dataclasses import dataclass

import django_filters
from django.core.validators import RegexValidator
from django.db.models import Count, QuerySet
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.contracts.filters import ContractFilter
from qiyue.contracts.models import Contract, Nature, RetentionPolicy, SigningForm, Status, SubjectMatter
from qiyue.contracts.retention import Retention, retention
from qiyue.contracts.selectors import contract_queryset
from qiyue.customers.models import Customer

from . import policies

NO_YEAR = "none"
CUSTOMER_FACET_LIMIT = 20
CHOICE_FACETS = (
    ("nature", _("nature"), Nature),
    ("subject_matter", _("subject matter"), SubjectMatter),
    ("signing_form", _("signing form"), SigningForm),
    ("status", _("status"), Status),
)


class ArchiveFilter(ContractFilter):
    """The contract list's filters plus the signing year ("none": not signed)."""

    signing_year = django_filters.CharFilter(
        label=_("signing year"), method="filter_signing_year",
        validators=[RegexValidator(r"^(\d{4}|none)$", _("Enter a year such as 2024."))])

    def filter_signing_year(self, queryset, name, value):
        if value == NO_YEAR:
            return queryset.filter(signing_date__isnull=True)
        return queryset.filter(signing_date__year=int(value))


def archive_queryset(*, user, deleted: bool = False) -> QuerySet:
    """What `user` may browse: live contracts they see, or for admins and auditors the deleted ones."""
    if not deleted:
        return contract_queryset(user=user)
    if not policies.may_see_deleted(user):
        return Contract.objects.none()
    return Contract.objects.filter(deleted_at__isnull=False).select_related("customer", "owner", "team")


def archive_filter(*, user, params, deleted: bool = False) -> ArchiveFilter:
    return ArchiveFilter(params, queryset=archive_queryset(user=user, deleted=deleted), user=user)


def _without(params, name: str):
    params = params.copy()
    params.pop(name, None)
    return params


@dataclass
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue]
    truncated: bool = False


def _grouped(qs: QuerySet, field: str) -> dict:
    return {row[field]: row["n"] for row in qs.order_by().values(field).annotate(n=Count("id"))}


def archive_facets(*, user, params, deleted: bool = False) -> list[Facet]:
    """Counts per nature, subject matter, signing form, status, customer and signing year."""
    base = archive_queryset(user=user, deleted=deleted)

    def narrowed(name: str) -> QuerySet:
        return ArchiveFilter(_without(params, name), queryset=base, user=user).qs

    facets = []
    for name, label, choices in CHOICE_FACETS:
        counts = _grouped(narrowed(name), name)
        facets.append(Facet(name, str(label), [FacetValue(value, str(text), counts[value])
                                               for value, text in choices.choices if counts.get(value)]))

    top = list(narrowed("customer").order_by().values("customer_id").annotate(n=Count("id"))
               .order_by("-n", "customer_id")[:CUSTOMER_FACET_LIMIT + 1])
    names = dict(Customer.objects.filter(pk__in=[r["customer_id"] for r in top]).values_list("id", "name"))
    facets.append(Facet("customer", str(_("customer")),
                        [FacetValue(str(r["customer_id"]), names.get(r["customer_id"], "—"), r["n"])
                         for r in top[:CUSTOMER_FACET_LIMIT]], truncated=len(top) > CUSTOMER_FACET_LIMIT))

    years = (narrowed("signing_year").order_by().annotate(year=ExtractYear("signing_date"))
             .values("year").annotate(n=Count("id")))
    rows = sorted(((r["year"], r["n"]) for r in years), key=lambda r: (r[0] is None, -(r[0] or 0)))
    facets.append(Facet("signing_year", str(_("signing year")),
                        [FacetValue(NO_YEAR if year is None else str(year),
                                    str(_("Not signed")) if year is None else str(year), n) for year, n in rows]))
    return facets


def retention_policies() -> dict[str, RetentionPolicy]:
    return {p.nature: p for p in RetentionPolicy.objects.all()}


def annotate_retention(contracts, *, today: datetime.date | None = None) -> None:
    """Set `retention` (a Retention) and `within_retention` on each contract of a page: one query."""
    today = today or timezone.localdate()
    policies = retention_policies()
    for contract in contracts:
        policy = policies.get(contract.nature)
        kept: Retention = retention(contract, policy.retention_years if policy else None)
        contract.retention = kept
        contract.within_retention = kept.within(today)
