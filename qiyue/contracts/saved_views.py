"""Saved views and the column chooser of the contracts list: each user's own, never anyone else's.

A saved view keeps the list's filters and sort as a query string (checked with the list's own
ContractFilter, so a view never saves a filter the list would refuse) and its columns.
"""

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from qiyue.core.errors import ApplicationError, ErrorCode, filtered

from .columns import DEFAULT_COLUMNS, parse_columns
from .filters import ContractFilter
from .models import Contract, ListColumns, SavedView

MAX_VIEWS = 50
NAME_MAX = 80
QUERY_MAX = 2000
# Query parameters that are not part of what a view keeps.
NOT_KEPT = ("page", "format", "columns", "view")


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields={field: [message]})


def user_columns(*, user, requested=None) -> tuple[str, ...]:
    """The columns to show: `requested` (a saved view's, from the address) when it is valid, else the
    user's choice, else the default."""
    if requested:
        columns = parse_columns(requested)
        if columns:
            return columns
    row = ListColumns.objects.filter(user=user).first()
    return (parse_columns(row.columns) if row else None) or DEFAULT_COLUMNS


def columns_set(*, actor, columns) -> tuple[str, ...]:
    parsed = parse_columns(columns)
    if parsed is None:
        raise _invalid("columns", _("Choose at least one of the listed columns."))
    ListColumns.objects.update_or_create(user=actor, defaults={"columns": ",".join(parsed)})
    return parsed


def saved_views(*, user):
    return SavedView.objects.filter(user=user).order_by("name", "id")


def clean_query(*, user, query: str) -> str:
    """The list's filters and sort from `query`, without paging; refused when the list would refuse them."""
    if len(query) > QUERY_MAX:
        raise _invalid("query", _("These filters are too long to save (at most %(n)d characters).") % {"n": QUERY_MAX})
    params = QueryDict(query.lstrip("?"), mutable=True)
    for name in NOT_KEPT:
        params.pop(name, None)
    try:
        filtered(ContractFilter(params, queryset=Contract.objects.none(), user=user))
    except ApplicationError as exc:
        raise _invalid("query", _("These filters are not valid: %(fields)s.") % {"fields": ", ".join(exc.fields)}) from exc
    return params.urlencode()


@transaction.atomic
def saved_view_save(*, actor, name: str, query: str, columns) -> SavedView:
    """Save the list as `name` (replacing the user's view of that name)."""
    name = (name or "").strip()
    if not name:
        raise _invalid("name", _("Give the view a name."))
    if len(name) > NAME_MAX:
        raise _invalid("name", _("The name is too long (at most %(n)d characters).") % {"n": NAME_MAX})
    query = clean_query(user=actor, query=query or "")
    parsed = parse_columns(columns) or DEFAULT_COLUMNS
    existing = SavedView.objects.select_for_update().filter(user=actor, name=name).first()
    if existing is None and SavedView.objects.filter(user=actor).count() >= MAX_VIEWS:
        raise _invalid("name", _("You have %(n)d saved views already; delete one first.") % {"n": MAX_VIEWS})
    try:
        with transaction.atomic():
            view, _created = SavedView.objects.update_or_create(
                user=actor, name=name, defaults={"query": query, "columns": ",".join(parsed)})
    except IntegrityError as exc:  # saved twice at the same moment
        raise _invalid("name", _("A view of this name was just saved; try again.")) from exc
    return view


def saved_view_delete(*, actor, pk: int) -> None:
    """Delete one of the user's views; another user's is as missing as one that never was."""
    deleted, _rows = SavedView.objects.filter(user=actor, pk=pk).delete()
    if not deleted:
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."), status=404)
