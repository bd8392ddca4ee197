"""Run by test_race.py in separate processes against one database: `setup` makes a contract waiting
for an any-of step with two approvers and prints their task ids; `decide` waits for the agreed
moment, then decides, and prints the outcome (ok, or the error code)."""

import json
import sys
import time

import django


def setup() -> dict:
    from decimal import Decimal

    from qiyue.accounts.tests.factories import make_team, make_user
    from qiyue.contracts.services import contract_transition
    from qiyue.contracts.tests.factories import make_contract
    from qiyue.workflow.models import ApprovalFlow, ApprovalTask
    from qiyue.workflow.services import flow_save

    team = make_team("东区")
    admin, sales = make_user("admin", username="race_admin"), make_user("sales", team, username="race_sales")
    legal, legal2 = make_user("legal", username="race_legal"), make_user("legal", username="race_legal2")
    flow_save(actor=admin, flow=ApprovalFlow.objects.get(is_default=True), data={"steps": [
        {"name_zh": "法务审核", "name_en": "Legal", "mode": "any", "review": "",
         "approvers": [{"type": "user", "value": legal.pk}, {"type": "user", "value": legal2.pk}]}]})
    contract = make_contract(sales, amount=Decimal("5000.00"))
    contract_transition(actor=sales, contract=contract, name="submit")
    tasks = {t.assignee.username: t.pk for t in ApprovalTask.objects.filter(contract=contract)}
    return {"contract": contract.pk, "tasks": tasks, "version": contract.approvals.get().version}


def decide(contract_id: int, task_id: int, username: str, decision: str, version: int, at: float) -> str:
    from qiyue.accounts.models import User
    from qiyue.contracts.models import Contract
    from qiyue.core.errors import ApplicationError
    from qiyue.workflow.services import approval_decide

    actor = User.objects.get(username=username)
    contract = Contract.objects.get(pk=contract_id)
    time.sleep(max(0.0, at - time.time()))
    try:
        approval_decide(actor=actor, contract=contract, task_id=task_id, decision=decision,
                        comment="" if decision == "approve" else "条款需修改", expected_version=version)
    except ApplicationError as exc:
        return exc.code
    return "ok"


if __name__ == "__main__":
    django.setup()
    if sys.argv[1] == "setup":
        print(json.dumps(setup()))
    else:
        contract_id, task_id, username, decision, version, at = sys.argv[2:8]
        print(decide(int(contract_id), int(task_id), username, decision, int(version), float(at)))
