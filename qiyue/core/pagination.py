from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows: an exact count of half a million rows costs more than the page
    itself, and nobody pages that far. Above the cap lists say "10,000+" (never a wrong number)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        # No ORDER BY: a sorted count is the same number, slower.
        return self.object_list.order_by()[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap
