"""Small helpers shared by the server-rendered pages: HTMX partials, Bootstrap-styled forms,
turning service errors into form errors, and timeline rows for the audit partial."""

from django import forms
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import IntegrityError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from qiyue.audit.labels import action_label

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


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _display(value, field=None) -> str:
    if field is not None and getattr(field, "choices", None) and isinstance(value, str):
        return str(dict(field.flatchoices).get(value, value)) if value else "—"
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return str(value.get("label", value.get("id", "")))
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(_display(v) for v in value)
    return str(value)


def _hidden_references(events, user) -> set[tuple[str, int]]:
    """(model label, id) of contracts and customers named in these events' diffs that `user` may not see."""
    from qiyue.core.permissions import visible

    wanted: dict[str, set[int]] = {}
    for event in events:
        model = _model_of(event)
        for name, pair in (event.changes or {}).items():
            field = _field(model, name)
            if field is None or not field.is_relation or field.related_model is None:
                continue
            label = field.related_model._meta.label
            if label not in ("contracts.Contract", "customers.Customer"):
                continue
            for value in pair if isinstance(pair, list) else [pair]:
                if isinstance(value, dict) and isinstance(value.get("id"), int):
                    wanted.setdefault(label, set()).add(value["id"])
    hidden = set()
    for label, ids in wanted.items():
        model = apps.get_model(label)
        seen = set(visible(user, model.objects.filter(pk__in=ids)).values_list("pk", flat=True))
        hidden |= {(label, pk) for pk in ids - seen}
    return hidden


def _model_of(event):
    app_label, _dot, model_name = event.target_type.partition(".")
    try:
        return apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        return None


def timeline_rows(events, user) -> list[dict]:
    """Audit events as rows for partials/timeline.html: who, what, when and each before → after.
    A contract or customer named in a diff that `user` may not see is shown without its label."""
    events = list(events)
    hidden = _hidden_references(events, user)

    def shown(value, field):
        if (isinstance(value, dict) and field is not None and field.is_relation
                and (field.related_model._meta.label, value.get("id")) in hidden):
            return _("(not visible to you)")
        return _display(value, field)

    rows = []
    for event in events:
        model = _model_of(event)
        changes = []
        for name, pair in (event.changes or {}).items():
            before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            field = _field(model, name)
            changes.append({"field": str(field.verbose_name) if field is not None else name,
                            "before": shown(before, field), "after": shown(after, field),
                            "created": before is None})
        rows.append({"event": event, "label": action_label(event.action), "changes": changes})
    return rows
