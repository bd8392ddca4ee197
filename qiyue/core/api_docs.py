"""The interactive API docs page (the schema and the page answer only who ApiDocsAccess lets in)."""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions

from .api import ApiDocsAccess


class ApiDocsPage(SpectacularSwaggerSplitView):
    """A browser page: a visitor who is not signed in goes to the log-in page (and back here after),
    as on every other page, instead of an error rendered as HTML."""

    permission_classes = [ApiDocsAccess]

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a stable `code`, a message for people, and per-field messages and codes.",
    "required": ["code", "message", "fields", "field_codes"],
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "field_codes": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}
# What any operation may answer besides what it documents itself (see qiyue.core.api.exception_handler).
COMMON_ERRORS = {
    "401": "not_authenticated: no session, or a missing, bad or revoked token.",
    "403": "permission_denied: the user's role or the record's policy does not allow this.",
    "404": "not_found: no such record among those the user may see, or a page past the end of a list.",
}
INPUT_ERROR = "invalid: a query parameter or the body is not valid (`fields` and `field_codes` say which)."


def document_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation documents the errors it can answer (401,
    403, 404, and 400 when it takes input) in the one error shape, and every documented 4xx/5xx carries
    that shape, so clients (and schemathesis) can rely on the schema for error answers too."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(status, {"description": description})
            if operation.get("parameters") or operation.get("requestBody"):
                responses.setdefault("400", {"description": INPUT_ERROR})
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    response["content"] = error
    return result

