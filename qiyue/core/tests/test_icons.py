"""Icons (Bootstrap Icons, vendored) in the navigation and the main buttons: served by this server,
decorative to screen readers (the text beside each says what it is)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_navigation_and_buttons_carry_icons_hidden_from_screen_readers(client, users):
    client.force_login(users["admin"])
    html = client.get("/contracts/").content.decode()
    assert "/static/vendor/bootstrap-icons/bootstrap-icons.min.css" in html
    icons = re.findall(r"<i class=\"bi bi-[a-z0-9-]+\"[^>]*></i>", html)
    assert len(icons) >= 10
    assert all('aria-hidden="true"' in icon for icon in icons), icons
    nav = html[html.index('<ul class="navbar-nav'):html.index("</ul>", html.index('<ul class="navbar-nav'))]
    links = re.findall(r'<li class="nav-item">(.*?)</li>', nav, re.S)
    assert links and all('<i class="bi bi-' in link for link in links)
    assert 'bi-plus-lg' in html and 'bi-funnel' in html  # "New contract", "Filter"


def test_the_icon_font_is_served_here(client):
    for path in ("bootstrap-icons.min.css", "fonts/bootstrap-icons.woff2", "fonts/bootstrap-icons.woff"):
        response = client.get(f"/static/vendor/bootstrap-icons/{path}")
        assert response.status_code == 200, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(body) > 1000, path
