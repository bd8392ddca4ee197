"""API plumbing shared by every app: one error shape, pagination, version checks."""

import functools
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from . import context as request_context
from .errors import ApplicationError, ErrorCode
from .pagination import CappedPaginator
from .permissions import visible, visible_parts
from .selectors import note_if_hidden
from .text import split_tags
from .validators import MAX_ID

log = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    """Page-number pagination whose `count` stops at the cap, 1,000 (then `count_capped` is true and
    `next` goes on past it)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedPaginator

    def paginate_queryset(self, queryset, request, view=None, parts=None):
        # DRF builds the paginator from django_paginator_class(queryset, page_size): hand it the
        # user's visibility parts (see CappedPaginator), or the caller's, through a bound class.
        if parts is None:
            parts = visible_parts(request.user, queryset) if hasattr(queryset, "query") else None
        self.django_paginator_class = functools.partial(CappedPaginator, parts=parts)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count"] = self.page.paginator.shown_count
        response.data["count_capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {
            "type": "boolean", "description": f"True when there are more than {CappedPaginator.cap:,} results: `count` stops "
                           f"there and `next` pages on (up to {CappedPaginator.max_offset:,} rows deep)."}
        return schema


def _flatten(detail) -> tuple[dict, dict]:
    """DRF error detail → ({field: [messages]}, {field: [codes]})."""
    messages: dict = {}
    codes: dict = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list):
            if all(isinstance(v, exceptions.ErrorDetail | str) for v in value):
                messages.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
                codes.setdefault(prefix or "non_field_errors", []).extend(
                    getattr(v, "code", "invalid") for v in value)
            else:
                for index, item in enumerate(value):
                    walk(f"{prefix}.{index}", item)
        else:
            messages.setdefault(prefix or "non_field_errors", []).append(str(value))
            codes.setdefault(prefix or "non_field_errors", []).append(getattr(value, "code", "invalid"))

    walk("", detail)
    return messages, codes


def error_body(code: str, message: str, fields: dict | None = None, field_codes: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}, "field_codes": field_codes or {}}


def _note_hidden_object(context) -> None:
    """A detail endpoint answered 404: if its object exists but is outside the user's scope (the
    view's queryset), note it for the audit log's denial event (see qiyue.core.selectors)."""
    view = context.get("view")
    kwargs = getattr(view, "kwargs", None) or {}
    lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
    if view is None or lookup not in kwargs or request_context.noted("hidden") or not hasattr(view, "get_queryset"):
        return
    try:
        key = int(kwargs[lookup])
        queryset = view.get_queryset()
        if 0 < key <= MAX_ID and not queryset.filter(pk=key).exists():
            note_if_hidden(queryset.model, key)
    except Exception:  # noqa: BLE001 (an audit note must never turn a 404 into a 500)
        log.debug("could not tell whether a 404 hid a record", exc_info=True)


def exception_handler(exc, context):
    """Every API error as {"code", "message", "fields", "field_codes"}; never a 500 for bad input."""
    if isinstance(exc, ApplicationError):
        fields = {k: [str(m) for m in (v if isinstance(v, list | tuple) else [v])] for k, v in exc.fields.items()}
        # A service's field errors carry the error's own code, so clients can branch on field_codes too.
        codes = {k: [exc.code] * len(v) for k, v in fields.items()}
        return Response(error_body(exc.code, exc.message, fields, codes), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=serializers.as_serializer_error(exc))
    if isinstance(exc, IntegrityError):
        # Two writers raced past validation (e.g. the same new number at once): the database said no.
        return Response(error_body(ErrorCode.CONFLICT, _("This conflicts with a change saved at the same moment. "
                                                         "Reload and try again.")), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404 | exceptions.NotFound):
        _note_hidden_object(context)
    if isinstance(exc, Http404):
        return Response(error_body(ErrorCode.NOT_FOUND, _("Not found.")), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        fields, codes = _flatten(exc.detail)
        body = error_body(ErrorCode.INVALID, _("Please correct the errors below."), fields, codes)
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(ErrorCode.PARSE_ERROR, _("The request body is not valid JSON: %(detail)s")
                          % {"detail": exc.detail})
    else:
        code = {
            exceptions.NotFound: ErrorCode.NOT_FOUND,
            exceptions.PermissionDenied: ErrorCode.PERMISSION_DENIED,
            exceptions.NotAuthenticated: ErrorCode.NOT_AUTHENTICATED,
            exceptions.AuthenticationFailed: ErrorCode.NOT_AUTHENTICATED,
            exceptions.MethodNotAllowed: ErrorCode.METHOD_NOT_ALLOWED,
            exceptions.UnsupportedMediaType: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            exceptions.Throttled: ErrorCode.THROTTLED,
        }.get(type(exc), getattr(exc, "default_code", "error"))
        body = error_body(str(code), str(exc.detail))
    auth_header = None
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        view = context.get("view")
        request = context.get("request")
        if view is not None and request is not None:
            auth_header = view.get_authenticate_header(request)
    response = Response(body, status=exc.status_code, headers=headers)
    if auth_header:
        response["WWW-Authenticate"] = auth_header
        response.status_code = status.HTTP_401_UNAUTHORIZED
    return response


class VersionField(serializers.IntegerField):
    """The optimistic-lock version a client read; a stale one gets 409 stale_version."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("help_text", "The version you read. A stale version is refused with 409 stale_version.")
        super().__init__(**kwargs)


class TagsField(serializers.ListField):
    """Tags as a list of strings; a comma-separated string is accepted on input too."""

    child = serializers.CharField(max_length=50)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = split_tags(data)
        return split_tags(super().to_internal_value(data))

    def to_representation(self, data):
        return split_tags(data.split(",")) if isinstance(data, str) else super().to_representation(data)


class VisiblePrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A reference by id to a row the requesting user may see; anything else "does not exist"."""

    def get_queryset(self):
        request = self.context.get("request")
        return visible(getattr(request, "user", None), super().get_queryset())


def require_version(data: dict) -> int:
    """Pop the optimistic-lock `version` an update must carry (PATCH included)."""
    version = data.pop("version", None)
    if version is None:
        raise exceptions.ValidationError({"version": [_("This field is required.")]}, code="required")
    return version


class ServiceViewMixin:
    """For viewsets whose writes are services: validate an input serializer, call the service,
    render the result with `output_serializer` re-read through `get_queryset()`.
    (A mixin, not a GenericViewSet subclass: this module is DRF's pagination setting, and
    importing rest_framework.viewsets here would be circular.)"""

    output_serializer: type[serializers.BaseSerializer]

    def validated(self, serializer_class, data, **kwargs) -> dict:
        serializer = serializer_class(data=data, context=self.get_serializer_context(), **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def output(self, obj) -> dict:
        # Re-read through the selector so the output carries related names the user may see.
        fresh = self.get_queryset().get(pk=obj.pk)
        return self.output_serializer(fresh, context=self.get_serializer_context()).data


class ApiDocsAccess(BasePermission):
    """Who may read the OpenAPI schema and the API docs page: signed-in users (session or token),
    or everyone when the deployment publishes them (QIYUE_PUBLIC_API_DOCS)."""

    def has_permission(self, request, view) -> bool:
        return settings.QIYUE_PUBLIC_API_DOCS or bool(request.user and request.user.is_authenticated)
