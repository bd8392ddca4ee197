"""Administration of approval: the flows (a list, and an editor of one flow with its steps) and the
exchange rates amounts are compared in, the pre-review rules. Administrators only."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from qiyue.contracts import selectors as contract_selectors
from qiyue.core.errors import ApplicationError, service_errors
from qiyue.core.htmx import form_error

from . import display, policies, selectors, services
from .admin_forms import FlowForm, RateForm, RuleForm, StepFormSet, initial_from, rule_initial, step_initial
from .models import ApprovalFlow, PreReviewRule


def _require_admin(request):
    if not request.user.is_authenticated:
        return False
    if not policies.can_manage_flows(request.user):
        raise PermissionDenied
    return True


def _login_or_admin(view):
    from django.contrib.auth.decorators import login_required

    @login_required
    def wrapped(request, *args, **kwargs):
        _require_admin(request)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@_login_or_admin
def flow_list(request):
    rows = []
    for flow in selectors.flows():
        steps = flow.current.steps if flow.current else []
        rows.append({"flow": flow, "steps": [s["name_zh"] if request.LANGUAGE_CODE.startswith("zh")
                                             else (s.get("name_en") or s["name_zh"]) for s in steps],
                     "conditions": display.describe_all(flow.conditions),
                     "version": flow.current.number if flow.current else None})
    return render(request, "workflow/flows.html", {"nav": "manage", "section": "flows", "rows": rows})


def _apply_flow_error(form, formset, exc) -> None:
    """A flow_invalid error's fields ("steps.2.approvers", "conditions.0") onto the forms they belong to."""
    if not isinstance(exc, ApplicationError):
        form_error(form, exc)
        return
    for path, errors in (exc.fields or {}).items():
        parts = path.split(".")
        if parts[0] == "steps" and len(parts) > 1 and parts[1].isdigit():
            forms_in_order = formset.ordered_forms_kept
            n = int(parts[1])
            target = forms_in_order[n] if n < len(forms_in_order) else None
            field = {"approvers": "roles", "name_zh": "name_zh", "name_en": "name_en", "mode": "mode",
                     "review": "review"}.get(parts[2] if len(parts) > 2 else "")
            for error in errors:
                if target is None:
                    form.add_error(None, error)
                else:
                    target.add_error(field, error)
        elif parts[0] == "steps":
            for error in errors:
                form.add_error(None, error)
        else:
            field = parts[0] if parts[0] in form.fields else None
            for error in errors:
                form.add_error(field, error)
    if not (exc.fields or {}):
        form.add_error(None, exc.message)


def _kept_forms(formset) -> list:
    """The step forms the admin kept, in the order they gave."""
    kept = [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
    return sorted(kept, key=lambda f: (f.cleaned_data.get("ORDER") is None, f.cleaned_data.get("ORDER") or 0,
                                       formset.forms.index(f)))


@_login_or_admin
def flow_edit(request, pk=None):
    flow = get_object_or_404(ApprovalFlow.objects.select_related("current"), pk=pk) if pk else None
    if request.method == "POST":
        form = FlowForm(request.POST)
        formset = StepFormSet(request.POST, prefix="steps")
        if request.POST.get("add_step"):
            # Another step: the same page again with one more empty step form (nothing is saved).
            data = request.POST.copy()
            total = int(data.get("steps-TOTAL_FORMS", "0") or 0)
            if total < 20:
                data["steps-TOTAL_FORMS"] = str(total + 1)
                data[f"steps-{total}-ORDER"] = str(total + 1)
                data[f"steps-{total}-mode"] = "any"
            form, formset = FlowForm(data), StepFormSet(data, prefix="steps")
            return _render(request, flow, form, formset, status=200, validate=False)
        if form.is_valid() and formset.is_valid():
            kept = _kept_forms(formset)
            formset.ordered_forms_kept = kept
            data = {key: form.cleaned_data[key] for key in ("name_zh", "name_en", "description", "position",
                                                             "is_default", "active")}
            data["conditions"] = form.as_conditions()
            data["steps"] = [f.step() for f in kept]
            try:
                flow = services.flow_save(actor=request.user, flow=flow, data=data,
                                          expected_version=form.cleaned_data.get("version"))
            except service_errors() as exc:
                _apply_flow_error(form, formset, exc)
            else:
                messages.success(request, _("The flow “%(name)s” was saved.") % {"name": flow.name()})
                return redirect("workflow:flows")
        return _render(request, flow, form, formset, status=400)
    if flow is None:
        form = FlowForm(initial={"position": 100, "active": True})
        formset = StepFormSet(prefix="steps", initial=[{"mode": "any", "ORDER": 1}])
    else:
        form = FlowForm(initial={"name_zh": flow.name_zh, "name_en": flow.name_en, "description": flow.description,
                                 "position": flow.position, "is_default": flow.is_default, "active": flow.active,
                                 "version": flow.version, **initial_from(flow.conditions)})
        steps = flow.current.steps if flow.current else []
        formset = StepFormSet(prefix="steps", initial=[{**step_initial(s), "ORDER": n + 1}
                                                       for n, s in enumerate(steps)])
    return _render(request, flow, form, formset)


def _render(request, flow, form, formset, *, status: int = 200, validate: bool = True):
    if not validate:
        # Shown again to add a step: no errors yet.
        form._errors = {}
        for f in formset.forms:
            f._errors = {}
        formset._non_form_errors = formset.error_class()
    return render(request, "workflow/flow_form.html", {
        "nav": "manage", "section": "flows", "flow": flow, "form": form, "formset": formset,
        "versions": list(flow.versions.order_by("-number")[:10]) if flow else []}, status=status)


@_login_or_admin
def rates(request):
    form = RateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exchange_rate_save(actor=request.user, data=form.cleaned_data)
        except service_errors() as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The rate was saved."))
            return redirect("workflow:rates")
    return render(request, "workflow/rates.html", {"nav": "manage", "section": "rates", "form": form,
                                                   "rows": contract_selectors.exchange_rates()[:200]},
                  status=400 if form.is_bound and form.errors else 200)


@_login_or_admin
def rule_list(request):
    return render(request, "workflow/rules.html", {"nav": "manage", "section": "rules",
                                                   "rules": selectors.prereview_rules(active_only=False)})


@_login_or_admin
def rule_edit(request, pk=None):
    rule = get_object_or_404(PreReviewRule, pk=pk) if pk else None
    form = RuleForm(request.POST or None, initial=rule_initial(rule) if rule else {"kind": "clause", "active": True})
    if request.method == "POST" and form.is_valid():
        kind = rule.kind if rule else (form.cleaned_data.get("kind") or "clause")
        try:
            rule = services.prereview_rule_save(actor=request.user, rule=rule, data=form.data_for_service(kind))
        except service_errors() as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The rule “%(name)s” was saved.") % {"name": rule.label()})
            return redirect("workflow:rules")
    return render(request, "workflow/rule_form.html", {"nav": "manage", "section": "rules", "rule": rule,
                                                       "form": form},
                  status=400 if form.is_bound and form.errors else 200)
