"""In a real Chromium, in both languages: sales submits a contract; the manager finds it in their inbox
(the count in the navigation bar) and approves; legal approves with the review checklist (an issue
needs a comment); the contract is approved, the progress shows every step done, and the owner finds
the notification."""

from decimal import Decimal

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.contracts.tests.factories import make_contract
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)


def _log_out(page):
    page.get_by_test_id("current-user").click()
    page.get_by_test_id("log-out").click()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_submit_approve_from_the_inbox_then_legal_with_the_checklist(live_server, transactional_db, settings,
                                                                     browser_page, language):  # noqa: F811
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = language
    team = make_team("审批团队")
    sales = make_user("sales", team, username="flow_sales")
    make_user("manager", team, username="flow_manager")
    make_user("legal", username="flow_legal")
    contract = make_contract(sales, title="浏览器审批合同", amount=Decimal("5000.00"))  # finance is skipped
    page = browser_page
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})

    # Sales submits: the approval tab shows the steps, the first waiting for the manager.
    log_in(page, base, "flow_sales")
    page.goto(f"{base}/contracts/{contract.pk}/#approval")
    page.get_by_test_id("transition-submit").locator("button").click()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "in_review")
    steps = page.get_by_test_id("approval-step")
    expect(steps).to_have_count(3)
    expect(steps.nth(0)).to_have_attribute("data-status", "active")
    expect(steps.nth(2)).to_have_attribute("data-status", "skipped")
    expect(page.get_by_test_id("waiting-for")).to_contain_text("Flow_Manager")
    expect(page.get_by_test_id("skipped-because")).to_contain_text("100,000")
    expect(page.get_by_test_id("my-decision")).to_have_count(0)  # nobody approves their own contract
    _log_out(page)

    # The manager: the count in the navigation bar, the inbox, approve on the contract's approval tab.
    log_in(page, base, "flow_manager")
    expect(page.get_by_test_id("inbox-count")).to_have_text("1")
    page.get_by_test_id("nav-inbox").click()
    expect(page.get_by_test_id("inbox-row")).to_have_count(1)
    page.get_by_test_id("inbox-open-contract").click()
    decision = page.get_by_test_id("my-decision")
    expect(decision).to_be_visible()
    expect(decision.get_by_test_id("checklist")).to_have_count(0)  # the manager's step has none
    decision.get_by_test_id("decide-approve").click()
    expect(steps.nth(0)).to_have_attribute("data-status", "done")
    expect(steps.nth(1)).to_have_attribute("data-status", "active")
    expect(page.get_by_test_id("inbox-count")).to_have_count(0)
    _log_out(page)

    # Legal: the checklist; an issue without a comment is refused in place, with one it approves.
    log_in(page, base, "flow_legal")
    page.goto(f"{base}/workflow/inbox/")
    page.get_by_test_id("inbox-open-contract").click()
    checklist = page.get_by_test_id("checklist")
    expect(checklist.locator("tr")).to_have_count(6)
    for row in range(6):
        checklist.locator("tr").nth(row).locator("input[value=pass]").check()
    checklist.get_by_test_id("checklist-compliance").locator("input[value=issue]").check()
    checklist.get_by_test_id("checklist-compliance").locator("input[type=text], input:not([type])").fill("需补充数据合规条款")
    page.get_by_test_id("decide-approve").click()
    expect(page.get_by_test_id("decision-error")).to_be_visible()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "in_review")
    # What legal entered is still there: only the comment is missing.
    compliance = page.get_by_test_id("checklist").get_by_test_id("checklist-compliance")
    expect(compliance.locator("input[value=issue]")).to_be_checked()
    expect(compliance.locator("input[type=text], input:not([type])")).to_have_value("需补充数据合规条款")
    page.get_by_test_id("decision-comment").fill("风险可控，同意签署")
    page.get_by_test_id("decide-approve").click()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "approved")
    expect(page.get_by_test_id("approval-status")).to_have_attribute("data-status", "approved")
    expect(steps.nth(1)).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("decision-checklist")).to_have_count(1)
    expect(page.get_by_test_id("decision-checklist")).to_contain_text("需补充数据合规条款")
    _log_out(page)

    # The owner is told.
    log_in(page, base, "flow_sales")
    expect(page.get_by_test_id("unread-count")).to_be_visible()
    page.get_by_test_id("nav-notifications").click()
    expect(page.locator("body")).to_contain_text("浏览器审批合同")
    assert not page.page_errors, page.page_errors
