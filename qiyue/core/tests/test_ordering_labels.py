"""The lists' "Sort by" menus speak the page's language, the "(descending)" choices too (django-filter
formats those once, when the filter set's class is made, so an English page showed "名称（降序）")."""

import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


def sort_choices(client, url: str, language: str) -> list[str]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(url).content.decode()
    select = re.search(r'<select name="ordering"[^>]*>(.*?)</select>', html, re.S)
    assert select, html[:300]
    return [text.strip() for text in re.findall(r"<option[^>]*>(.*?)</option>", select.group(1), re.S)]


@pytest.mark.parametrize(("url", "ascending", "descending_en", "descending_zh"), [
    ("/contracts/", "contract number", "contract number (descending)", "合同编号（降序）"),
    ("/customers/", "name", "name (descending)", "名称（降序）"),
])
def test_sort_menus_in_both_languages(client, users, url, ascending, descending_en, descending_zh):
    client.force_login(users["legal"])
    english = sort_choices(client, url, "en")
    assert ascending in english and descending_en in english
    assert not [choice for choice in english if CJK.search(choice)], english
    chinese = sort_choices(client, url, "zh-hans")
    assert descending_zh in chinese
    assert not [choice for choice in chinese if "descending" in choice], chinese
    # Again in English after a Chinese page: nothing is kept from the language before.
    assert sort_choices(client, url, "en") == english
