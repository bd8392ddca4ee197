"""What the contracts app tells people (see qiyue.notifications): the owner, when someone else moves
their contract on or hands it to them. Called by the services inside their transaction; sent once
it commits."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qiyue.notifications.kinds import register_kind
from qiyue.notifications.services import notify

from .models import Status


def _status_label(params: dict) -> dict:
    code = params.get("status", "")
    return {**params, "status": Status(code).label if code in Status.values else code}


STATUS_CHANGED = register_kind(
    "contract.status_changed", label=_("Someone else changes the status of a contract I own"),
    message=_("%(actor)s changed %(number)s “%(title)s” to %(status)s"), prepare=_status_label)
ASSIGNED = register_kind(
    "contract.assigned", label=_("A contract is handed to me"),
    message=_("%(actor)s made you the owner of %(number)s “%(title)s”"))


def _params(actor, contract) -> dict:
    return {"actor": str(actor) if actor is not None else str(_("The system")), "number": contract.number,
            "title": contract.title}


def status_changed_notice(*, actor, contract) -> None:
    notify(recipients=[contract.owner], kind=STATUS_CHANGED.key, actor=actor,
           params={**_params(actor, contract), "status": contract.status},
           url=reverse("contracts:detail", args=[contract.pk]))


def assigned_notice(*, actor, contract) -> None:
    notify(recipients=[contract.owner], kind=ASSIGNED.key, actor=actor, params=_params(actor, contract),
           url=reverse("contracts:detail", args=[contract.pk]))
