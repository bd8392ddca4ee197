"""Small helpers shared by the server-rendered pages: HTMX partials, Bootstrap-styled forms, turning
service errors into form errors, and the one base view of the plain form pages."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import IntegrityError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views import View

from .errors import ApplicationError, service_errors
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


def paginate(request, queryset, per_page: int = PAGE_SIZE, parts=None):
    """A page of `queryset` (see CappedPaginator): read in the user's visibility parts, or in `parts`."""
    parts = parts or visible_parts(request.user, queryset)
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


class ServiceFormView(LoginRequiredMixin, View):
    """The one shape of the plain create/update pages and panel actions (contacts, communications,
    paper originals, retention policies): load what the URL names (scoped; 404 if unseen), check the
    policy, validate a form, make ONE service call, and answer.

    - GET (when `template_name` is set): the page with a blank or filled form.
    - POST, done: an HTMX request gets the refreshed panel (`partial_template`), else a success message
      and a redirect.
    - POST, refused (invalid form or a service error on its fields): an HTMX request gets the panel with
      the bound form and the error in place; else the page with the form again (400), or a flash error and
      the redirect when there is no page of its own (`template_name` None).

    Subclasses set `form_class` and the templates and write `load`, `allowed`, `save` and `redirect_url`;
    commands with a flow of their own (transitions, uploads, lending) stay explicit views."""

    http_method_names = ["get", "post"]  # ["post"] for an action without a page of its own
    form_class: type[forms.BaseForm]
    template_name: str | None = None
    partial_template: str | None = None
    success_message = ""

    def load(self) -> None:
        """Load the objects the URL names onto `self` (through scoped selectors)."""

    def allowed(self) -> bool:
        return True

    def form_kwargs(self) -> dict:
        return {}

    def save(self, form) -> None:
        raise ImproperlyConfigured(f"{type(self).__name__} does not define save()")

    def redirect_url(self) -> str:
        raise ImproperlyConfigured(f"{type(self).__name__} does not define redirect_url()")

    def page_context(self, form) -> dict:
        return {"form": form}

    def partial_context(self, form, error: str, message: str) -> dict:
        return {}

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()  # to the log-in page, before anything is looked up
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request, *args, **kwargs)
        self.load()
        if not self.allowed():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return render(request, self.template_name, self.page_context(self.form_class(**self.form_kwargs())))

    def post(self, request, *args, **kwargs):
        form = self.form_class(request.POST, **self.form_kwargs())
        error = ""
        if not form.is_valid():
            error = _("Please correct the errors below.")
        else:
            try:
                self.save(form)
            except service_errors() as exc:
                form_error(form, exc)
                error = getattr(exc, "message", "") or _("Please correct the errors below.")
        message = "" if error else str(self.success_message)
        if is_partial(request) and self.partial_template:
            return render(request, self.partial_template, self.partial_context(form, error, message))
        if not error:
            messages.success(request, message)
            return redirect(self.redirect_url())
        if self.template_name is None:
            messages.error(request, error)
            return redirect(self.redirect_url())
        return render(request, self.template_name, self.page_context(form), status=400)
