"""The contract lifecycle: one explicit table of every allowed status change (R5.1).

    draft → in_review → approved → signed → active → completed | expired | terminated
    draft → cancelled;  in_review → draft (rejected or withdrawn);  approved → draft (reopened);
    signed → terminated

Anything not in this table is refused with `illegal_transition`. The steps marked `workflow` are the
approval flow's (qiyue.workflow): submitting starts an approval, and only its outcome approves,
rejects, withdraws or reopens the contract; nobody takes them with a click.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from qiyue.core.roles import Role

from .models import Status


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    sources: frozenset
    target: str
    roles: frozenset
    reason_required: bool = False
    needs_signing: bool = False
    # The system actor may take it (a scheduled job: activation on the effective date, expiry).
    system: bool = False
    style: str = "primary"
    # Taken only by the approval workflow (contract_transition(via_workflow=True)).
    workflow: bool = False

    @property
    def action(self) -> str:
        return f"contract.{self.name}"


_WRITERS = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES})
_REVIEWERS = frozenset({Role.ADMIN, Role.MANAGER, Role.LEGAL})

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("submit", _("Submit for review"), frozenset({Status.DRAFT}), Status.IN_REVIEW, _WRITERS),
        Transition("return", _("Return to draft"), frozenset({Status.IN_REVIEW}), Status.DRAFT, _REVIEWERS,
                   reason_required=True, style="warning", workflow=True),
        Transition("approve", _("Approve"), frozenset({Status.IN_REVIEW}), Status.APPROVED, _REVIEWERS,
                   style="success", workflow=True),
        Transition("withdraw", _("Withdraw"), frozenset({Status.IN_REVIEW}), Status.DRAFT, _WRITERS,
                   workflow=True),
        Transition("reopen", _("Reopen as a draft"), frozenset({Status.APPROVED}), Status.DRAFT, _WRITERS,
                   reason_required=True, workflow=True),
        Transition("sign", _("Record signing"), frozenset({Status.APPROVED}), Status.SIGNED, _WRITERS,
                   needs_signing=True, style="success"),
        Transition("activate", _("Activate"), frozenset({Status.SIGNED}), Status.ACTIVE, _WRITERS, system=True),
        Transition("complete", _("Mark completed"), frozenset({Status.ACTIVE}), Status.COMPLETED, _WRITERS,
                   style="secondary"),
        Transition("expire", _("Mark expired"), frozenset({Status.ACTIVE}), Status.EXPIRED, _WRITERS,
                   style="secondary", system=True),
        Transition("terminate", _("Terminate"), frozenset({Status.SIGNED, Status.ACTIVE}), Status.TERMINATED,
                   _REVIEWERS, reason_required=True, style="danger"),
        Transition("cancel", pgettext_lazy("contract transition", "Cancel"), frozenset({Status.DRAFT}), Status.CANCELLED, _WRITERS,
                   reason_required=True, style="danger"),
    )
}


def allowed_pairs() -> set[tuple[str, str]]:
    return {(source, t.target) for t in TRANSITIONS.values() for source in t.sources}


def transitions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]
