"""Test data builders for approvals: flows saved through the admin's service."""

from qiyue.accounts.tests.factories import make_user
from qiyue.workflow.models import ApprovalFlow
from qiyue.workflow.services import flow_save


def step(name: str, *approvers, mode: str = "any", review: str = "", when=None) -> dict:
    entries = []
    for approver in approvers:
        if isinstance(approver, int):
            entries.append({"type": "user", "value": approver})
        elif approver in ("team_manager", "owner_superior", "owner_superior_2"):
            entries.append({"type": "relation", "value": approver})
        else:
            entries.append({"type": "role", "value": approver})
    return {"name_zh": name, "name_en": name, "mode": mode, "review": review, "approvers": entries,
            "when": when or []}


def make_flow(admin, steps, *, name: str = "测试流程", default: bool = False, conditions=None, position: int = 10):
    if default:
        flow = ApprovalFlow.objects.get(is_default=True)
        return flow_save(actor=admin, flow=flow, data={"steps": steps})
    return flow_save(actor=admin, flow=None, data={"name_zh": name, "name_en": name, "position": position,
                                                   "conditions": conditions or [], "steps": steps})


def an_admin():
    return make_user("admin")


def approve_through(contract, *, reject: str = ""):
    """Decide every open task of the contract's approval in turn as its approver would (with a passing
    checklist where the step has one), until it is approved; or have the first approver reject."""
    from qiyue.workflow import checklist
    from qiyue.workflow.models import ApprovalTask
    from qiyue.workflow.services import approval_decide

    for _ in range(50):
        task = (ApprovalTask.objects.filter(contract=contract, status="open").select_related("assignee", "step")
                .order_by("id").first())
        if task is None:
            break
        marks = {key: {"mark": "pass", "note": ""} for key in checklist.KEYS} if task.step.review else None
        approval_decide(actor=task.assignee, contract=contract, task_id=task.pk,
                        decision="reject" if reject else "approve", comment=reject, checklist_data=marks)
        if reject:
            break
    contract.refresh_from_db()
    return contract
