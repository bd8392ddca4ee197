"""Stable error codes of review and approval (tests and API clients branch on these, never on wording)."""

from enum import StrEnum

from qiyue.core.errors import register_statuses


class WorkflowErrorCode(StrEnum):
    # No flow applies and there is no default flow.
    NO_FLOW = "no_flow"
    # Nobody may approve a step (after leaving out the owner and the submitter).
    NO_APPROVER = "no_approver"
    # The task was decided, transferred or cancelled meanwhile (another approver decided first).
    TASK_CLOSED = "task_closed"
    # Someone already decided: the owner can no longer withdraw.
    ALREADY_DECIDED = "already_decided"
    URGED_RECENTLY = "urged_recently"
    # The approver chosen for a transfer or an addition may not take the task.
    NOT_ELIGIBLE = "not_eligible"
    # Approving with an "issue" on the checklist needs a comment; the checklist is incomplete.
    CHECKLIST_INCOMPLETE = "checklist_incomplete"
    # Approval locks the terms: a change needs the approval voided first.
    APPROVAL_LOCKED = "approval_locked"
    FLOW_INVALID = "flow_invalid"


register_statuses({
    WorkflowErrorCode.NO_FLOW: 409,
    WorkflowErrorCode.NO_APPROVER: 409,
    WorkflowErrorCode.TASK_CLOSED: 409,
    WorkflowErrorCode.ALREADY_DECIDED: 409,
    WorkflowErrorCode.URGED_RECENTLY: 429,
    WorkflowErrorCode.NOT_ELIGIBLE: 400,
    WorkflowErrorCode.CHECKLIST_INCOMPLETE: 400,
    WorkflowErrorCode.APPROVAL_LOCKED: 409,
    WorkflowErrorCode.FLOW_INVALID: 400,
})
