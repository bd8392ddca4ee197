"""A contract's lifecycle as the stage bar at the top of its page shows it (like a sales path): draft →
review → signing → active → closed, each stage covering the statuses in it."""

from django.utils.translation import gettext_lazy as _

from .models import Status

STAGES = (
    ("draft", _("Draft"), (Status.DRAFT,)),
    ("review", _("Review"), (Status.IN_REVIEW,)),
    ("signing", _("Signing"), (Status.APPROVED, Status.SIGNED)),
    ("active", _("Active"), (Status.ACTIVE,)),
    ("closed", _("Closed"), (Status.COMPLETED, Status.EXPIRED, Status.TERMINATED, Status.CANCELLED)),
)


def stage_bar(contract) -> list[dict]:
    """[{key, label, state: "done" | "current" | "todo", note}] for `contract`'s status; the current
    stage notes the status when the stage has several (signed, cancelled …)."""
    current = next(index for index, (_key, _label, statuses) in enumerate(STAGES) if contract.status in statuses)
    bar = []
    for index, (key, label, statuses) in enumerate(STAGES):
        state = "done" if index < current else "current" if index == current else "todo"
        note = contract.get_status_display() if state == "current" and len(statuses) > 1 else ""
        bar.append({"key": key, "label": label, "state": state, "note": note})
    return bar
