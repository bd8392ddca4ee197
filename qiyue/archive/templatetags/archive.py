"""The archive's parts of the contract workspace: the retention card, the legal hold and delete items
of the "more" menu, and their dialogs."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.contracts import policies as contract_policies
from qiyue.contracts import services as contract_services
from qiyue.contracts.retention import retention

from ..forms import ReasonForm

register = template.Library()


def _retention(contract) -> dict:
    years = contract_services.retention_years(contract.nature)
    kept = retention(contract, years)
    return {"retention": kept, "within_retention": kept.within(timezone.localdate()), "years": years}


@register.inclusion_tag("archive/_contract_panel.html")
def archive_panel(contract):
    return {"contract": contract, **_retention(contract)}


@register.simple_tag(takes_context=True)
def archive_menu(context, contract) -> dict:
    """Which archive actions the "more" menu offers the user."""
    user = context["request"].user
    can_hold = contract_policies.can_set_legal_hold(user)
    can_delete = contract_policies.can_delete_contract(user, contract)
    return {"can_hold": can_hold, "can_delete": can_delete, "any": can_hold or can_delete}


@register.inclusion_tag("archive/_contract_dialogs.html", takes_context=True)
def archive_dialogs(context, contract):
    """The legal hold and delete dialogs; after a failed attempt the context brings the bound form
    (`hold_form` or `delete_form`) and `open_dialog` names the dialog to open again."""
    user = context["request"].user
    return {
        "contract": contract,
        **_retention(contract),
        "can_hold": contract_policies.can_set_legal_hold(user),
        "can_delete": contract_policies.can_delete_contract(user, contract),
        "hold_form": context.get("hold_form") or ReasonForm(auto_id="id_hold_%s", label=_("Reason for the legal hold")),
        "delete_form": context.get("delete_form") or ReasonForm(auto_id="id_delete_%s", label=_("Reason for deleting")),
        "open_dialog": context.get("open_dialog", ""),
        "dialog_error": context.get("dialog_error", ""),
        "csrf_token": context.get("csrf_token"),
    }
