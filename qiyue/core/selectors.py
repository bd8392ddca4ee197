"""Read helpers every app's selectors use."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import context
from .validators import MAX_ID


def note_if_hidden(model, key) -> None:
    """After a 404 from a scoped queryset: if the row exists all the same, the user asked for one
    they may not see; note it so the audit log records the request as a denial (one query, on the
    404 path only)."""
    if context.current.get().notes is None:
        return
    if model._base_manager.filter(pk=key).exists():
        context.note_hidden(model._meta.label_lower, key)


def get_or_404(queryset, pk):
    """The row of `queryset` with this primary key, else 404: also for a key that is no whole number
    or is beyond what a 64-bit key holds (as the API's own lookups answer)."""
    try:
        key = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if isinstance(pk, float) or str(pk).strip() != str(key) or not 0 < key <= MAX_ID:
        raise Http404
    try:
        return queryset.get(pk=key)
    except queryset.model.DoesNotExist:
        note_if_hidden(queryset.model, key)
        raise Http404 from None


def open_record(queryset, pk, *, user, record_view, may=None):
    """A record's whole content for `user` to read (its page, its edit form, its API record): the row of
    `queryset` (what `user` may see; else 404), then `may(user, row)` when given (403 when it says no),
    then `record_view(row)` writes the view into the access log (R9.2). The one way views are logged."""
    row = get_or_404(queryset, pk)
    if may is not None and not may(user, row):
        raise PermissionDenied
    record_view(row)
    return row
