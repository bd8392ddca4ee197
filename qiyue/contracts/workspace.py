"""The contract page as a workspace: a header with the status, the stage bar and the actions, tabs
(overview, documents, approval, execution, money, timeline), and a dialog per action that needs input.

Every action taken on the page (a status change, a legal hold) answers with the whole workspace, so
the header, the stage bar, every tab and the timeline show the change at once, without a reload.
"""

from django.shortcuts import render
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from qiyue.audit.rendering import timeline_rows
from qiyue.audit.selectors import timeline

from . import amendments, custom_fields, policies, selectors, services
from .forms import AmendmentForm, TransitionForm
from .models import Contract, Status
from .stages import stage_bar

# Rare and destructive status changes live in the header's "more" menu, not beside the primary actions.
RARE_TRANSITIONS = frozenset({"terminate", "cancel"})

# What each dialog says before its fields.
DIALOG_HELP = {
    "return": _("The contract goes back to its drafters. Say what must change; they see your reason."),
    "sign": _("Record how and when both parties signed. The signing date cannot be in the future."),
    "activate": _("The contract starts to run: its obligations, reminders and retention begin."),
    "terminate": _("The contract ends before its term. The reason is kept in its record for good."),
    "cancel": _("This draft is abandoned and will never be signed. It stays in the record with the reason."),
}

# The tabs, in order; approval, execution and money are filled by their features as they arrive.
TABS = (
    {"key": "overview", "label": _("Overview"), "icon": "bi-card-text"},
    {"key": "documents", "label": _("Documents"), "icon": "bi-files"},
    {"key": "approval", "label": _("Approval"), "icon": "bi-check2-square"},
    {"key": "execution", "label": _("Execution"), "icon": "bi-list-check"},
    {"key": "money", "label": _("Money"), "icon": "bi-cash-coin"},
    {"key": "timeline", "label": _("Timeline"), "icon": "bi-clock-history"},
)

WORKSPACE_ID = "contract-workspace"


def _actions(user, contract, *, errors_for: str, error_form) -> list[dict]:
    actions = []
    for transition in services.available_transitions(user, contract):
        if transition.name == errors_for and error_form is not None:
            form = error_form
        else:
            form = TransitionForm(prefix=transition.name, initial={"version": contract.version}, contract=contract,
                                  transition=transition)
        # Activating before the effective date is allowed, but only with this box ticked.
        confirm_early = transition.name == "activate" and services.activates_early(contract)
        actions.append({
            "transition": transition,
            "form": form,
            "confirm_early": confirm_early,
            "rare": transition.name in RARE_TRANSITIONS,
            # A change that needs input opens its own dialog; the others are one click.
            "dialog": bool(transition.reason_required or transition.needs_signing or confirm_early),
            "help": DIALOG_HELP.get(transition.name, ""),
        })
    return actions


def _custom_rows(contract: Contract) -> list[tuple[str, str]]:
    """(label, shown value) of the contract type's fields, in the user's language."""
    if contract.contract_type_id is None:
        return []
    fields = custom_fields.type_fields(contract.contract_type)
    values = custom_fields.contract_values(contract, fields)
    return [(str(field), custom_fields.display_value(field, values.get(field.key))) for field in fields]


def _amendments(user, contract: Contract, extra: dict) -> dict:
    """The amendments panel: each amendment with what it changes, the versions, and what the user may do."""
    rows = list(contract.amendments.select_related("created_by").order_by("number"))
    for amendment in rows:
        amendment.change_rows = amendments.change_rows(amendment)
    may = policies.can_amend(user, contract)
    open_one = any(a.status in amendments.OPEN for a in rows)
    return {
        "amendments": rows,
        "contract_versions": amendments.versions(contract),
        "may_amend": may,
        "can_raise_amendment": may and contract.status in amendments.AMENDABLE_STATUSES and not open_one,
        "amendment_form": extra.pop("amendment_form", None) or AmendmentForm.for_contract(contract),
    }


def workspace_context(request, contract: Contract, *, errors_for: str = "", error_form=None,
                      error_message: str = "", message: str = "", open_dialog: str = "", **extra) -> dict:
    """Everything the workspace shows. `errors_for` names the transition whose dialog opens again with
    `error_form`'s errors; `open_dialog` opens another dialog (the archive's) after a failed attempt."""
    user = request.user
    actions = _actions(user, contract, errors_for=errors_for, error_form=error_form)
    dialog_names = {action["transition"].name for action in actions if action["dialog"]}
    if errors_for in dialog_names:
        open_dialog = f"dialog-{errors_for}"
    gaps = services.review_gaps(contract) if contract.status == Status.DRAFT else {}
    context = {
        "nav": "contracts",
        "contract": contract,
        "actions": actions,
        "primary_actions": [action for action in actions if not action["rare"]],
        "rare_actions": [action for action in actions if action["rare"]],
        "review_gaps": [(str(capfirst(Contract._meta.get_field(name).verbose_name)), messages)
                        for name, messages in gaps.items()],
        "can_edit_facts": bool(gaps) and policies.can_edit_contract(user, contract),
        # An error that belongs to an open dialog shows in it; any other above the tabs.
        "status_error": "" if open_dialog else error_message,
        "dialog_error": error_message if open_dialog else "",
        "open_dialog": open_dialog,
        "status_message": message,
        "supplements": selectors.contract_supplements(user=user, contract=contract),
        "parent_visible": contract.parent_id is not None
        and selectors.contract_queryset(user=user).filter(pk=contract.parent_id).exists(),
        "can_edit": policies.can_edit_contract(user, contract),
        "can_create": policies.can_create_contract(user),
        "timeline": timeline_rows(timeline(contract_id=contract.pk), user),
        "stages": stage_bar(contract),
        "tabs": TABS,
        "custom_rows": _custom_rows(contract),
        "can_renew": contract.status in services.RENEWABLE and policies.can_renew(user, contract)
        and services.open_renewal(contract) is None,
        # Sorted here: an order by id in SQL would walk the table rather than the `renewal_of` index.
        "renewals": sorted(selectors.contract_queryset(user=user).filter(renewal_of=contract).order_by(),
                           key=lambda row: row.pk),
        "renews": selectors.contract_queryset(user=user).filter(pk=contract.renewal_of_id).first()
        if contract.renewal_of_id else None,
        "termination": getattr(contract, "termination", None) if contract.status == Status.TERMINATED else None,
        **_amendments(user, contract, extra),
    }
    context.update(extra)
    return context


def render_workspace(request, contract: Contract, *, status: int = 200, **kwargs):
    """The workspace alone, swapped in place of the one on the page (HTMX answers to its actions)."""
    response = render(request, "contracts/_workspace.html", workspace_context(request, contract, **kwargs),
                      status=status)
    response["HX-Retarget"] = f"#{WORKSPACE_ID}"
    response["HX-Reswap"] = "outerHTML"
    return response
