"""Small helpers shared by the server-rendered pages: HTMX partials, Bootstrap-styled forms and
turning service errors into form errors."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .pagination import CappedPaginator
from .permissions import visible_parts

PAGE_SIZE = 20


def is_partial(request) -> bool:
    """An HTMX request that wants a fragment (a history restore wants the whole page)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def render_page(request, template: str, partial: str, context: dict, status: int = 200) -> HttpResponse:
    """Render the full page, or only its named partial for an HTMX request."""
    response = render(request, partial if is_partial(request) else template, context, status=status)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    parts = visible_parts(request.user, queryset)
    return CappedPaginator(queryset, per_page, parts=parts).get_page(request.GET.get("page"))


def hx_redirect(url: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Redirect"] = url
    return response


class BootstrapFormMixin:
    """Give widgets Bootstrap classes, and mark fields with errors as invalid."""

    date_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["class"] = (widget.attrs.get("class", "") + " is-invalid").strip()
                widget.attrs["aria-invalid"] = "true"


def style_form(form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect | forms.HiddenInput):
            continue
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        if isinstance(widget, forms.DateInput):
            widget.input_type = "date"
            widget.format = "%Y-%m-%d"
        widget.attrs.setdefault("class", css)


def raise_for_status(exc: Exception) -> None:
    status = getattr(exc, "status", 400)
    if status == 403:
        raise PermissionDenied from exc
    if status == 404:
        raise Http404 from exc


def form_error(form, exc: Exception) -> int:
    """A service's error in an HTML form view: "not allowed" and "not found" become the 403 and 404
    pages; anything else goes onto the form's fields. Returns the status the page answers with."""
    raise_for_status(exc)
    apply_error(form, exc)
    return getattr(exc, "status", 400)


def message_error(request, exc: Exception) -> None:
    """A service's error in an HTML view without a form: 403 and 404 pages, else a flash message."""
    raise_for_status(exc)
    messages.error(request, getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [])))


def apply_error(form, exc: Exception) -> None:
    """Put a service's field errors on the form's fields; the rest become non-field errors."""
    if isinstance(exc, IntegrityError):
        form.add_error(None, _("This conflicts with a change saved at the same moment. Please try again."))
        return
    if isinstance(exc, ApplicationError):
        fields = exc.fields or {}
        placed = False
        for name, messages in fields.items():
            target = name if name in form.fields and not form.fields[name].widget.is_hidden else None
            if target is None:
                # A hidden field (the version) cannot show its error: say the whole message once.
                form.add_error(None, exc.message)
                placed = True
                continue
            for message in messages if isinstance(messages, list | tuple) else [messages]:
                form.add_error(target, str(message))
                placed = True
        if not placed:
            form.add_error(None, exc.message)
        return
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
