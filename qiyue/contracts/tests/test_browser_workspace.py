"""In a real Chromium: the contract workspace's tabs work with the keyboard and stay chosen through an
action and a reload; the "more" menu opens a dialog per action, Escape closes it; a failed dialog
opens again with its error; a document's text status moves from queued to done without a reload."""

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import services as document_services
from qiyue.documents.models import DocumentVersion
from qiyue.documents.tests import factories as f
from qiyue.documents.tests.factories import storage_fixture  # noqa: F401  (the `storage` fixture)
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1440, 390])
def test_tabs_menu_and_dialogs(live_server, transactional_db, settings, browser_page, width):  # noqa: F811
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = "en"
    team = make_team("Workspace team")
    sales = make_user("sales", team, username="ws_sales")
    admin = make_user("admin", username="ws_admin")
    contract = make_contract(sales, title="工作区测试合同")
    for name in ("submit", "approve"):
        contract = contract_transition(actor=contract.owner, contract=contract, name=name, via_workflow=name == "approve")
    contract = contract_transition(actor=admin, contract=contract, name="sign", signing_method="wet_ink",
                                   signing_date=contract.effective_date)
    page = browser_page
    log_in(page, live_server.url, "ws_admin")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    page.evaluate("window.__not_reloaded = true")

    # Tabs: the overview first; arrow keys move along the tabs, the choice lands in the address.
    expect(page.get_by_test_id("pane-overview")).to_be_visible()
    expect(page.get_by_test_id("pane-money")).to_be_hidden()
    page.get_by_test_id("tab-overview").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("tab-documents")).to_be_focused()
    expect(page.get_by_test_id("tab-documents")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("pane-documents")).to_be_visible()
    page.get_by_test_id("tab-money").click()
    expect(page.get_by_test_id("empty-money")).to_be_visible()
    assert page.url.endswith("#money")

    # The "more" menu, by keyboard: terminate opens its own dialog; Escape closes it and nothing changes.
    page.get_by_test_id("more-actions").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("open-terminate")).to_be_visible()
    page.get_by_test_id("open-terminate").click()
    dialog = page.get_by_test_id("dialog-terminate")
    expect(dialog).to_be_visible()
    expect(dialog.locator("textarea")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Submitting without a reason: the dialog opens again with the error; the tab stays chosen.
    page.get_by_test_id("more-actions").click()
    page.get_by_test_id("open-terminate").click()
    dialog.locator("button[type=submit]").click()
    expect(page.get_by_test_id("dialog-terminate").get_by_test_id("error-reason")).to_be_visible()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "signed")
    page.get_by_test_id("dialog-terminate").locator("textarea").fill("客户违约，提前终止")
    page.get_by_test_id("dialog-terminate").locator("select[name=terminate-category]").select_option("customer_breach")
    page.get_by_test_id("dialog-terminate").locator("button[type=submit]").click()
    expect(page.get_by_test_id("status-badge")).to_have_attribute("data-status", "terminated")
    expect(page.get_by_test_id("status-message")).to_be_visible()
    expect(page.get_by_test_id("dialog-terminate")).to_have_count(0)
    expect(page.get_by_test_id("pane-money")).to_be_visible()  # still on the tab the user chose
    expect(page.get_by_test_id("stage-bar").locator("[aria-current=step]")).to_have_attribute("data-stage", "closed")
    page.get_by_test_id("tab-timeline").click()
    expect(page.get_by_test_id("timeline")).to_contain_text("客户违约，提前终止")
    page.get_by_test_id("tab-overview").click()
    expect(page.get_by_test_id("status-reason")).to_have_text("客户违约，提前终止")

    # A legal hold through its dialog; the badge appears in the header at once.
    page.get_by_test_id("more-actions").click()
    page.get_by_test_id("open-legal-hold").click()
    page.get_by_test_id("dialog-legal-hold").locator("textarea").fill("诉讼保全")
    page.get_by_test_id("dialog-legal-hold").locator("button[type=submit]").click()
    expect(page.get_by_test_id("legal-hold-badge")).to_be_visible()
    assert page.evaluate("window.__not_reloaded === true")

    # A reload keeps the chosen tab.
    page.get_by_test_id("tab-timeline").click()
    page.reload()
    expect(page.get_by_test_id("pane-timeline")).to_be_visible()
    expect(page.get_by_test_id("pane-overview")).to_be_hidden()
    # Nothing is wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1)"
        ".map(e => e.tagName + '.' + e.className)")
    assert not page.page_errors, page.page_errors


@pytest.mark.browser
def test_text_status_follows_the_worker_without_a_reload(live_server, transactional_db, settings,
                                                         browser_page, storage):  # noqa: F811
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = "en"
    sales = make_user("sales", make_team("Text team"), username="text_sales")
    contract = make_contract(sales, title="文本状态合同")
    [document] = document_services.document_upload(actor=sales, contract=contract,
                                                   files=[f.upload("合同正文.pdf", f.make_pdf())])
    version = document.current_version
    DocumentVersion.objects.filter(pk=version.pk).update(extraction_status="queued")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "text_sales")
    page.goto(f"{live_server.url}/contracts/{contract.pk}/#documents")
    page.evaluate("window.__not_reloaded = true")
    badge = page.locator(f"[data-document-id='{document.pk}'] .badge")
    expect(badge).to_have_text("Queued")
    page.get_by_test_id("upload-form").locator("input[name=title]").fill("half-typed title")
    DocumentVersion.objects.filter(pk=version.pk).update(extraction_status="done")
    expect(badge).to_have_text("Done", timeout=10_000)
    # Only the rows were fetched again: what the user was typing is still there.
    expect(page.get_by_test_id("upload-form").locator("input[name=title]")).to_have_value("half-typed title")
    assert page.evaluate("window.__not_reloaded === true")
    assert not page.page_errors, page.page_errors
