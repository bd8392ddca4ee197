"""The preview page: a PDF's pages rendered to PNG on the server (no PDF ever reaches the browser),
an image shown as itself; one access event per preview, the visibility check and the integrity
check on every image, page bounds and render caps."""

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from PIL import Image

from qiyue.audit.models import AuditEvent
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents import previews, services

from . import factories as f
from .factories import storage_fixture  # noqa: F401  (the `storage` fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(users):
    return make_contract(users["sales"], title="预览合同")


def upload(user, contract, name, data):
    [document] = services.document_upload(actor=user, contract=contract, files=[f.upload(name, data)])
    return document.current_version


@pytest.fixture
def pdf_version(users, contract, storage):
    return upload(users["sales"], contract, "预览合同.pdf", f.make_pdf(pages=3))


def previewed():
    return AuditEvent.objects.filter(action="document.previewed")


def image_urls(html: str, testid: str = "preview-page") -> list[str]:
    urls = re.findall(rf'<img src="([^"]+)"[^>]*data-testid="{testid}"', html)
    return [url.replace("&amp;", "&") for url in urls]


def split(url: str) -> tuple[str, str]:
    """An image URL's path and its token."""
    parts = urlsplit(url)
    return parts.path, parse_qs(parts.query)["t"][0]


def open_preview(client, user, version):
    client.force_login(user)
    response = client.get(reverse("documents:preview", args=[version.pk]))
    assert response.status_code == 200
    return response, response.content.decode()


def test_pdf_preview_shows_every_page_as_an_image_with_one_access_event(client, users, contract, pdf_version):
    response, html = open_preview(client, users["legal"], pdf_version)
    assert response["Content-Type"].startswith("text/html")
    assert response["Cache-Control"] == "private, no-store"
    assert "application/pdf" not in html and reverse("documents:download", args=[pdf_version.pk]) in html
    urls = image_urls(html)
    assert [u.split("?")[0] for u in urls] == [
        reverse("documents:preview_page", args=[pdf_version.pk, n]) for n in (1, 2, 3)]
    assert 'loading="lazy"' in html and 'data-page-count="3"' in html
    for url in urls:
        image = client.get(url)
        assert image.status_code == 200, url
        assert image["Content-Type"] == "image/png"
        assert image["Cache-Control"] == "private, no-store" and image["X-Content-Type-Options"] == "nosniff"
        assert image["Content-Security-Policy"].startswith("sandbox")
        png = Image.open(io.BytesIO(image.content))
        png.load()
        assert png.format == "PNG" and png.width == previews.RENDER_WIDTH
        assert png.convert("L").getextrema()[0] < 128  # the page's text is drawn, not a blank page
    [event] = previewed()
    assert (event.kind, event.actor_id, event.contract_id) == ("access", users["legal"].pk, contract.pk)
    assert event.changes["version"] == [None, pdf_version.number]
    assert not AuditEvent.objects.filter(action="document.downloaded").exists()


def test_page_out_of_range_is_404(client, users, pdf_version):
    _, html = open_preview(client, users["sales"], pdf_version)
    _, token = split(image_urls(html)[0])
    for number in (0, 4, previews.MAX_PREVIEW_PAGES + 1):
        url = reverse("documents:preview_page", args=[pdf_version.pk, number])
        assert client.get(url, {"t": token}).status_code == 404, number


def test_images_need_a_token_from_a_preview_of_this_version_by_this_user(client, users, contract, pdf_version,
                                                                         monkeypatch):
    _, html = open_preview(client, users["sales"], pdf_version)
    url = image_urls(html)[0]
    path, token = split(url)
    assert client.get(path).status_code == 403
    assert client.get(path, {"t": token + "x"}).status_code == 403
    other = upload(users["sales"], contract, "另一份.pdf", f.make_pdf())
    assert client.get(reverse("documents:preview_page", args=[other.pk, 1]), {"t": token}).status_code == 403
    client.force_login(users["sales2"])  # may see the contract, but has not opened this preview
    assert client.get(url).status_code == 403
    client.force_login(users["sales"])
    monkeypatch.setattr(previews, "TOKEN_MAX_AGE", -1)
    assert client.get(url).status_code == 403
    assert previewed().count() == 1


def test_another_team_gets_404_for_the_page_and_every_image(client, users, contract, storage):
    png = upload(users["sales"], contract, "扫描件.png", f.make_image("PNG"))
    pdf = upload(users["sales"], contract, "合同.pdf", f.make_pdf(pages=2))
    _, pdf_html = open_preview(client, users["sales"], pdf)
    _, png_html = open_preview(client, users["sales"], png)
    urls = image_urls(pdf_html) + image_urls(png_html, "preview-image")
    assert len(urls) == 3
    access = AuditEvent.objects.filter(kind="access")
    before = access.count()
    client.force_login(users["sales_b"])
    for url in [reverse("documents:preview", args=[pdf.pk]), reverse("documents:preview", args=[png.pk]), *urls]:
        assert client.get(url).status_code == 404, url
    client.logout()
    assert client.get(urls[0]).status_code == 302  # to the login page
    assert access.count() == before and not access.filter(actor_id=users["sales_b"].pk).exists()


def test_tampered_file_shows_the_integrity_error_and_never_an_image(client, users, pdf_version, storage):
    _, html = open_preview(client, users["sales"], pdf_version)
    url = image_urls(html)[0]
    [blob] = f.stored_blobs(storage)
    raw = bytearray(blob.read_bytes())
    raw[-5] ^= 0x80
    blob.write_bytes(bytes(raw))

    image = client.get(url)
    assert image.status_code == 409 and image["Content-Type"].startswith("text/html")
    assert 'data-error-code="integrity_failed"' in image.content.decode()
    page = client.get(reverse("documents:preview", args=[pdf_version.pk]))
    assert page.status_code == 409 and 'data-error-code="integrity_failed"' in page.content.decode()
    assert image_urls(page.content.decode()) == []
    assert AuditEvent.objects.filter(action="document.integrity_failed").count() == 2
    assert previewed().count() == 1  # the one before the file was changed


def test_image_preview_shows_the_verified_image_inline(client, users, contract, storage):
    data = f.make_image("JPEG")
    version = upload(users["sales"], contract, "扫描件.jpg", data)
    _, html = open_preview(client, users["sales"], version)
    assert image_urls(html) == []
    [url] = image_urls(html, "preview-image")
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "image/jpeg" and response["Content-Disposition"].startswith("inline;")
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Cache-Control"] == "private, no-store"
    assert previewed().count() == 1
    # The page-image route is for PDFs only.
    _, token = split(url)
    assert client.get(reverse("documents:preview_page", args=[version.pk, 1]), {"t": token}).status_code == 404


def test_no_preview_for_other_types(client, users, contract, storage):
    version = upload(users["sales"], contract, "扫描件.tiff", f.make_image("TIFF"))
    client.force_login(users["sales"])
    assert client.get(reverse("documents:preview", args=[version.pk])).status_code == 404
    assert client.get(reverse("documents:preview_image", args=[version.pk])).status_code == 404
    assert not previewed().exists()


def test_long_pdf_shows_the_first_pages(client, users, pdf_version, monkeypatch):
    monkeypatch.setattr(previews, "MAX_PREVIEW_PAGES", 2)
    _, html = open_preview(client, users["sales"], pdf_version)
    urls = image_urls(html)
    assert len(urls) == 2 and 'data-testid="preview-truncated"' in html
    assert client.get(urls[1]).status_code == 200
    assert client.get(urls[1].replace("/page/2.png", "/page/3.png")).status_code == 404


def test_unrenderable_pdf_says_so(client, users, pdf_version, monkeypatch):
    def fail(file):
        raise previews.PreviewUnavailable("broken")

    monkeypatch.setattr(previews, "pdf_layout", fail)
    _, html = open_preview(client, users["sales"], pdf_version)
    assert 'data-testid="preview-unavailable"' in html and image_urls(html) == []


# --- Rendering bounds (no database) ------------------------------------------------------------

def pdf_with_page(width_pt: float, height_pt: float) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(width_pt, height_pt))
    pdf.rect(10, 10, width_pt - 20, height_pt - 20, fill=1)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


@pytest.mark.parametrize(("width_pt", "height_pt"), [
    (595, 842),  # A4: RENDER_WIDTH wide
    (14400, 14400),  # the largest page PDF allows: the pixel cap
    (200, 14400),  # a long strip: the side cap
    (3, 3),  # a stamp-sized page: still RENDER_WIDTH wide
])
def test_render_is_capped(width_pt, height_pt):
    layout = previews.pdf_layout(io.BytesIO(pdf_with_page(width_pt, height_pt)))
    [size] = layout.pages
    png = Image.open(io.BytesIO(previews.pdf_page_png(io.BytesIO(pdf_with_page(width_pt, height_pt)), 1)))
    assert (png.width, png.height) == (size.width, size.height)
    assert png.width * png.height <= previews.MAX_RENDER_PIXELS * 1.01
    assert max(png.width, png.height) <= previews.MAX_RENDER_SIDE
    assert png.width <= previews.RENDER_WIDTH
    if width_pt == 595:
        assert png.width == previews.RENDER_WIDTH


def test_not_a_pdf_is_unavailable():
    with pytest.raises(previews.PreviewUnavailable):
        previews.pdf_layout(io.BytesIO(b"%PDF-1.7 but nothing else"))


# --- Word and Excel: their extracted text, paragraphs and tables ------------------------------------

def _extracted(version):
    from qiyue.documents.extraction import run_extraction

    assert run_extraction(version.pk) == "done"
    version.refresh_from_db()
    return version


def test_word_preview_shows_its_text_and_tables_with_one_access_event(client, users, contract, storage):
    version = upload(users["sales"], contract, "采购合同.docx", f.make_docx("第一条 标的物为数控机床。"))
    version = _extracted(version)
    before = previewed().count()
    _response, html = open_preview(client, users["sales"], version)
    preview = html[html.index('data-testid="text-preview"'):]
    assert "采购合同" in preview and "第一条 标的物为数控机床。" in preview
    assert re.search(r"<td>金额</td><td>100,000 元</td>", preview)  # the Word table, as a table
    assert previewed().count() == before + 1
    assert "<img" not in preview and "Download the file to open it in Word" in html
    # The panel offers the preview; the file is never served inline for it.
    panel = client.get(reverse("documents:contract_panel", args=[contract.pk])).content.decode()
    assert reverse("documents:preview", args=[version.pk]) in panel
    assert client.get(reverse("documents:preview_image", args=[version.pk]), {"t": "x"}).status_code == 404


def test_excel_preview_shows_each_sheet_as_a_table(client, users, contract, storage):
    version = _extracted(upload(users["sales"], contract, "报价单.xlsx", f.make_xlsx("单价 300 元")))
    _response, html = open_preview(client, users["sales"], version)
    assert re.search(r'data-testid="sheet-name">.*Sheet', html)
    assert re.search(r"<tr><td>条款</td><td>内容</td></tr><tr><td>1</td><td>单价 300 元</td></tr>", html)


def test_word_preview_waits_for_the_text_and_escapes_it(client, users, contract, storage):
    version = upload(users["sales"], contract, "待读.docx", f.make_docx("<script>alert(1)</script>"))
    type(version).objects.filter(pk=version.pk).update(extraction_status="queued")
    _response, html = open_preview(client, users["sales"], version)
    assert 'data-testid="preview-pending"' in html and 'hx-trigger="every 3s"' in html
    version = _extracted(version)
    _response, html = open_preview(client, users["sales"], version)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    type(version).objects.filter(pk=version.pk).update(extraction_status="failed")
    _response, html = open_preview(client, users["sales"], version)
    assert 'data-testid="preview-unavailable"' in html


def test_word_preview_follows_visibility(client, users, contract, storage):
    version = upload(users["sales"], contract, "他组不可见.docx", f.make_docx())
    client.force_login(users["sales_b"])
    assert client.get(reverse("documents:preview", args=[version.pk])).status_code == 404


def test_text_pages_cap_and_shape():
    pages, cut = previews.text_pages("标题\n正文\na\tb\nc\n", [0], sheets=False)
    assert not cut and pages[0].blocks == [("p", "标题"), ("p", "正文"), ("table", [["a", "b"]]), ("p", "c")]
    pages, _cut = previews.text_pages("表一\nx\ty\tz\nw\n表二\n1", [0, 11], sheets=True)
    assert [p.title for p in pages] == ["表一", "表二"]
    assert pages[0].blocks == [("table", [["x", "y", "z"], ["w", "", ""]])] and pages[1].blocks == [("table", [["1"]])]
    big = "\n".join(f"第{n}段" for n in range(previews.MAX_TEXT_BLOCKS + 10))
    pages, cut = previews.text_pages(big, [0], sheets=False)
    assert cut and sum(len(p.blocks) for p in pages) == previews.MAX_TEXT_BLOCKS
