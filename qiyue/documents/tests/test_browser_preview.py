"""In a real Chromium: the preview of a PDF on a contract shows its pages as images rendered on the
server (every page decodes, the text is on them), with no PDF ever sent to the browser and one
access event. Debian's /usr/bin/chromium; never a download."""

import subprocess

import pytest

from qiyue.accounts.tests.factories import make_team, make_user
from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import previews, services
from qiyue.ops.tests.test_browser import browser_page, log_in  # noqa: F401 (the fixture)

from . import factories as f
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

MARK = "LANCANG PREVIEW 7731"


def ocr(png: bytes) -> str:
    result = subprocess.run(["tesseract", "stdin", "stdout", "-l", "eng", "--psm", "6"], input=png,
                            capture_output=True, timeout=60, check=True)
    return result.stdout.decode()


@pytest.mark.browser
def test_pdf_preview_shows_rendered_pages(live_server, transactional_db, settings, browser_page, storage):  # noqa: F811
    from playwright.sync_api import expect

    settings.LANGUAGE_CODE = "en"
    team = make_team("Preview team")
    user = make_user("sales", team, username="preview_sales")
    contract = make_contract(user, title="Preview contract")
    services.document_upload(actor=user, contract=contract,
                             files=[f.upload("preview.pdf", f.make_pdf(MARK, pages=2))])
    page = browser_page
    base = live_server.url
    log_in(page, base, "preview_sales")

    page.goto(f"{base}/contracts/{contract.pk}/#documents")
    preview_link = page.get_by_test_id("documents").get_by_test_id("preview")
    with page.context.expect_page() as opened:
        preview_link.click()
    preview = opened.value
    content_types: list[str] = []
    errors: list[str] = []
    preview.on("response", lambda r: content_types.append(r.headers.get("content-type", "")))
    preview.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    preview.on("pageerror", lambda exc: errors.append(str(exc)))
    preview.on("download", lambda d: errors.append(f"download: {d.suggested_filename}"))
    preview.set_default_timeout(15_000)

    expect(preview.get_by_test_id("preview-title")).to_have_text("preview")
    images = preview.get_by_test_id("preview-page")
    expect(images).to_have_count(2)
    for index in range(2):
        image = images.nth(index)
        image.scroll_into_view_if_needed()  # the pages after the first load lazily
        preview.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        assert image.evaluate("img => img.naturalWidth") == previews.RENDER_WIDTH
        # The decoded page has ink on it: some pixels are dark.
        dark = image.evaluate("""img => {
            const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] < 100) n++;
            return n; }""")
        assert dark > 100, index
        # What the browser shows is the PDF's page: its text reads back.
        image.scroll_into_view_if_needed()
        assert MARK in ocr(image.screenshot()).upper().replace("\n", " "), index

    assert not any("pdf" in kind for kind in content_types), content_types
    assert sum(kind.startswith("image/png") for kind in content_types) == 2
    assert errors == []
    assert AuditEvent.objects.filter(action="document.previewed").count() == 1


@pytest.mark.browser
@pytest.mark.parametrize("width", [1440, 390])
def test_word_preview_shows_text_and_tables(live_server, transactional_db, settings, browser_page, storage,  # noqa: F811
                                            width):
    from playwright.sync_api import expect

    from qiyue.documents.extraction import run_extraction

    settings.LANGUAGE_CODE = "zh-hans"
    user = make_user("sales", make_team("Word team"), username="word_sales")
    contract = make_contract(user, title="Word 预览合同")
    [document] = services.document_upload(actor=user, contract=contract,
                                          files=[f.upload("采购合同.docx", f.make_docx("第一条 标的物为数控机床。"))])
    run_extraction(document.current_version.pk)
    page = browser_page
    log_in(page, live_server.url, "word_sales")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/contracts/{contract.pk}/#documents")
    with page.context.expect_page() as opened:
        page.get_by_test_id("documents").get_by_test_id("preview").click()
    preview = opened.value
    preview.set_default_timeout(15_000)
    preview.set_viewport_size({"width": width, "height": 900})
    text = preview.get_by_test_id("text-preview")
    expect(text).to_contain_text("第一条 标的物为数控机床。")
    expect(text.locator("td", has_text="100,000 元")).to_be_visible()
    assert preview.evaluate("document.documentElement.scrollWidth") <= width
    assert AuditEvent.objects.filter(action="document.previewed").count() == 1
