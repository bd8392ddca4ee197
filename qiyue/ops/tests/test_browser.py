"""End to end in a real Chromium: log in, create a customer and a contract, find it with the
HTMX filter, submit it for review, switch the language. Uses Debian's /usr/bin/chromium; a
missing browser is a failure, never a skip, and no browser is ever downloaded."""

import os
import re

import pytest

from qiyue.accounts.tests.factories import PASSWORD, make_team, make_user
from qiyue.contracts.tests.factories import make_contract

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls here are synchronous.
    # Set only for this test: `check --deploy` rightly refuses it anywhere else.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert os.path.exists(CHROMIUM), f"{CHROMIUM} is required for the browser tests"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        console_errors: list[str] = []
        page_errors: list[str] = []
        page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.console_errors, page.page_errors = console_errors, page_errors
        try:
            yield page
        finally:
            context.close()
            browser.close()


def log_in(page, base: str, username: str) -> None:
    """Log `username` in through the login page (PASSWORD) and wait for the header."""
    from playwright.sync_api import expect

    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    expect(page.get_by_test_id("current-user")).to_be_visible()


@pytest.mark.browser
def test_customer_to_contract_review_in_the_browser(live_server, transactional_db, settings, browser_page):
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = "zh-hans"
    team = make_team("Browser team")
    make_user("sales", team, username="browser_sales")
    make_user("manager", team, username="browser_manager")  # the approval's first step
    page = browser_page
    base = live_server.url

    # Log in through the login page.
    page.goto(f"{base}/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.fill("#id_username", "browser_sales")
    page.fill("#id_password", PASSWORD)
    page.get_by_test_id("log-in").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()

    # Create a customer.
    page.goto(f"{base}/customers/new/")
    page.fill("#id_name", "浏览器测试客户有限公司")
    page.fill("#id_tags", "e2e")
    page.get_by_test_id("customer-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("浏览器测试客户有限公司")

    # Create a contract for it from the customer page (the customer is preselected).
    page.get_by_test_id("new-contract").click()
    expect(page.locator("#id_customer option:checked")).to_have_text("浏览器测试客户有限公司")
    page.fill("#id_title", "端到端测试合同")
    page.fill("#id_amount", "88000.00")
    page.fill("#id_effective_date", "2026-01-01")
    page.fill("#id_expiry_date", "2026-12-31")
    page.get_by_test_id("contract-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("contract-title")).to_have_text("端到端测试合同")
    number = page.get_by_test_id("contract-number").inner_text().strip()

    # Find it in the contracts list with the HTMX filter (the table updates in place). The contract page's
    # lazily loaded parts done first: a request still reading in the live server locks the table the
    # write below needs (in-memory SQLite shares one cache: "database table is locked", seen under load).
    page.wait_for_load_state("networkidle")
    make_contract(make_user("sales", team), title="另一份合同")
    page.goto(f"{base}/contracts/")
    expect(page.get_by_test_id("contract-row")).to_have_count(2)
    page.get_by_test_id("contract-search").fill("端到端")
    expect(page.get_by_test_id("contract-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=%E7%AB%AF"))
    page.get_by_test_id("contract-row").get_by_role("link", name=number).click()

    # Submit it for review: the status panel is swapped in place.
    badge = page.get_by_test_id("status-badge")
    expect(badge).to_have_attribute("data-status", "draft")
    page.get_by_test_id("transition-submit").locator("button").click()
    expect(badge).to_have_attribute("data-status", "in_review")
    # Created, submitted, the pre-review the submission ran and the approval it started.
    expect(page.get_by_test_id("timeline").locator(":scope > li")).to_have_count(4)

    # Switch the language to English.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.get_by_test_id("language-switch").locator("button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("status-badge")).to_have_text("In review")

    csp = [m for m in page.console_errors if "Content Security Policy" in m or "Refused to" in m]
    assert csp == [], csp
    assert page.page_errors == []


@pytest.mark.browser
def test_two_factor_setup_then_log_in_with_a_code(live_server, transactional_db, settings, browser_page, monkeypatch):
    """Turn two-factor sign-in on from the page (the code computed here from the key the page shows),
    keep the recovery codes, log out, and log in again with the password and a code."""
    import time
    from base64 import b32decode

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp import models as totp_models
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = "zh-hans"
    make_user("legal", username="browser_legal")
    page = browser_page
    base = live_server.url
    log_in(page, base, "browser_legal")

    page.get_by_test_id("current-user").click()
    page.get_by_test_id("menu-two-factor").click()
    expect(page.get_by_test_id("twofa-status")).to_have_attribute("data-on", "0")
    page.get_by_test_id("twofa-setup").click()
    expect(page.get_by_test_id("twofa-qr").locator("svg")).to_be_visible()
    key = b32decode(page.get_by_test_id("twofa-secret").inner_text().replace(" ", ""))
    code = TOTP(key)
    code.time = time.time()
    page.fill("#id_code", f"{code.token():06d}")
    page.get_by_test_id("twofa-confirm").locator("button[type=submit]").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_test_id("codes-saved").click()
    expect(page.get_by_test_id("twofa-status")).to_have_attribute("data-on", "1")

    # A code works once: the server's clock moves on a step, as half a minute later.
    monkeypatch.setattr(totp_models, "time", type("Later", (), {"time": staticmethod(lambda: time.time() + 30)}))
    page.get_by_test_id("current-user").click()
    page.get_by_test_id("log-out").click()
    page.goto(f"{base}/login/")
    page.fill("#id_username", "browser_legal")
    page.fill("#id_password", PASSWORD)
    page.press("#id_password", "Enter")
    expect(page.get_by_test_id("second-step")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    page.fill("#id_code", "000000" if f"{code.token():06d}" != "000000" else "111111")
    page.get_by_test_id("second-step").locator("button[type=submit]").click()
    expect(page.get_by_test_id("error-code")).to_be_visible()
    page.wait_for_timeout(1100)  # after a wrong code the next try waits a second (django-otp's throttling)
    code.time = time.time() + 30
    page.fill("#id_code", f"{code.token():06d}")
    page.get_by_test_id("second-step").locator("button[type=submit]").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()

    csp = [m for m in page.console_errors if "Content Security Policy" in m or "Refused to" in m]
    assert csp == [], csp
    assert page.page_errors == []
