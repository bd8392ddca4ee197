"""With DEBUG off (as `make run` and production serve), errors are pages in the user's language that say
what happened and where to go, never Django's technical pages (URL patterns, settings, tracebacks);
API paths keep answering in the API's error shape."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import include, path

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("a bug")


# The application's URLs plus one that crashes: the test's own URLconf (ROOT_URLCONF below).
urlpatterns = [path("boom/", boom), path("api/v1/boom/", boom), path("", include("config.urls"))]
handler404 = "qiyue.core.views.not_found"
handler500 = "qiyue.core.views.server_error"

TECHNICAL = ("URLconf", "Traceback", "DEBUG = True", "Django tried these URL patterns", "technical")


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


def speaking(client, language: str):
    """The UI's language is the user's switch (a cookie), not the browser's Accept-Language."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def page(response) -> str:
    text = response.content.decode()
    assert 'data-testid="error-page"' in text, text[:500]
    assert not any(word in text for word in TECHNICAL), text
    assert response["Content-Type"].startswith("text/html")
    return text


@pytest.mark.parametrize(("language", "heading", "action"), [
    ("en", "Page not found", "Go to the dashboard"),
    ("zh-hans", "页面不存在", "返回仪表盘"),
])
def test_an_unknown_address_is_a_404_page_in_the_users_language(client, language, heading, action):
    response = speaking(client, language).get("/no-such-page/")
    assert response.status_code == 404
    text = page(response)
    assert heading in text and action in text
    assert f'lang="{language}"' in text
    assert "/no-such-page/" in text  # the address asked for, escaped


def test_a_missing_contract_is_the_same_404_page_for_a_logged_in_user(client, users):
    client.force_login(users["legal"])
    response = speaking(client, "zh-hans").get("/contracts/987654321/")
    assert response.status_code == 404
    assert "页面不存在" in page(response)


def test_the_404_page_shows_the_address_readable_and_escaped(client):
    response = client.get("/<script>alert(1)</script>/")
    assert response.status_code == 404
    text = page(response)
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "/合同-2026/" in page(client.get("/合同-2026/"))


@pytest.mark.parametrize(("language", "heading"), [("en", "You may not open this page"), ("zh-hans", "您无权打开此页面")])
def test_a_page_the_role_may_not_open_is_a_403_page(client, users, language, heading):
    client.force_login(users["sales"])
    assert users["sales"].role == "sales"
    response = speaking(client, language).get("/audit/")
    assert response.status_code == 403
    assert heading in page(response)


@pytest.mark.parametrize(("language", "heading"), [("en", "Something went wrong on the server"),
                                                   ("zh-hans", "服务器出错了")])
def test_a_crash_is_a_500_page_without_the_traceback(language, heading):
    response = speaking(Client(raise_request_exception=False), language).get("/boom/")
    assert response.status_code == 500
    text = page(response)
    assert heading in text and "a bug" not in text and "RuntimeError" not in text


def test_an_api_crash_and_an_unknown_api_path_answer_json():
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500 and response.json()["code"] == "server_error"
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize(("language", "heading"), [("en", "The form has expired"), ("zh-hans", "表单已过期")])
def test_a_form_without_its_csrf_token_is_refused_with_an_explanation(users, language, heading):
    client = speaking(Client(enforce_csrf_checks=True), language)
    response = client.post("/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    text = page(response)
    assert heading in text


@pytest.mark.parametrize(("language", "heading"), [("en", "The request could not be understood"),
                                                   ("zh-hans", "无法理解此请求")])
def test_a_request_for_another_host_is_a_400_page(client, language, heading):
    response = speaking(client, language).get("/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert heading in page(response)


def test_make_run_serves_with_debug_off_and_make_dev_with_debug_on():
    """`make run` is what a newcomer starts: the pages above, never Django's technical ones."""
    makefile = (Path(__file__).resolve().parents[3] / "Makefile").read_text()

    def recipe(target: str) -> str:
        return re.search(rf"^{target}:.*?(?=\n\n)", makefile, re.M | re.S).group(0)

    assert "QIYUE_DEBUG=0 $(BIN)/qiyue serve" in recipe("run")
    assert "QIYUE_DEBUG=1 $(BIN)/qiyue runserver" in recipe("dev")
