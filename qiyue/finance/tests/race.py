"""Run by test_race.py in separate processes against one database: `setup` makes a signed contract
with one installment of 10,000.00 and two finance users; `pay` waits for the agreed moment, records a
payment, and prints the outcome (ok, replay, or the error code)."""

import json
import sys
import time

import django


def setup() -> dict:
    import datetime

    from qiyue.accounts.tests.factories import make_team, make_user
    from qiyue.finance.tests.factories import plan, signed_contract

    team = make_team("东区")
    make_user("admin", username="race_admin")
    sales = make_user("sales", team, username="race_sales")
    make_user("manager", team, username="race_manager")
    make_user("legal", username="race_legal")
    finance, finance2 = make_user("finance", username="race_fin"), make_user("finance", username="race_fin2")
    contract = signed_contract(sales, amount="10000.00")
    plan(finance, contract, (datetime.date(2026, 2, 1), "10000.00"))
    return {"contract": contract.pk, "users": [finance.username, finance2.username]}


def pay(contract_id: int, username: str, key: str, at: float) -> str:
    import datetime

    from qiyue.accounts.models import User
    from qiyue.contracts.models import Contract
    from qiyue.core.errors import ApplicationError
    from qiyue.finance.services import payment_record

    actor = User.objects.get(username=username)
    contract = Contract.objects.get(pk=contract_id)
    time.sleep(max(0.0, at - time.time()))
    try:
        _payment, created = payment_record(actor=actor, contract=contract, idempotency_key=key,
                                           request_fingerprint="same" if key else "",
                                           data={"amount": "10000.00", "received_on": datetime.date(2026, 2, 1)})
    except ApplicationError as exc:
        return exc.code
    return "ok" if created else "replay"


def threads(contract_id: int, username: str, count: int, at: float) -> list[str]:
    """`count` threads of this process paying the same installment at once (each its own connection)."""
    import threading

    from django.db import connection

    outcomes: list[str] = []

    def one():
        try:
            outcomes.append(pay(contract_id, username, "", at))
        finally:
            connection.close()

    workers = [threading.Thread(target=one) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return outcomes


if __name__ == "__main__":
    django.setup()
    if sys.argv[1] == "setup":
        print(json.dumps(setup()))
    elif sys.argv[1] == "threads":
        contract_id, username, count, at = sys.argv[2:6]
        print(json.dumps(threads(int(contract_id), username, int(count), float(at))))
    else:
        contract_id, username, key, at = sys.argv[2:6]
        print(pay(int(contract_id), username, "" if key == "-" else key, float(at)))
