"""Text out of real files of every stored type (built in the test), OCR included; no database."""

import io
import time

import pytest

from qiyue.documents import ocr
from qiyue.documents.textformats import (
    ExtractionFailure,
    FailureCode,
    TimeLimitExceeded,
    extract,
    join_wrapped_lines,
    normalize,
)

from . import files


def run(file_type: str, data: bytes, **options):
    return extract(file_type, io.BytesIO(data), **options)


def page(result, number: int) -> str:
    starts = [*result.page_starts, len(result.text)]
    return result.text[starts[number - 1]: starts[number]]


def test_text_pdf_pages_and_offsets():
    result = run("pdf", files.text_pdf())
    assert result.page_count == 2 and not result.ocr_used
    assert len(result.page_starts) == 2 and result.page_starts[0] == 0
    assert "第一页：合同金额为人民币壹佰万元整。" in page(result, 1)
    assert "Beijing Example Technology" in page(result, 1)
    assert page(result, 2).startswith("第二页：甲方与乙方签署本补充协议。")
    assert "net thirty days" in page(result, 2)
    assert "第二页" not in page(result, 1)


def test_text_pdf_lines_wrapped_inside_chinese_words_are_joined_and_pages_stay_right():
    result = run("pdf", files.text_pdf([
        ["第一页：本合同项下的违约金按合同总", "额的百分之五计算。", "The Supplier shall pay liquidated", "damages."],
        ["第二页：知识产权归甲", "方所有，乙方不得", "擅自使用。", "Clause 2", "第三条 保密"],
    ]))
    assert page(result, 1) == ("第一页：本合同项下的违约金按合同总额的百分之五计算。\n"
                               "The Supplier shall pay liquidated\ndamages.\n\n")
    # Joined inside Chinese, kept next to Latin words, digits and punctuation.
    assert page(result, 2) == "第二页：知识产权归甲方所有，乙方不得擅自使用。\nClause 2\n第三条 保密"
    assert result.page_starts == [0, result.text.index("第二页")]


@pytest.mark.parametrize("raw, expected", [
    ("合同总\n额", "合同总额"),
    ("契約\nします", "契約します"),                            # kana too
    ("甲方\n\n乙方", "甲方\n\n乙方"),                          # a blank line is a paragraph break
    ("liquidated\ndamages", "liquidated\ndamages"),          # Latin words stay apart
    ("金额：\n人民币", "金额：\n人民币"),                          # after punctuation: a real line end
    ("第3\n条", "第3\n条"),
    ("USB\n接口", "USB\n接口"),
    ("한국\n어", "한국\n어"),                                  # Korean wraps at spaces
])
def test_join_wrapped_lines(raw, expected):
    assert join_wrapped_lines(raw) == expected


def test_docx_body_table_header_and_footer():
    result = run("docx", files.docx_file(pages=3))
    text = result.text
    for expected in ("本合同由甲方北京示例科技有限公司与乙方签订。", "The Supplier shall deliver the goods.",
                     "合同金额\t人民币伍拾万元", "Delivery date\t2026-03-31", "附件：技术规格书。",
                     "页眉：保密合同 Confidential", "页脚：第一页共三页 Footer"):
        assert expected in text
    assert text.index("页眉") < text.index("本合同") < text.index("合同金额") < text.index("附件") < text.index("页脚")
    assert result.page_count == 3 and result.page_starts == [0] and not result.ocr_used


def test_docx_without_page_count_in_app_properties():
    assert run("docx", files.docx_file(pages=None)).page_count is None


def test_xlsx_every_sheet_is_a_page():
    result = run("xlsx", files.xlsx_file())
    assert result.page_count == 2 and len(result.page_starts) == 2
    first, second = page(result, 1), page(result, 2)
    assert first.startswith("付款计划\n期数\t金额\t到期日\n")
    assert "1\t250000.5\t2026-06-30" in first and "2\t750000\t2026-12-31" in first
    assert second.startswith("Contacts\n") and "张三\t13800000000" in second and "备注：甲方联系人" in second


def test_png_scan_is_ocred_in_chinese_and_english():
    result = run("png", files.png_scan(["合同金额人民币", "甲方乙方签字", "Contract Payment"]))
    assert result.ocr_used and result.page_count == 1
    assert "合同金额人民币" in result.text
    assert "Contract" in result.text


def test_multi_frame_tiff_has_a_page_per_frame():
    result = run("tiff", files.tiff_scan([["合同金额人民币", "Invoice"], ["本合同由甲方与乙方签订", "Payment"]]))
    assert result.page_count == 2 and result.ocr_used
    assert "合同金额" in page(result, 1) and "Invoice" in page(result, 1)
    assert "甲方与乙方签订" in page(result, 2) and "Payment" in page(result, 2)


def test_jpeg_scan():
    data = files.image_bytes(files.text_image(["合同金额人民币", "Contract Payment"]), "JPEG", quality=90)
    result = run("jpeg", data)
    assert "合同金额" in result.text and "Payment" in result.text


def test_scanned_pdf_is_ocred_page_by_page():
    result = run("pdf", files.scanned_pdf([["合同金额人民币", "Contract"], ["本合同由甲方与乙方签订", "Payment"]]))
    assert result.ocr_used and result.page_count == 2
    assert "合同金额人民币" in page(result, 1) and "Contract" in page(result, 1)
    assert "甲方与乙方签订" in page(result, 2) and "Payment" in page(result, 2)


def test_mixed_pdf_ocrs_only_the_scanned_page(monkeypatch):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(files.text_pdf())).pages[0])
    writer.add_page(PdfReader(io.BytesIO(files.scanned_pdf([["本合同由甲方与乙方签订", "Payment"]]))).pages[0])
    out = io.BytesIO()
    writer.write(out)
    calls = []
    real = ocr.ocr_image
    monkeypatch.setattr(ocr, "ocr_image", lambda image, **kw: calls.append(image.size) or real(image, **kw))
    result = run("pdf", out.getvalue())
    assert len(calls) == 1 and result.ocr_used
    assert "合同金额为人民币" in page(result, 1) and "甲方与乙方签订" in page(result, 2)


def test_blank_page_is_not_ocred(monkeypatch):
    monkeypatch.setattr(ocr, "ocr_image", lambda *a, **kw: pytest.fail("a page without an image was OCR'd"))
    result = run("pdf", files.text_pdf([["合同"], []]))
    assert result.page_count == 2 and not result.ocr_used and page(result, 1).strip() == "合同"


def test_text_is_capped_and_pages_past_the_cap_dropped():
    result = run("xlsx", files.xlsx_file(), limit=30)
    assert len(result.text) == 30 and result.page_starts == [0] and result.page_count == 2


def test_encrypted_pdf_fails_with_its_code():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(files.text_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(ExtractionFailure) as failure:
        run("pdf", out.getvalue())
    assert failure.value.code == FailureCode.ENCRYPTED and not failure.value.transient


def test_pdf_with_an_owner_password_only_is_read():
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(files.text_pdf())))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    assert "合同金额" in run("pdf", out.getvalue()).text


@pytest.mark.parametrize("file_type, data", [
    ("pdf", b"%PDF-1.7\nthis is not a PDF at all"),
    ("pdf", files.text_pdf()[:300]),
    ("docx", b"PK\x03\x04 broken zip"),
    ("xlsx", b"not a workbook"),
    ("png", b"\x89PNG\r\n\x1a\n truncated"),
    ("tiff", b"II*\x00garbage"),
])
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_corrupt_files_fail_with_a_code(file_type, data):
    with pytest.raises(ExtractionFailure) as failure:
        run(file_type, data)
    assert failure.value.code == FailureCode.CORRUPT and not failure.value.transient


def test_unsupported_type():
    with pytest.raises(ExtractionFailure) as failure:
        run("exe", b"MZ")
    assert failure.value.code == FailureCode.UNSUPPORTED


def test_ocr_timeout_is_a_transient_failure(monkeypatch):
    monkeypatch.setattr(ocr, "TIMEOUT_SECONDS", 0.001)
    with pytest.raises(ExtractionFailure) as failure:
        run("png", files.png_scan())
    assert failure.value.code == FailureCode.OCR_TIMEOUT and failure.value.transient


def test_missing_tesseract_is_reported(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ExtractionFailure) as failure:
        run("png", files.png_scan())
    assert failure.value.code == FailureCode.OCR_UNAVAILABLE


@pytest.mark.parametrize("raw, expected", [
    ("合 同 金 额 100 元", "合同金额 100 元"),
    ("Party A 甲 方 ， 乙 方", "Party A 甲方，乙方"),
    ("Contract Amount", "Contract Amount"),
    ("金额：\n人 民 币", "金额：\n人民币"),
])
def test_ocr_gaps_between_cjk_characters_are_removed(raw, expected):
    assert ocr.join_cjk(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("Cafe\u0301", "Café"),                              # NFC
    ("⼈⼒资源", "人力资源"),                                # Kangxi radicals from PDF fonts
    ("合\u200b同\ufeff金额", "合同金额"),                      # zero-width characters split phrases
    ("a\x00b\x07c", "abc"),                             # control characters (PostgreSQL refuses NUL)
    ("甲方     乙方\u3000\u3000丙方", "甲方 乙方 丙方"),       # runaway spaces
    ("a\t\t\tb  \t c", "a\tb\tc"),
    ("line one   \n\n\n\n   line two\r\nthree", "line one\n\nline two\nthree"),
    ("  \n 第一条 \n", "第一条"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


# --- the deadline ----------------------------------------------------------------------------------

def slow_ocr(monkeypatch, seconds: float) -> list:
    """OCR that takes `seconds` a page; returns the timeouts it was given."""
    timeouts = []

    def fake(image, *, dpi=None, timeout=None):
        timeouts.append(timeout)
        time.sleep(seconds)
        return "合同金额人民币"

    monkeypatch.setattr(ocr, "ocr_image", fake)
    return timeouts


def test_scanned_pdf_stops_at_the_deadline_between_pages(monkeypatch):
    timeouts = slow_ocr(monkeypatch, 0.4)
    data = files.scanned_pdf([["合同"], ["金额"], ["签字"]])
    with pytest.raises(TimeLimitExceeded):
        run("pdf", data, deadline=time.monotonic() + 0.3)
    assert len(timeouts) == 1 and 0 < timeouts[0] <= 0.3  # Tesseract was given only the time left


def test_multi_frame_tiff_stops_at_the_deadline_between_frames(monkeypatch):
    timeouts = slow_ocr(monkeypatch, 0.4)
    with pytest.raises(TimeLimitExceeded):
        run("tiff", files.tiff_scan([["合同"], ["金额"]]), deadline=time.monotonic() + 0.3)
    assert len(timeouts) == 1


def test_real_ocr_cut_short_by_the_deadline_is_a_time_limit_not_an_ocr_timeout():
    with pytest.raises(TimeLimitExceeded):
        run("png", files.png_scan(), deadline=time.monotonic() + 0.05)


@pytest.mark.parametrize("file_type, build", [("pdf", files.text_pdf), ("docx", files.docx_file),
                                              ("xlsx", files.xlsx_file)])
def test_every_format_checks_the_deadline(file_type, build):
    with pytest.raises(TimeLimitExceeded):
        run(file_type, build(), deadline=time.monotonic() - 1)
    assert run(file_type, build(), deadline=time.monotonic() + 60).text  # in time: read as usual


def test_time_limit_is_a_final_failure_code():
    assert not ExtractionFailure(FailureCode.TIME_LIMIT, "x").transient
    assert ExtractionFailure(FailureCode.WORKER_LOST, "x").transient
