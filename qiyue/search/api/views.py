"""GET /api/v1/search/?q=: the search of the UI, paginated, with the contract list's filters."""

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from ..errors import SearchErrorCode, query_has_no_words_error
from ..filters import UNSUPPORTED, SearchFilter, search_filters
from ..selectors import COUNT_CAP, search
from .serializers import SearchPageOutput

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def _parameters() -> list[OpenApiParameter]:
    """Query parameters documented from the filter set itself, so the schema cannot drift."""
    params = [
        OpenApiParameter("q", OpenApiTypes.STR, required=True,
                         description="Words (all must match), \"quoted phrases\", a contract number. Chinese "
                                     "is matched as a substring; a single trailing Chinese character is a "
                                     "prefix. At most 200 characters."),
        OpenApiParameter("page", OpenApiTypes.INT, description="Page number (up to the first 1,000 hits)."),
        OpenApiParameter("page_size", OpenApiTypes.INT, description=f"Hits per page, at most {MAX_PAGE_SIZE}."),
    ]
    for name, item in SearchFilter.base_filters.items():
        if name in UNSUPPORTED or name == "q":
            continue
        description = str(item.label or name)
        if isinstance(item, django_filters.MultipleChoiceFilter):
            choices = item.extra["choices"]
            choices = [value for value, _label in (choices() if callable(choices) else choices)]
            params.append(OpenApiParameter(name, {"type": "array", "items": {"type": "string", "enum": choices}},
                                           explode=True, description=description))
        elif isinstance(item, django_filters.ModelChoiceFilter):
            params.append(OpenApiParameter(name, OpenApiTypes.INT, description=f"{description} (id)"))
        elif isinstance(item, django_filters.DateFilter):
            params.append(OpenApiParameter(name, OpenApiTypes.DATE, description=description))
        elif isinstance(item, django_filters.NumberFilter):
            params.append(OpenApiParameter(name, OpenApiTypes.DECIMAL, description=description))
    return params


def _page_number(request, name: str, default: int, maximum: int) -> int:
    value = request.query_params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise exceptions.ValidationError({name: ["A positive whole number is required."]}, code="invalid")
    return min(number, maximum)


class SearchView(APIView):
    @extend_schema(
        operation_id="search",
        summary="Search contracts, customers and document text the user may see",
        description=f"When there are at most {COUNT_CAP:,} hits they are ranked (those whose title, a contract's "
                    "number and title, a document's title or a customer's name, holds every word first, then "
                    "newest first), else newest first; "
                    f"the count is exact up to {COUNT_CAP:,} and `count_capped` says there are more. "
                    "Searching is not recorded as an access; opening a hit's page is.",
        parameters=_parameters(),
        responses={200: SearchPageOutput,
                   400: OpenApiResponse(description="Invalid input: {code, message, fields, field_codes}. "
                                                    f"`{SearchErrorCode.QUERY_HAS_NO_WORDS}`: `q` has no "
                                                    "letter, digit or Chinese character (only punctuation or "
                                                    "symbols), so nothing can match; an empty `q` is not an "
                                                    "error (no results). `invalid`: a bad filter or page.")},
    )
    def get(self, request):
        if "q" not in request.query_params:
            raise exceptions.ValidationError({"q": ["This field is required."]}, code="required")
        q, filters, form = search_filters(request.user, request.query_params)
        if form.errors:
            raise exceptions.ValidationError(form.errors)
        size = _page_number(request, "page_size", PAGE_SIZE, MAX_PAGE_SIZE)
        number = _page_number(request, "page", 1, 10**6)
        offset = (number - 1) * size
        results = search(user=request.user, q=q, filters=filters, limit=size, offset=offset)
        if results.no_words:
            raise query_has_no_words_error()
        url = request.build_absolute_uri()
        more = (results.count_capped or offset + size < results.count) and offset + size < COUNT_CAP
        body = {
            "count": results.count,
            "count_capped": results.count_capped,
            "ranked": results.ranked,
            "next": replace_query_param(url, "page", number + 1) if more and results.hits else None,
            "previous": replace_query_param(url, "page", number - 1) if number > 1 else None,
            "results": [{"kind": hit.kind, "id": hit.id, "title": hit.title, "url": hit.url,
                         "snippet": str(hit.snippet), "page": hit.page, "file": hit.file}
                        for hit in results.hits],
        }
        return Response(SearchPageOutput(body).data)
