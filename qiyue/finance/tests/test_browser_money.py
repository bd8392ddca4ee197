"""In a real Chromium, in both languages: finance sets up a contract's payment plan in the editor
(adding a row, the running total), records a payment and sees what is outstanding change on the contract
on the customer's page and on the dashboard, is refused an overpayment in place; the owner adds an obligation on the
execution tab and marks it done."""

import datetime

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.finance.tests.factories import signed_contract
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401  (the fixture)


def _log_out(page):
    page.get_by_test_id("current-user").click()
    page.get_by_test_id("log-out").click()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_plan_payment_and_obligation(live_server, transactional_db, settings, browser_page, language):  # noqa: F811
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = language
    team = make_team("收款团队")
    sales = make_user("sales", team, username="money_sales")
    make_user("manager", team, username="money_manager")
    make_user("legal", username="money_legal")
    make_user("finance", username="money_finance")
    contract = signed_contract(sales, amount="10000.00", title="浏览器收款合同")
    page = browser_page
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})

    log_in(page, base, "money_finance")
    page.goto(f"{base}/contracts/{contract.pk}/#money")
    expect(page.get_by_test_id("empty-money")).to_be_visible()
    page.get_by_test_id("open-plan").click()
    dialog = page.get_by_test_id("dialog-plan")
    amounts = dialog.get_by_test_id("plan-amount")
    expect(amounts).to_have_count(1)  # one row with the whole amount to start from
    amounts.nth(0).fill("4000.00")
    dialog.get_by_test_id("plan-due").nth(0).fill("2026-01-20")
    dialog.get_by_test_id("plan-add").click()
    amounts.nth(1).fill("6000.00")
    dialog.get_by_test_id("plan-due").nth(1).fill((datetime.date.today() + datetime.timedelta(days=60)).isoformat())
    expect(dialog.locator("[data-plan-total]")).to_contain_text("10,000.00 / 10,000.00")
    dialog.get_by_test_id("plan-save").click()
    rows = page.get_by_test_id("installment")
    expect(rows).to_have_count(2)
    expect(page.get_by_test_id("money-overdue")).to_have_text("4,000.00")
    # The dashboard's receivables: all of it outstanding, the first installment overdue.
    page.goto(f"{base}/")
    expect(page.get_by_test_id("receivable-outstanding-CNY")).to_have_text("10,000.00")
    expect(page.get_by_test_id("receivable-overdue-CNY")).to_have_text("4,000.00")
    page.goto(f"{base}/contracts/{contract.pk}/#money")

    # More than is owed: refused in the dialog, with what was typed kept.
    page.get_by_test_id("open-payment").click()
    payment = page.get_by_test_id("dialog-payment")
    payment.get_by_test_id("payment-amount").fill("12000")
    payment.get_by_test_id("payment-save").click()
    expect(page.get_by_test_id("payment-error")).to_be_visible()
    expect(page.get_by_test_id("payment-amount")).to_have_value("12000")
    page.get_by_test_id("payment-amount").fill("5000.00")
    page.get_by_test_id("payment-save").click()
    expect(page.get_by_test_id("status-message")).to_be_visible()
    expect(page.get_by_test_id("money-received")).to_have_text("5,000.00")
    expect(page.get_by_test_id("money-outstanding")).to_have_text("5,000.00")
    expect(page.get_by_test_id("money-overdue")).to_have_text("0.00")
    expect(rows.nth(0).get_by_test_id("installment-status")).to_contain_text("2026")  # paid on
    expect(page.get_by_test_id("payment")).to_have_count(1)
    # The customer's page adds it up: received, outstanding, nothing overdue any more.
    page.goto(f"{base}/customers/{contract.customer_id}/")
    expect(page.get_by_test_id("summary-received-CNY")).to_have_text("5,000.00")
    expect(page.get_by_test_id("summary-outstanding-CNY")).to_have_text("5,000.00")
    expect(page.get_by_test_id("summary-overdue-CNY")).to_have_text("0.00")
    # And so does the dashboard: half of it still owed, nothing overdue, all of it not yet due.
    page.goto(f"{base}/")
    expect(page.get_by_test_id("receivable-outstanding-CNY")).to_have_text("5,000.00")
    expect(page.get_by_test_id("receivable-overdue-CNY")).to_have_text("0.00")
    expect(page.get_by_test_id("chart-aging").locator("svg")).to_be_visible()
    expect(page.get_by_test_id("table-aging").locator('tr[data-bucket="not_due"] td')).to_have_text("5,000.00")
    _log_out(page)

    # The owner: sees the money, cannot record it; adds an obligation and marks it done.
    log_in(page, base, "money_sales")
    page.goto(f"{base}/contracts/{contract.pk}/#money")
    expect(page.get_by_test_id("money-received")).to_have_text("5,000.00")
    expect(page.get_by_test_id("open-payment")).to_have_count(0)
    page.goto(f"{base}/contracts/{contract.pk}/#execution")
    page.get_by_test_id("open-obligation").click()
    new = page.get_by_test_id("dialog-obligation-new")
    new.locator("input[name=description]").fill("交付设备并完成安装调试")
    new.locator("input[name=due_date]").fill("2026-02-01")
    new.get_by_test_id("obligation-save").click()
    obligation = page.get_by_test_id("obligation")
    expect(obligation).to_have_attribute("data-status", "open")
    obligation.get_by_test_id("open-done").click()
    page.get_by_test_id("dialog-done").get_by_test_id("done").click()
    expect(page.get_by_test_id("obligation")).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("progress-obligations")).to_contain_text("1")
    # The swapped-in workspace loads its documents panels lazily: let those requests end before the next
    # test writes to the shared in-memory database (SQLite would refuse it: "table is locked").
    page.wait_for_function("""() => document.readyState === 'complete'
        && !document.querySelector('[hx-trigger="load"], .htmx-request')""")


@pytest.mark.browser
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_invoice_request_issue_and_receivables(live_server, transactional_db, settings, browser_page,  # noqa: F811
                                               language):
    """Sales ask for an invoice; finance records it as issued from the tax platform and sees the invoiced
    figure, then records a payment from the receivables page and sees what is owed go."""
    from playwright.sync_api import expect

    from qiyue.finance.tests.factories import plan

    settings.LANGUAGE_CODE = language
    team = make_team("开票团队")
    sales = make_user("sales", team, username="inv_sales")
    make_user("manager", team, username="inv_manager")
    make_user("legal", username="inv_legal")
    finance = make_user("finance", username="inv_finance")
    contract = signed_contract(sales, amount="11300.00", title="浏览器开票合同")
    plan(finance, contract, (datetime.date(2026, 2, 1), "11300.00"))
    page = browser_page
    base = live_server.url
    page.set_viewport_size({"width": 1440, "height": 900})

    log_in(page, base, "inv_sales")
    page.goto(f"{base}/contracts/{contract.pk}/#money")
    page.get_by_test_id("open-invoice-request").click()
    dialog = page.get_by_test_id("dialog-invoice-request")
    dialog.locator("select[name=kind]").select_option("digital_general")
    dialog.get_by_test_id("invoice-total").fill("11300.00")
    dialog.locator("input[name=tax_rate]").fill("13")
    dialog.get_by_test_id("invoice-request-save").click()
    expect(page.get_by_test_id("invoice")).to_have_attribute("data-status", "requested")
    expect(page.get_by_test_id("money-invoice-requested")).to_have_text("11,300.00")
    _log_out(page)

    log_in(page, base, "inv_finance")
    page.goto(f"{base}/contracts/{contract.pk}/#money")
    page.get_by_test_id("open-invoice-issue").click()
    issue = page.get_by_test_id("dialog-invoice-issue")
    issue.get_by_test_id("invoice-number").fill("123")  # not a digital number: refused in place
    issue.get_by_test_id("invoice-issue-save").click()
    expect(page.get_by_test_id("invoice-error")).to_be_visible()
    page.get_by_test_id("dialog-invoice-issue").get_by_test_id("invoice-number").fill("26442000000012340001")
    page.get_by_test_id("dialog-invoice-issue").get_by_test_id("invoice-issue-save").click()
    expect(page.get_by_test_id("invoice")).to_have_attribute("data-status", "issued")
    expect(page.get_by_test_id("money-invoiced")).to_contain_text("11,300.00")
    expect(page.get_by_test_id("money-invoiced-unpaid")).to_have_text("11,300.00")

    page.goto(f"{base}/finance/receivables/")
    expect(page.get_by_test_id("receivable")).to_have_count(1)
    page.get_by_test_id("receivable-select").check()
    page.get_by_test_id("receivable-pay-submit").click()
    expect(page.get_by_test_id("empty-receivables")).to_be_visible()
    page.goto(f"{base}/contracts/{contract.pk}/#money")
    expect(page.get_by_test_id("money-outstanding")).to_have_text("0.00")
    expect(page.get_by_test_id("money-invoiced-unpaid")).to_have_text("0.00")
    page.wait_for_function("""() => document.readyState === 'complete'
        && !document.querySelector('[hx-trigger="load"], .htmx-request')""")
