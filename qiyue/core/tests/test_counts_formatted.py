"""Counts read with thousands separators in both languages ("12,345 results", not "12345")."""

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation


@pytest.mark.parametrize(("language", "expected"), [("en", "12,345 results"), ("zh-hans", "共 12,345 条结果")])
def test_a_lists_count_has_thousands_separators(language, expected):
    paginator = SimpleNamespace(count=12345, capped=False, cap=1000, num_pages=618)
    page = SimpleNamespace(paginator=paginator, number=1, has_previous=False, has_next=True, next_page_number=2,
                           has_other_pages=True)
    with translation.override(language):
        html = render_to_string("partials/pagination.html", {"page": page}, request=RequestFactory().get("/"))
    assert expected in html, html
