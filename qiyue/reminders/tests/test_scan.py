"""The reminder scan: rules across date boundaries (the scan's day is fixed), notice deadlines,
automatic expiry and renewal, recipients, idempotency, catch-up after downtime, a crash mid-run."""

import datetime
from unittest import mock

import pytest
from django.utils import translation

from qiyue.accounts.tests.factories import make_role_users, make_team, make_user
from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import Contract, ContractType
from qiyue.contracts.services import renewal_term_end
from qiyue.finance.tests.factories import plan
from qiyue.notifications.delivery import message_of
from qiyue.notifications.models import Notification
from qiyue.reminders import scan
from qiyue.reminders.models import ReminderRule, ReminderSent, TypeSchedule
from qiyue.reminders.scan import run_scan

from .factories import only_rules, running_contract

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def people():
    return make_role_users(make_team("东区"), make_team("西区"))


def reminders(kind=None, to=None):
    qs = Notification.objects.filter(kind__startswith="reminder.")
    if kind:
        qs = qs.filter(kind=f"reminder.{kind}")
    if to:
        qs = qs.filter(recipient=to)
    return list(qs.order_by("id"))


def test_an_expiry_reminder_fires_on_its_day_once(people):
    only_rules("expiry-90")
    contract = running_contract(people["sales"], expiry_date=D(2027, 3, 1))
    run_scan(today=D(2026, 11, 30))  # 91 days before
    assert reminders() == []
    run_scan(today=D(2026, 12, 1))  # 90 days before
    (sent,) = reminders()
    assert sent.recipient == people["sales"]
    assert sent.params["number"] == contract.number and sent.params["date"] == "2027-03-01"
    assert sent.params["days"] == "90"
    assert sent.url.endswith(f"/contracts/{contract.pk}/")
    run_scan(today=D(2026, 12, 1))
    run_scan(today=D(2026, 12, 2))
    assert len(reminders()) == 1


def test_a_new_rule_starts_today_and_does_not_send_the_past(people):
    only_rules("expiry-90")
    running_contract(people["sales"], expiry_date=D(2027, 2, 1))  # its 90-day mark was 2026-11-03
    run_scan(today=D(2026, 12, 1))
    assert reminders() == []


def test_after_downtime_each_missed_reminder_goes_out_once(people):
    only_rules("expiry-90", "expiry-30")
    running_contract(people["sales"], expiry_date=D(2027, 3, 1))  # 90 days: 2026-12-01
    running_contract(people["sales"], expiry_date=D(2027, 3, 3))  # 90 days: 2026-12-03
    run_scan(today=D(2026, 11, 25))
    run_scan(today=D(2026, 12, 10))  # down from the 26th to the 9th
    sent = reminders("contract_expiry")
    assert sorted(n.params["date"] for n in sent) == ["2027-03-01", "2027-03-03"]
    assert {n.params["days"] for n in sent} == {"81", "83"}  # told how far the date is now
    run_scan(today=D(2026, 12, 11))
    assert len(reminders()) == 2


def test_notice_deadline_is_the_expiry_minus_the_notice_period(people):
    only_rules("notice-14", "notice-passed")
    contract = running_contract(people["sales"], expiry_date=D(2027, 3, 31), notice_period_days=30)
    # The deadline: 2027-03-01; 14 days before it: 2027-02-15; passed: 2027-03-02.
    for day in (D(2027, 2, 14), D(2027, 2, 15), D(2027, 2, 16)):
        run_scan(today=day)
    (soon,) = reminders(to=people["sales"])
    assert soon.params["date"] == "2027-03-01" and soon.params["days"] == "14"
    for day in (D(2027, 3, 1), D(2027, 3, 2)):
        run_scan(today=day)
    mine = reminders(to=people["sales"])
    assert [n.params["days"] for n in mine] == ["14", "-1"]
    assert [n.params["days"] for n in reminders(to=people["manager"])] == ["14", "-1"]
    with translation.override("en"):
        assert f"The notice deadline of {contract.number}" in message_of(mine[1])[0]
        assert "1 day ago" in message_of(mine[1])[0]


def test_installments_due_and_overdue_and_paid_ones_are_left_alone(people):
    only_rules("installment-7", "installment-today", "overdue-1", "overdue-30")
    contract = running_contract(people["sales"])
    plan(people["finance"], contract, (D(2027, 1, 10), "40000.00"), (D(2027, 1, 20), "60000.00"))
    for day in range(1, 32):
        run_scan(today=D(2027, 1, day))
    for day in range(1, 22):
        run_scan(today=D(2027, 2, day))
    sent = [(n.recipient.username, n.params["position"], n.params["days"]) for n in reminders()]
    owner = people["sales"].username
    assert sorted(sent) == sorted([
        (owner, "1", "7"), (owner, "1", "0"), (owner, "1", "-1"), (owner, "1", "-30"),
        (owner, "2", "7"), (owner, "2", "0"), (owner, "2", "-1"), (owner, "2", "-30"),
        ("finance1", "1", "-30"), ("finance1", "2", "-30"), ("manager_a", "1", "-30"), ("manager_a", "2", "-30")])
    with translation.override("zh-hans"):
        subject, body = message_of(reminders()[0])
    assert contract.number in subject and "40,000.00" in subject
    assert f"/contracts/{contract.pk}/#money" in body


def test_a_paid_installment_gets_no_overdue_reminder(people):
    from qiyue.finance.services import payment_record

    only_rules("overdue-1")
    contract = running_contract(people["sales"])
    plan(people["finance"], contract, (D(2027, 1, 10), "100000.00"))
    run_scan(today=D(2027, 1, 10))
    payment_record(actor=people["finance"], contract=contract, data={"amount": "100000.00",
                                                                     "received_on": D(2026, 12, 1)})
    run_scan(today=D(2027, 1, 11))
    assert reminders() == []


def test_manager_roles_and_named_users_are_told_only_of_what_they_may_see(people):
    rule = ReminderRule.objects.get(key="expiry-30")
    only_rules("expiry-30")
    rule.to_roles = ["legal"]
    rule.save()
    rule.to_users.add(people["sales_b"], people["sales2"])
    running_contract(people["sales"], expiry_date=D(2027, 1, 30), team=people["sales"].team)
    run_scan(today=D(2026, 12, 31))
    told = sorted(n.recipient.username for n in reminders())
    # Owner; team A's manager; legal (sees all); sales_a2 (same team); not sales_b (team B).
    assert told == sorted(["sales_a", "manager_a", "legal1", "sales_a2"])


def test_reports_to_decides_the_manager(people):
    boss = make_user("manager", people["sales"].team, username="boss")
    people["sales"].reports_to = boss
    people["sales"].save()
    only_rules("expiry-30")
    running_contract(people["sales"], expiry_date=D(2027, 1, 30), team=people["sales"].team)
    run_scan(today=D(2026, 12, 31))
    assert sorted(n.recipient.username for n in reminders()) == ["boss", "sales_a"]


def test_active_contracts_past_expiry_expire_unless_their_type_says_not(people):
    kept = ContractType.objects.create(name_zh="框架", name_en="Framework")
    TypeSchedule.objects.create(contract_type=kept, auto_expire=False)
    ends = running_contract(people["sales"], expiry_date=D(2026, 12, 1))
    stays = running_contract(people["sales"], expiry_date=D(2026, 12, 1), contract_type=kept)
    later = running_contract(people["sales"], expiry_date=D(2026, 12, 2))
    result = run_scan(today=D(2026, 12, 2))
    assert result["expired"] == 1
    statuses = dict(Contract.objects.filter(pk__in=[ends.pk, stays.pk, later.pk]).values_list("pk", "status"))
    assert statuses == {ends.pk: "expired", stays.pk: "active", later.pk: "active"}
    event = AuditEvent.objects.filter(action="contract.expire", target_id=str(ends.pk)).get()
    assert event.actor_name == "system"
    assert run_scan(today=D(2026, 12, 2))["expired"] == 0


def test_auto_renewal_rolls_the_expiry_forward_once_the_notice_deadline_passed(people):
    contract = running_contract(people["sales"], effective_date=D(2026, 1, 1), expiry_date=D(2026, 12, 31),
                                auto_renewal=True, notice_period_days=30)
    run_scan(today=D(2026, 12, 1))  # the deadline is 2026-12-01: not passed yet
    contract.refresh_from_db()
    assert contract.expiry_date == D(2026, 12, 31)
    result = run_scan(today=D(2026, 12, 2))
    contract.refresh_from_db()
    assert (result["renewed"], contract.expiry_date, contract.status) == (1, D(2027, 12, 31), "active")
    event = AuditEvent.objects.get(action="contract.auto_renewed", target_id=str(contract.pk))
    assert event.changes == {"expiry_date": ["2026-12-31", "2027-12-31"]} and event.actor_name == "system"
    assert run_scan(today=D(2026, 12, 3))["renewed"] == 0
    # Two years down: it rolls twice, to the term whose deadline is still ahead.
    assert run_scan(today=D(2028, 12, 5))["renewed"] == 2
    contract.refresh_from_db()
    assert contract.expiry_date == D(2029, 12, 31)


def test_a_type_that_does_not_renew_lets_auto_renewing_contracts_expire(people):
    fixed = ContractType.objects.create(name_zh="一次性", name_en="One-off")
    TypeSchedule.objects.create(contract_type=fixed, auto_renew=False)
    contract = running_contract(people["sales"], expiry_date=D(2026, 12, 31), auto_renewal=True,
                                notice_period_days=30, contract_type=fixed)
    assert run_scan(today=D(2027, 1, 1))["renewed"] == 0
    contract.refresh_from_db()
    assert contract.status == "expired" and contract.expiry_date == D(2026, 12, 31)


@pytest.mark.parametrize(("effective", "expiry", "renewed"), [
    (D(2026, 1, 1), D(2026, 12, 31), D(2027, 12, 31)),  # a year
    (D(2026, 3, 1), D(2026, 5, 31), D(2026, 8, 31)),  # three months
    (D(2026, 1, 31), D(2026, 2, 27), D(2026, 3, 27)),  # 28 days: not whole months
    (None, D(2026, 6, 30), D(2027, 6, 30)),  # no effective date: a year
])
def test_renewal_term(effective, expiry, renewed):
    assert renewal_term_end(expiry, effective, expiry) == renewed
    if effective == D(2026, 1, 1):  # the next term again a year, from the agreed term
        assert renewal_term_end(renewed, effective, expiry) == D(2028, 12, 31)


def test_running_twice_or_after_losing_its_place_sends_nothing_twice(people):
    only_rules("expiry-90")
    for n in range(3):
        running_contract(people["sales"], expiry_date=D(2027, 3, 1) + datetime.timedelta(days=n))
    for day in (1, 2, 3):
        run_scan(today=D(2026, 12, day))
    assert len(reminders()) == 3
    ReminderRule.objects.update(last_scanned_on=D(2026, 11, 30))  # as if its progress were lost
    run_scan(today=D(2026, 12, 3))
    assert len(reminders()) == 3  # the three days scanned again: nothing sent twice
    assert ReminderSent.objects.count() == 3


def test_a_crash_mid_run_loses_and_repeats_nothing(people, monkeypatch):
    only_rules("expiry-90")
    for _n in range(5):
        running_contract(people["sales"], expiry_date=D(2027, 3, 1))
    run_scan(today=D(2026, 11, 30))
    monkeypatch.setattr(scan, "BATCH", 2)
    real = scan.notify_now
    calls = {"n": 0}

    def crash_on_second(entries):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the worker died")
        return real(entries)

    with mock.patch.object(scan, "notify_now", crash_on_second), pytest.raises(RuntimeError):
        run_scan(today=D(2026, 12, 1))
    assert len(reminders()) == 2  # the first batch committed; the second rolled back
    assert ReminderRule.objects.get(key="expiry-90").last_scanned_on == D(2026, 11, 30)
    run_scan(today=D(2026, 12, 1))
    assert len(reminders()) == 5
    assert len({n.params["number"] for n in reminders()}) == 5


def test_reminder_email_in_the_recipients_language(people):
    only_rules("expiry-30")
    people["sales"].language = "en"
    people["sales"].save()
    contract = running_contract(people["sales"], expiry_date=D(2027, 1, 30), team=people["sales"].team)
    run_scan(today=D(2026, 12, 31))
    mine = Notification.objects.get(recipient=people["sales"])
    manager = Notification.objects.get(recipient=people["manager"])
    with translation.override("en"):
        subject, body = message_of(mine)
    assert subject == f"[Qiyue] {contract.number} “{contract.title}” expires on 2027-01-30 (in 30 days)"
    with translation.override("zh-hans"):
        subject, body = message_of(manager)
    assert subject == f"[契约] {contract.number}“{contract.title}”将于 2027-01-30 到期（30 天后）"


def test_periodic_reviews_fall_due_every_interval_after_the_effective_date(people):
    only_rules("review-today")
    reviewed = ContractType.objects.create(name_zh="服务", name_en="Service")
    TypeSchedule.objects.create(contract_type=reviewed, review_every_months=6)
    month_end = running_contract(people["sales"], effective_date=D(2026, 8, 31), expiry_date=D(2028, 8, 30),
                                 contract_type=reviewed, team=people["sales"].team)
    plain = running_contract(people["sales"], effective_date=D(2026, 8, 31), expiry_date=D(2028, 8, 30))
    for day in (D(2027, 2, 27), D(2027, 2, 28), D(2027, 3, 1), D(2027, 3, 31)):
        run_scan(today=day)
    (review,) = reminders("review_due", to=people["sales"])
    assert review.params["number"] == month_end.number and review.params["date"] == "2027-02-28"
    assert plain.number not in {n.params["number"] for n in reminders()}
    assert sorted(n.recipient.username for n in reminders("review_due")) == ["manager_a", "sales_a"]
    # After downtime over the next one (2027-08-31), it is sent once, late.
    run_scan(today=D(2027, 9, 10))
    assert [n.params["date"] for n in reminders("review_due", to=people["sales"])] == ["2027-02-28", "2027-08-31"]
    with translation.override("en"):
        assert message_of(reminders("review_due", to=people["sales"])[1])[0].endswith(
            "is due on 2027-08-31 (10 days ago)")
