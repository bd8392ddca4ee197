"""Document hits from real files, end to end: a PDF made with reportlab, a DOCX made with python-docx
and an XLSX made with openpyxl are stored, extracted by the extraction task, indexed when their text
is announced, and searched through the selector, the page and the API."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from qiyue.documents.extraction import run_extraction
from qiyue.documents.models import DocumentText
from qiyue.documents.tests import files
from qiyue.search.indexing import WHOLE_CHUNK
from qiyue.search.models import SearchEntry
from qiyue.search.selectors import search

pytestmark = pytest.mark.django_db

# A paragraph of a real contract, laid out 13 characters a line: the lines end inside words
# (合同|总额, 银行|账户 …), as a PDF of it written by a word processor does.
PARAGRAPH = ("本合同项下的违约金按合同总额的百分之五计算，甲方应在收到乙方开具的增值税专用发票后三十日内"
             "将款项支付至乙方指定的银行账户，逾期付款的按日万分之五支付滞纳金。")
WIDTH = 13


def stored(owner, data: bytes, file_type: str, django_capture_on_commit_callbacks):
    """A document of `data` on a new contract, extracted and indexed as the worker would."""
    version = files.make_stored_version(owner, data, file_type)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_extraction(version.pk) == "done"
    version.document.refresh_from_db()
    return version.document


def document_hit(user, q):
    hits = [hit for hit in search(user=user, q=q).hits if hit.kind == "document"]
    assert len(hits) == 1, q
    return hits[0]


def test_a_chinese_word_broken_by_a_line_end_in_a_pdf_is_found(users, django_capture_on_commit_callbacks):
    owner = users["sales"]
    lines = [PARAGRAPH[i:i + WIDTH] for i in range(0, len(PARAGRAPH), WIDTH)]
    assert lines[0].endswith("合同总") and lines[1].startswith("额")
    document = stored(owner, files.text_pdf([lines]), "pdf", django_capture_on_commit_callbacks)
    hit = document_hit(owner, "合同总额")
    assert hit.object == document and hit.page == 1 and "<mark>合同总额</mark>" in hit.snippet
    # Every four characters of the paragraph are found, across a line end or not, as in the DOCX.
    for start in range(len(PARAGRAPH) - 3):
        word = PARAGRAPH[start:start + 4]
        if re.search(r"[，。]", word):
            continue
        assert search(user=owner, q=word).count >= 1, word


def test_the_same_text_is_found_alike_in_the_pdf_and_the_docx(users, django_capture_on_commit_callbacks):
    import io

    import docx

    owner = users["sales"]
    lines = [PARAGRAPH[i:i + WIDTH] for i in range(0, len(PARAGRAPH), WIDTH)]
    pdf = stored(owner, files.text_pdf([lines]), "pdf", django_capture_on_commit_callbacks)
    word = docx.Document()
    word.add_paragraph(PARAGRAPH)
    out = io.BytesIO()
    word.save(out)
    doc = stored(owner, out.getvalue(), "docx", django_capture_on_commit_callbacks)
    for q in ("合同总额", "银行账户", "滞纳金", "增值税专用发票"):
        assert {h.object.pk for h in search(user=owner, q=q).hits if h.kind == "document"} == {pdf.pk, doc.pk}, q


FILLER = "Clause {n}: the Supplier delivers the goods to the Buyer at the agreed place and time."


def three_page_pdf() -> bytes:
    """Page 1 short; page 2 long, so the text's second chunk starts on it; "liquidated damages" only
    on page 3. The words "liquidated" and "damages" stand alone on pages 1 and 2, also near the
    end of page 2, in the part of the second chunk before page 3."""
    first = ["Definitions: damages means any loss; liquidated means fixed in advance."]
    second = [FILLER.format(n=n) for n in range(1, 55)] + ["The damages of clause 9 are not liquidated here."]
    third = ["Clause 50: if the Supplier is late it pays liquidated damages of 0.5% a day."]
    return files.text_pdf([first, second, third], font_size=7)


def test_a_pdf_hit_names_the_page_the_phrase_is_on(users, django_capture_on_commit_callbacks):
    owner = users["sales"]
    document = stored(owner, three_page_pdf(), "pdf", django_capture_on_commit_callbacks)
    text = DocumentText.objects.get(version_id=document.current_version_id)
    assert len(text.pages) == 3 and text.text.index("liquidated damages") > text.pages[2]
    chunks = {e.chunk: e for e in SearchEntry.objects.filter(kind="document", object_id=document.pk)
              .exclude(chunk=WHOLE_CHUNK)}
    assert len(chunks) == 2 and chunks[1].page == 2  # the phrase's chunk starts on page 2
    assert "liquidated damages" not in chunks[0].text and "not liquidated" in chunks[1].text
    # Every offset of every chunk maps to the page its character is on (chunks overlap).
    starts = [*text.pages, len(text.text) + 1]
    for entry in chunks.values():
        offset = text.text.index(entry.text)
        for at in range(len(entry.text)):
            assert starts[entry.page_at(at) - 1] <= offset + at < starts[entry.page_at(at)], (entry.chunk, at)

    hit = document_hit(owner, '"liquidated damages"')
    assert hit.page == 3
    assert "<mark>liquidated damages</mark>" in hit.snippet
    assert "<mark>damages</mark>" not in hit.snippet and "<mark>liquidated</mark>" not in hit.snippet
    # A word on page 3 only, and one on pages 1 and 2 only.
    assert document_hit(owner, "0.5%").page == 3
    assert document_hit(owner, "definitions").page == 1


def test_a_phrase_snippet_centres_on_the_phrase_not_on_its_words_elsewhere(users,
                                                                         django_capture_on_commit_callbacks):
    owner = users["sales"]
    lines = ["Force is a word of physics; majeure is French."] + [FILLER.format(n=n) for n in range(1, 6)] + [
        "Neither party is liable for a delay caused by force majeure."]
    stored(owner, files.text_pdf([lines], font_size=8), "pdf", django_capture_on_commit_callbacks)
    snippet = document_hit(owner, '"force majeure"').snippet
    assert "<mark>force majeure</mark>" in snippet and "physics" not in snippet
    assert snippet.count("<mark>") == 1
    # Mixed runs of one word are a phrase too.
    snippet = document_hit(owner, "majeure.").snippet
    assert "<mark>majeure</mark>" in snippet


def test_a_match_in_the_title_only_names_no_page(users, django_capture_on_commit_callbacks):
    owner = users["sales"]
    document = stored(owner, three_page_pdf(), "pdf", django_capture_on_commit_callbacks)
    hit = document_hit(owner, document.title)  # 合同正文: in the title, not in the text
    assert hit.page is None and "<mark>" not in hit.snippet


@pytest.mark.parametrize("file_type, build, q", [
    ("docx", lambda: files.docx_file(pages=3), "技术规格书"),
    ("xlsx", files.xlsx_file, "甲方联系人"),
])
def test_files_without_pages_name_no_page(users, client, file_type, build, q, django_capture_on_commit_callbacks):
    owner = users["sales"]
    document = stored(owner, build(), file_type, django_capture_on_commit_callbacks)
    hit = document_hit(owner, q)
    assert hit.object == document and hit.page is None and f"<mark>{q}</mark>" in hit.snippet

    api = APIClient()
    api.force_authenticate(owner)
    [result] = [r for r in api.get("/api/v1/search/", {"q": q}).json()["results"] if r["type"] == "document"]
    assert result["page"] is None

    client.force_login(owner)
    body = client.get(reverse("search:results"), {"q": q}).content.decode()
    assert 'data-kind="document"' in body and "page 1" not in body


def test_a_pdf_hit_shows_its_page_in_the_page_and_the_api(users, client, django_capture_on_commit_callbacks):
    owner = users["sales"]
    stored(owner, three_page_pdf(), "pdf", django_capture_on_commit_callbacks)
    client.force_login(owner)
    body = client.get(reverse("search:results"), {"q": "0.5%"}).content.decode()
    assert "page 3" in body
    api = APIClient()
    api.force_authenticate(owner)
    [result] = api.get("/api/v1/search/", {"q": '"liquidated damages"'}).json()["results"]
    assert result["page"] == 3
