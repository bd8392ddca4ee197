"""Counts and page numbers read with thousands separators in both languages ("123,456 results", not "123456")."""

import re
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation


@pytest.mark.parametrize(("language", "expected"), [("en", "123,456 results"), ("zh-hans", "共 123,456 条结果")])
def test_a_lists_count_has_thousands_separators(language, expected):
    paginator = SimpleNamespace(count=123456, capped=False, cap=1000, num_pages=6173)
    page = SimpleNamespace(paginator=paginator, number=1, has_previous=False, has_next=True, next_page_number=2,
                           has_other_pages=True)
    with translation.override(language):
        html = render_to_string("partials/pagination.html", {"page": page}, request=RequestFactory().get("/"))
    assert expected in html, html
    page_number = re.search(r'data-testid="page-number">([^<]*)<', html).group(1)
    assert "6,173" in page_number, page_number  # "Page 1 of 6,173", "第 1 页，共 6,173 页"
