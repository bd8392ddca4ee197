"""The archive panel of the contract page: legal hold, retention, and the hold and delete forms."""

from django import template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qiyue.contracts import policies as contract_policies
from qiyue.contracts import services as contract_services
from qiyue.contracts.retention import retention

from ..forms import ReasonForm

register = template.Library()


@register.inclusion_tag("archive/_contract_panel.html", takes_context=True)
def archive_panel(context, contract):
    user = context["request"].user
    years = contract_services.retention_years(contract.nature)
    kept = retention(contract, years)
    return {
        "contract": contract,
        "retention": kept,
        "within_retention": kept.within(timezone.localdate()),
        "years": years,
        "can_hold": contract_policies.can_set_legal_hold(user),
        "can_delete": contract_policies.can_delete_contract(user, contract),
        "hold_form": ReasonForm(auto_id="id_hold_%s", label=_("Reason for the legal hold")),
        "delete_form": ReasonForm(auto_id="id_delete_%s", label=_("Reason for deleting")),
        "csrf_token": context.get("csrf_token"),
    }
