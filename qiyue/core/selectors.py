"""Read helpers every app's selectors use."""

from django.http import Http404

from .validators import MAX_ID


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
        raise Http404 from None
