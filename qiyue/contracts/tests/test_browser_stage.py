"""In a real Chromium, signing a contract on its page moves the stage bar and fills the key facts'
signing date and method at once, without a reload."""

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_signing_updates_the_stage_and_the_facts_in_place(live_server, transactional_db, settings,
                                                          browser_page, language):  # noqa: F811
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = language
    sales = make_user("sales", make_team("Stage team"), username="stage_sales")
    make_user("admin", username="stage_admin")  # the approval goes to an administrator (no manager)
    contract = make_contract(sales, title="阶段条测试合同")
    for name in ("submit", "approve"):
        contract = contract_transition(actor=contract.owner, contract=contract, name=name, via_workflow=name == "approve")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "stage_sales")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    page.evaluate("window.__not_reloaded = true")
    bar = page.get_by_test_id("stage-bar")
    expect(bar.locator("[aria-current=step]")).to_have_attribute("data-stage", "signing")
    expect(page.get_by_test_id("contract-signing-date")).to_have_text("—")

    page.get_by_test_id("open-sign").click()
    form = page.get_by_test_id("transition-sign")
    form.locator("select").select_option("wet_ink")
    form.locator("input[type=date], input[name$=signing_date]").first.fill("2026-02-03")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "signed")
    expect(page.get_by_test_id("contract-signing-date")).to_have_text("2026-02-03")
    expect(page.get_by_test_id("contract-signing-method")).not_to_have_text("—")

    expect(page.get_by_test_id("dialog-sign")).to_have_count(0)  # the dialog went with the old workspace
    if page.get_by_test_id("open-activate").count():  # before the effective date: confirm in a dialog
        page.get_by_test_id("open-activate").click()
        page.get_by_test_id("transition-activate").locator("input[type=checkbox]").check()
    page.get_by_test_id("transition-activate").locator("button[type=submit]").click()
    expect(bar.locator("[aria-current=step]")).to_have_attribute("data-stage", "active")
    assert page.evaluate("window.__not_reloaded === true")  # the same page, never reloaded
    assert not page.page_errors, page.page_errors
