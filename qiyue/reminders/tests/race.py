"""Run by test_race.py in separate processes against one database: `setup` makes five running contracts
whose 90-day expiry reminder falls on 2026-12-01; `scan` waits for the agreed moment and runs the scan
of that day; `killed` runs it in batches of two and kills its own process (SIGKILL) once the first
batch has committed."""

import datetime
import json
import os
import signal
import sys
import time

import django

DAY = datetime.date(2026, 12, 1)


def setup() -> dict:
    from qiyue.accounts.tests.factories import make_team, make_user
    from qiyue.reminders.models import ReminderRule
    from qiyue.reminders.tests.factories import only_rules, running_contract

    team = make_team("东区")
    make_user("admin", username="race_admin")
    make_user("legal", username="race_legal")
    make_user("manager", team, username="race_manager")
    sales = make_user("sales", team, username="race_sales")
    make_user("finance", username="race_fin")
    only_rules("expiry-90")
    ReminderRule.objects.filter(key="expiry-90").update(last_scanned_on=DAY - datetime.timedelta(days=1))
    contracts = [running_contract(sales, expiry_date=DAY + datetime.timedelta(days=90)).pk for _ in range(5)]
    return {"contracts": contracts}


def scan(at: float) -> dict:
    from qiyue.reminders.scan import run_scan

    time.sleep(max(0.0, at - time.time()))
    return run_scan(today=DAY)


def killed() -> None:
    from qiyue.reminders import scan as scanning

    scanning.BATCH = 2
    real = scanning._send_batch
    done = {"n": 0}

    def send_then_die(*args, **kwargs):
        if done["n"] == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        done["n"] += 1
        return real(*args, **kwargs)

    scanning._send_batch = send_then_die
    scanning.run_scan(today=DAY)


def state() -> dict:
    from qiyue.notifications.models import Notification
    from qiyue.reminders.models import ReminderRule, ReminderSent

    return {"notifications": Notification.objects.filter(kind="reminder.contract_expiry").count(),
            "numbers": len(set(Notification.objects.filter(kind="reminder.contract_expiry")
                               .values_list("params__number", flat=True))),
            "sent": ReminderSent.objects.count(),
            "last_scanned_on": str(ReminderRule.objects.get(key="expiry-90").last_scanned_on)}


if __name__ == "__main__":
    django.setup()
    if sys.argv[1] == "setup":
        print(json.dumps(setup()))
    elif sys.argv[1] == "scan":
        print(json.dumps(scan(float(sys.argv[2]))))
    elif sys.argv[1] == "killed":
        killed()
    else:
        print(json.dumps(state()))
