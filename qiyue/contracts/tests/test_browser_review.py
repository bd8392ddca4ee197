"""The review rules in a real Chromium: the edit form of an active contract shows its facts
read-only, a draft's status panel lists what review still needs, and activating before the
effective date asks for the confirmation box first."""

import datetime

import pytest
from django.utils import timezone

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)


@pytest.mark.browser
def test_review_rules_in_the_browser(live_server, transactional_db, settings, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = "zh-hans"
    team = make_team("Review team")
    sales = make_user("sales", team, username="review_sales")
    admin = make_user("admin", username="review_admin")
    today = timezone.localdate()
    signed = make_contract(sales, title="下月生效的合同", effective_date=today + datetime.timedelta(days=20),
                                     expiry_date=today + datetime.timedelta(days=400))
    for name in ("submit", "approve"):
        signed = contract_transition(actor=signed.owner, contract=signed, name=name, via_workflow=name == "approve")
    signed = contract_transition(actor=admin, contract=signed, name="sign", signing_method="wet_ink",
                                 signing_date=today)
    draft = make_contract(sales, title="缺信息的草稿", amount=0, expiry_date=None)
    page = browser_page
    base = live_server.url
    log_in(page, base, "review_sales")

    # A draft lists the facts review needs; submitting is refused in place.
    page.goto(f"{base}/contracts/{draft.pk}/")
    expect(page.get_by_test_id("review-gap")).to_have_count(2)
    page.get_by_test_id("transition-submit").locator("button").click()
    expect(page.get_by_test_id("status-error")).to_be_visible()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "draft")

    # Early activation: refused until the box is ticked.
    # It asks in its own dialog, which opens again with the error.
    page.goto(f"{base}/contracts/{signed.pk}/")
    page.get_by_test_id("open-activate").click()
    form = page.get_by_test_id("transition-activate")
    expect(form).to_be_visible()
    expect(form).to_contain_text(signed.effective_date.isoformat())
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("error-confirm_early")).to_be_visible()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "signed")
    page.get_by_test_id("transition-activate").locator("input[type=checkbox]").check()
    page.get_by_test_id("transition-activate").locator("button[type=submit]").click()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "active")

    # The edit form of the active contract: facts read-only with the note; tags still save.
    page.goto(f"{base}/contracts/{signed.pk}/edit/")
    expect(page.get_by_test_id("facts-frozen-note")).to_be_visible()
    expect(page.locator("#id_amount")).to_be_disabled()
    expect(page.locator("#id_expiry_date")).to_be_disabled()
    expect(page.locator("#id_tags")).to_be_enabled()
    page.fill("#id_tags", "浏览器")
    page.get_by_test_id("contract-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("contract-title")).to_have_text("下月生效的合同")
    expect(page.get_by_test_id("contract-amount")).to_contain_text("100,000.00")

    assert page.page_errors == []
