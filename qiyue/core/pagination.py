from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models.expressions import OrderBy
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most `cap` + 1 rows: an exact count of half a million rows costs more than the page
    itself, and nobody reads that far. Above the cap a list says "1,000+" (never a wrong number), as
    search engines do, and pages on with "Next" past the cap, up to `max_offset` rows deep (then the
    filters, not the pager, are the way on)."""

    cap = 1_000
    max_offset = 100_000
    # Pages within this many rows are read part by part (see `parts`); deeper ones in one query.
    parts_depth = 2_000

    def __init__(self, object_list, per_page, *, cap: int | None = None, parts=None, **kwargs):
        """`parts`: disjoint querysets whose union is `object_list`, each answerable from one index
        (see permissions.visible_parts). Counts add up the parts; a page takes the first rows of
        each part and orders just those."""
        if parts and len(parts) == 1:
            object_list = parts[0]  # the same rows, in the form an index answers best
        super().__init__(object_list, per_page, **kwargs)
        if cap is not None:
            self.cap = cap
        self.ordering = _total_ordering(object_list) if parts and len(parts) > 1 else None
        self.parts = parts if self.ordering else None

    @cached_property
    def count(self) -> int:
        # No ORDER BY: a sorted count is the same number, slower.
        if self.parts is None:
            return self.object_list.order_by()[: self.cap + 1].count()
        total = 0
        for part in self.parts:
            total += part.order_by()[: self.cap + 1 - total].count()
            if total > self.cap:
                break
        return total

    def rows(self, bottom: int, top: int) -> list:
        """Rows [bottom:top] of the list."""
        if self.parts is None or top > self.parts_depth:
            return list(self.object_list[bottom:top])
        # The first `top` rows of the whole are among the first `top` of each part.
        ids = set()
        for part in self.parts:
            ids.update(part.order_by(*self.ordering).values_list("pk", flat=True)[:top])
        return list(self.object_list.filter(pk__in=ids).order_by(*self.ordering)[bottom:top])

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def shown_count(self) -> int:
        """The number to show: the count, or the cap when there are more."""
        return min(self.count, self.cap)

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        # Past the cap the number of pages is unknown: any page within max_offset may be asked for;
        # `page` finds out whether it holds anything.
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        if (number - 1) * self.per_page >= self.max_offset:
            raise EmptyPage(self.error_messages["no_results"])
        return number

    def get_page(self, number):
        try:
            return super().get_page(number)
        except EmptyPage:  # a page past the end of a capped list: show the last counted page
            return self.page(self.num_pages)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self.capped:
            top = bottom + self.per_page
            if top + self.orphans >= self.count:
                top = self.count
            return self._get_page(self.rows(bottom, top), number, self)
        rows = self.rows(bottom, bottom + self.per_page + 1)
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        return CappedPage(rows[: self.per_page], number, self, has_more=len(rows) > self.per_page)


class CappedPage(Page):
    """A page of a list longer than its paginator's cap: it knows whether a next page exists,
    not how many pages there are."""

    def __init__(self, object_list, number, paginator, *, has_more: bool):
        super().__init__(object_list, number, paginator)
        self.has_more = has_more

    def has_next(self) -> bool:
        return self.has_more

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)


def _total_ordering(queryset) -> list[str] | None:
    """The queryset's ordering with the primary key as the last tie-breaker (so a row's place is the
    same in every query), or None when it is not a list of field names and column orderings (such as
    `F("due_date").asc(nulls_last=True)`)."""
    ordering = list(queryset.query.order_by) or list(queryset.query.get_meta().ordering)
    if not all(isinstance(field, str | OrderBy) for field in ordering):
        return None
    if not any(isinstance(field, str) and field.lstrip("-") in ("pk", "id") for field in ordering):
        ordering.append("-pk")
    return ordering
