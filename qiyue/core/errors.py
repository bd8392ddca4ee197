"""Application errors with stable codes: the generic ones here, each app's own in its errors.py.

Services raise ApplicationError; views turn it into a form error or an HTTP status and the
API returns {"code", "message", "fields"}. Tests assert on `code`, never on wording.
"""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    INVALID = "invalid"
    PARSE_ERROR = "parse_error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    NOT_AUTHENTICATED = "not_authenticated"
    STALE_VERSION = "stale_version"
    ILLEGAL_TRANSITION = "illegal_transition"
    REASON_REQUIRED = "reason_required"
    THROTTLED = "throttled"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    CONFLICT = "conflict"
    SERVER_ERROR = "server_error"


DEFAULT_STATUS = {
    ErrorCode.INVALID: 400,
    ErrorCode.PARSE_ERROR: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.STALE_VERSION: 409,
    ErrorCode.ILLEGAL_TRANSITION: 409,
    ErrorCode.REASON_REQUIRED: 400,
    ErrorCode.CONFLICT: 409,
    ErrorCode.SERVER_ERROR: 500,
}


def register_statuses(statuses: dict) -> None:
    """An app's own codes and the HTTP status each answers with by default (its errors.py)."""
    DEFAULT_STATUS.update(statuses)


class ApplicationError(Exception):
    def __init__(self, code: ErrorCode | str, message=None, *, fields: dict | None = None, status: int | None = None):
        self.code = str(code)
        self.message = str(message if message is not None else _("The request could not be completed."))
        self.fields = fields or {}
        self.status = status or DEFAULT_STATUS.get(code, 400)
        super().__init__(self.message)


def filtered(filterset):
    """The filterset's queryset, or an `invalid` error naming the bad filters — a bad filter must
    never silently widen a list or an export to everything."""
    if filterset.is_bound and not filterset.is_valid():
        fields = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        raise ApplicationError(ErrorCode.INVALID, _("Some filters are not valid."), fields=fields)
    return filterset.qs


def service_errors():
    """What a service may raise for bad input or a lost race; views turn each into form errors."""
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError

    return (ApplicationError, ValidationError, IntegrityError)


def stale_version_error() -> ApplicationError:
    return ApplicationError(
        ErrorCode.STALE_VERSION,
        _("Someone else changed this record after you opened it. Reload it and apply your change again."),
        fields={"version": [str(_("This record was changed by someone else."))]},
    )


def permission_denied(message=None) -> ApplicationError:
    return ApplicationError(ErrorCode.PERMISSION_DENIED, message or _("You do not have permission to do this."))
