"""The login page says what Qiyue is, in the page's language, and its own button is the page's first
(the language switch follows the form, so Enter, a screen reader's "next button" and a script's first
submit button all mean "Log in")."""

import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "about", "switch_to"), [
    ("en", "Qiyue: customer contracts, from draft to archive", "中文"),
    ("zh-hans", "契约：客户合同，从起草到归档", "English"),
])
def test_the_login_page_says_what_qiyue_is_and_logs_in_first(client, language, about, switch_to):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get("/login/").content.decode()
    assert about in html and 'data-testid="about-qiyue"' in html
    buttons = re.findall(r"<button[^>]*>.*?</button>", html, re.S)
    assert 'data-testid="log-in"' in buttons[0], buttons
    assert switch_to in buttons[1]
    assert html.count('data-testid="language-switch"') == 1  # below the form, not in the header too


def test_the_switch_on_the_login_page_changes_the_language(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert "Log in to Qiyue" in client.get("/login/").content.decode()
