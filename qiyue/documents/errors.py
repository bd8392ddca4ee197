"""Stable error codes of the documents app (tests and API clients branch on these, never on wording)."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from qiyue.core.errors import ApplicationError


class DocumentErrorCode(StrEnum):
    FILE_REQUIRED = "file_required"
    FILE_EMPTY = "file_empty"
    FILE_TOO_LARGE = "file_too_large"
    FILE_TYPE_NOT_ALLOWED = "file_type_not_allowed"
    FILE_TYPE_MISMATCH = "file_type_mismatch"
    ZIP_BOMB = "zip_bomb"
    ZIP_UNSAFE_PATH = "zip_unsafe_path"
    ZIP_UNSUPPORTED = "zip_unsupported"
    ZIP_CORRUPT = "zip_corrupt"
    OFFICE_MACROS = "office_macros"
    FILE_POLYGLOT = "file_polyglot"
    IMAGE_CORRUPT = "image_corrupt"
    IMAGE_TOO_LARGE = "image_too_large"
    PDF_ENCRYPTED = "pdf_encrypted"
    PDF_CORRUPT = "pdf_corrupt"
    INTEGRITY_FAILED = "integrity_failed"
    KEY_UNAVAILABLE = "key_unavailable"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    ALREADY_LENT = "already_lent"
    NOT_LENT = "not_lent"


STATUS = {
    DocumentErrorCode.FILE_TOO_LARGE: 413,
    # The request was fine; the stored file is not what was written: a conflict, never a 500.
    DocumentErrorCode.INTEGRITY_FAILED: 409,
    DocumentErrorCode.KEY_UNAVAILABLE: 409,
    # The store (or the temporary directory a large file is verified through) failed: try again.
    DocumentErrorCode.STORAGE_UNAVAILABLE: 503,
    DocumentErrorCode.ALREADY_LENT: 409,
    DocumentErrorCode.NOT_LENT: 409,
}


def document_error(code: DocumentErrorCode, message, *, field: str | None = "file") -> ApplicationError:
    """An ApplicationError with the code's HTTP status; the message also lands on `field`."""
    fields = {field: [str(message)]} if field else {}
    return ApplicationError(code, message, fields=fields, status=STATUS.get(code, 400))


def integrity_error() -> ApplicationError:
    return document_error(
        DocumentErrorCode.INTEGRITY_FAILED,
        _("The stored file failed its integrity check (it is not what was uploaded). Nothing was sent; "
          "the failure has been recorded. Please tell an administrator."),
        field=None,
    )
