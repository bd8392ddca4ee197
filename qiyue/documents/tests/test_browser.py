"""End to end in a real Chromium: upload a DOCX on a contract, let the worker extract its text,
search a Chinese word from its body, open the hit. Debian's /usr/bin/chromium; never a download."""

import io
import re

import pytest
from django.core.management import call_command
from docx import Document as DocxDocument

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.contracts.tests.factories import make_contract
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401 (the fixture)

BODY = "甲方应在验收合格后三十日内支付澜沧云图专项服务费。"


def docx_bytes() -> bytes:
    document = DocxDocument()
    document.add_heading("技术服务合同", level=1)
    document.add_paragraph(BODY)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "付款节点"
    table.rows[0].cells[1].text = "验收后"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.mark.browser
def test_upload_extract_search_open(live_server, transactional_db, settings, browser_page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = "en"
    team = make_team("Docs team")
    user = make_user("sales", team, username="doc_sales")
    contract = make_contract(user, title="云图服务合同")
    page = browser_page
    base = live_server.url
    log_in(page, base, "doc_sales")

    # Upload through the documents panel (XHR with a progress bar, then the panel refreshes).
    page.goto(f"{base}/contracts/{contract.pk}/#documents")
    upload = page.get_by_test_id("upload-form")
    path = tmp_path / "服务合同.docx"
    path.write_bytes(docx_bytes())
    upload.locator("input[type=file]").set_input_files(str(path))
    upload.locator("button[type=submit]").click()
    expect(page.get_by_test_id("documents")).to_contain_text("服务合同.docx")

    # The worker extracts the text (one pass over the queue), and the index follows after commit.
    call_command("db_worker", "--batch", "--interval", "0", verbosity=0)

    # Search a Chinese word from the body, in the navbar box, and open the hit.
    page.get_by_test_id("nav-search").locator("input[name=q]").fill("澜沧云图")
    page.get_by_test_id("nav-search").locator("input[name=q]").press("Enter")
    hit = page.get_by_test_id("search-hit").first
    expect(hit).to_have_attribute("data-kind", "document")
    expect(hit.locator("mark").first).to_have_text("澜沧云图")
    hit.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/documents/\d+/$"))
    expect(page.locator("main")).to_contain_text("服务合同.docx")
    assert page.page_errors == []
