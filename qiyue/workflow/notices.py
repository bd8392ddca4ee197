"""What review and approval tell people (see qiyue.notifications), sent once the transaction commits:
approvers of a new task (and when urged), the owner and the submitter of an outcome."""

from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from qiyue.notifications.kinds import register_kind
from qiyue.notifications.services import notify


def _step(params: dict) -> dict:
    """The step's name in the reader's language (both are stored)."""
    chinese = (get_language() or "").startswith("zh")
    name = params.get("step_zh", "") if chinese else (params.get("step_en") or params.get("step_zh", ""))
    return {**params, "step": name}


TASK = register_kind(
    "approval.task", label=_("A contract waits for my approval"),
    message=_("%(actor)s asks you to approve %(number)s “%(title)s” (%(step)s)"), prepare=_step)
URGED = register_kind(
    "approval.urged", label=_("Someone urges me to decide on an approval"),
    message=_("%(actor)s urges you to decide on %(number)s “%(title)s” (%(step)s)"), prepare=_step)
APPROVED = register_kind(
    "approval.approved", label=_("A contract I own or submitted is approved"),
    message=_("%(number)s “%(title)s” is approved"))
REJECTED = register_kind(
    "approval.rejected", label=_("A contract I own or submitted is rejected"),
    message=_("%(actor)s rejected %(number)s “%(title)s”: %(reason)s"))
RETURNED = register_kind(
    "approval.returned", label=_("An approval I take part in goes back to an earlier step"),
    message=_("%(actor)s returned %(number)s “%(title)s” to the step “%(step)s”: %(reason)s"), email=False, prepare=_step)


def _url(contract) -> str:
    return reverse("contracts:detail", args=[contract.pk]) + "#approval"


def _params(actor, contract, **extra) -> dict:
    return {"actor": str(actor) if actor is not None else str(_("The system")), "number": contract.number,
            "title": contract.title, **extra}


def _step_params(step) -> dict:
    return {"step_zh": step.name_zh, "step_en": step.name_en} if step is not None else {}


def task_notice(*, actor, contract, users, step) -> None:
    notify(recipients=list(users), kind=TASK.key, actor=actor, url=_url(contract),
           params=_params(actor, contract, **_step_params(step)))


def urged_notice(*, actor, contract, users, step) -> None:
    notify(recipients=list(users), kind=URGED.key, actor=actor, url=_url(contract),
           params=_params(actor, contract, **_step_params(step)))


def outcome_notice(*, actor, approval, contract, kind, reason: str = "", step=None, also=()) -> None:
    people = [contract.owner, *also] + ([approval.submitted_by] if approval.submitted_by_id else [])
    notify(recipients=people, kind=kind.key, actor=actor, url=_url(contract),
           params=_params(actor, contract, reason=reason[:200], **_step_params(step)))
