"""The upload gate on its own: type from content, zip and PDF checks, cleaned names."""

import io
import zipfile

import pytest

from qiyue.core.errors import ApplicationError
from qiyue.documents import filechecks, uploads

from . import factories as f


def check(name, data):
    return uploads.inspect_upload(io.BytesIO(data), name)


def code_of(name, data) -> str:
    with pytest.raises(ApplicationError) as info:
        check(name, data)
    return info.value.code


@pytest.mark.parametrize("kind", list(f.FORMATS))
def test_each_allowed_format_is_detected_from_its_content(kind):
    name, make, content_type = f.FORMATS[kind]
    result = check(name, make())
    assert (result.file_type, result.content_type, result.filename) == (kind, content_type, name)


@pytest.mark.parametrize(("name", "data", "code"), [
    ("empty.pdf", b"", "file_empty"),
    ("program.pdf", f.ELF, "file_type_not_allowed"),
    ("setup.pdf", f.PE, "file_type_not_allowed"),
    ("notes.txt", b"just text", "file_type_not_allowed"),
    ("page.html", b"<html><script>alert(1)</script></html>", "file_type_not_allowed"),
    ("scan.pdf", f.make_image("PNG"), "file_type_mismatch"),
    ("contract.docx", f.make_pdf(), "file_type_mismatch"),
    ("contract.exe", f.make_pdf(), "file_type_mismatch"),
    ("archive.docx", f.make_zip({"readme.txt": b"hello"}), "file_type_not_allowed"),
    ("bomb.docx", f.make_zip_bomb(), "zip_bomb"),
    ("slip.docx", f.make_zip_slip(), "zip_unsafe_path"),
    ("abs.docx", f.make_zip({"word/document.xml": b"<x/>", "/etc/passwd": b"x"}), "zip_unsafe_path"),
    ("drive.xlsx", f.make_zip({"xl/workbook.xml": b"<x/>", "C:/boot.ini": b"x"}), "zip_unsafe_path"),
    ("back.xlsx", f.make_zip({"xl/workbook.xml": b"<x/>", "xl\\..\\evil": b"x"}), "zip_unsafe_path"),
    ("locked.pdf", f.make_encrypted_pdf(), "pdf_encrypted"),
    # Encryption pypdf cannot even open is still encryption, not a crash of the gate.
    ("v0.pdf", f.make_pdf_with_encrypt(b"<< /Filter /Standard /V 0 /R 2 /O <00> /U <00> /P -4 >>"),
     "pdf_encrypted"),
    ("pubsec.pdf", f.make_pdf_with_encrypt(b"<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 >>"),
     "pdf_encrypted"),
    ("custom.pdf", f.make_pdf_with_encrypt(b"<< /Filter /VendorLock /V 1 /R 2 >>"), "pdf_encrypted"),
    ("v25.docx", f.make_zip_needing_version(255), "zip_unsupported"),
    ("v25.xlsx", f.make_zip_needing_version(255, f.make_xlsx()), "zip_unsupported"),
    ("bzip2.docx", f.make_zip({"word/document.xml": b"<x/>"}, zipfile.ZIP_BZIP2), "zip_unsupported"),
    ("lzma.xlsx", f.make_zip({"xl/workbook.xml": b"<x/>"}, zipfile.ZIP_LZMA), "zip_unsupported"),
    ("cut.pdf", f.make_pdf()[:-200], "pdf_corrupt"),
    ("junk.pdf", b"%PDF-1.7\nnot really a pdf\n%%EOF\n", "pdf_corrupt"),
])
def test_bad_files_are_refused_with_their_code(name, data, code):
    assert code_of(name, data) == code


def test_a_zip_encrypted_entry_is_unsupported():
    data = bytearray(f.make_docx())
    start = data.find(b"PK\x01\x02")  # set the "encrypted" flag of the first central directory entry
    data[start + 8] |= 0x1
    assert code_of("locked.docx", bytes(data)) == "zip_unsupported"


def test_the_version_an_office_file_really_needs_passes():
    assert check("合同.docx", f.make_zip_needing_version(20)).file_type == "docx"


def test_too_many_zip_entries_is_a_bomb():
    entries = {"word/document.xml": b"<x/>", **{f"word/p{i}.xml": b"" for i in range(filechecks.ZIP_MAX_ENTRIES)}}
    with pytest.raises(ApplicationError) as info:
        check("many.docx", f.make_zip(entries))
    assert info.value.code == "zip_bomb" and "2000" in str(info.value.fields["file"][0])  # the limit


def test_size_limit(settings):
    settings.QIYUE_MAX_UPLOAD_MB = 1
    assert code_of("big.pdf", b"%PDF-" + b"0" * (1024 * 1024)) == "file_too_large"
    with pytest.raises(ApplicationError) as info:
        list(uploads.iter_chunks(io.BytesIO(b"x" * (1024 * 1024 + 1))))
    assert info.value.code == "file_too_large" and info.value.status == 413


def test_a_name_without_extension_gets_the_detected_one():
    assert check("合同 v1.2", f.make_pdf()).filename == "合同 v1.2.pdf"
    assert check("扫描", f.make_image("JPEG")).filename == "扫描.jpg"


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\张三\\合同.pdf", "合同.pdf"),
    ("/abs/path/采购合同（终稿）.docx", "采购合同（终稿）.docx"),
    ("evil\u202egpj.pdf", "evilgpj.pdf"),              # right-to-left override
    ("a\x00b\x1f\x7fc.pdf", "abc.pdf"),                 # NUL and control characters
    ("zero\u200bwidth.pdf", "zerowidth.pdf"),
    ("line\nbreak.pdf", "line break.pdf"),
    ("..", "file"),
    ("", "file"),
    (".hidden.pdf", "hidden.pdf"),
])
def test_clean_filename(raw, clean):
    assert uploads.clean_filename(raw) == clean


def test_long_names_keep_their_extension():
    name = uploads.clean_filename("合" * 500 + ".pdf")
    assert len(name) == 200 and name.endswith(".pdf")


def test_default_title_is_the_name_without_extension():
    assert uploads.title_from_filename("采购合同（终稿）.docx") == "采购合同（终稿）"
    assert uploads.title_from_filename("v1.2") == "v1.2"
