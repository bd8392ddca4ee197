"""The search page: GET q and filters; an HTMX request renders only the results."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET

from qiyue.contracts.filters import narrow_filter_choices
from qiyue.core.htmx import render_page, style_form

from .filters import search_filters
from .selectors import COUNT_CAP, search

PAGE_SIZE = 20
CHECKBOX_FILTERS = ("type", "status", "nature")


def page_number(value) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


@login_required
@require_GET
def search_results(request):
    q, filters, form = search_filters(request.user, request.GET, form_needed=True)
    narrow_filter_choices(form, user=request.user, data=request.GET)
    for name in CHECKBOX_FILTERS:
        form.fields[name].widget = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})
        form.fields[name].widget.choices = form.fields[name].choices
    style_form(form)
    number = page_number(request.GET.get("page"))
    offset = (number - 1) * PAGE_SIZE
    results = search(user=request.user, q=q, filters=filters, limit=PAGE_SIZE, offset=offset)
    shown_until = offset + len(results.hits)
    context = {
        "nav": "search",
        "q": q,
        "form": form,
        "checkbox_filters": CHECKBOX_FILTERS,
        "results": results,
        "page_number": number,
        "first_shown": offset + 1,
        "last_shown": shown_until,
        "has_previous": number > 1,
        "has_next": (results.count_capped or shown_until < results.count) and offset + PAGE_SIZE < COUNT_CAP,
        "previous_page": number - 1,
        "next_page": number + 1,
    }
    return render_page(request, "search/results.html", "search/_results.html", context)
