"""The calendar page, the dashboard's "due soon" panel, the calendar feed (parsed back with the
`icalendar` library) and the administrators' rules: as users of each role reach them, with hostile input."""

import datetime
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse

from qiyue.accounts.tests.factories import make_role_users, make_team
from qiyue.audit.models import AuditEvent
from qiyue.contracts.models import ContractType
from qiyue.finance.services import obligation_create
from qiyue.finance.tests.factories import plan
from qiyue.reminders.models import CalendarFeed, ReminderRule, TypeSchedule

from .factories import running_contract

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = datetime.date.today()


@pytest.fixture
def people():
    return make_role_users(make_team("东区"), make_team("西区"))


@pytest.fixture
def dated(people):
    """Sales A's contract expiring in 20 days with an installment due in 5 and an obligation in 10;
    sales B's (another team) expiring in 20 days too."""
    mine = running_contract(people["sales"], expiry_date=TODAY + datetime.timedelta(days=20),
                            effective_date=TODAY - datetime.timedelta(days=300), notice_period_days=10)
    plan(people["finance"], mine, (TODAY + datetime.timedelta(days=5), "30000.00"),
         (TODAY - datetime.timedelta(days=3), "20000.00"))
    obligation_create(actor=people["sales"], contract=mine, data={
        "description": "交付验收报告", "due_date": TODAY + datetime.timedelta(days=10), "party": "ours"})
    other = running_contract(people["sales_b"], expiry_date=TODAY + datetime.timedelta(days=20),
                             effective_date=TODAY - datetime.timedelta(days=300))
    return {"mine": mine, "other": other}


def test_the_calendar_shows_my_dates_in_a_month_and_an_agenda(client, people, dated):
    client.force_login(people["sales"])
    month = (TODAY + datetime.timedelta(days=20)).strftime("%Y-%m")
    page = client.get(reverse("reminders:calendar"), {"month": month, "view": "agenda"})
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Expires: {dated['mine'].number}" in html and dated["other"].number not in html
    assert f'href="/contracts/{dated["mine"].pk}/"' in html
    grid = client.get(reverse("reminders:calendar"), {"month": month}).content.decode()
    assert 'data-testid="cal-grid"' in grid and dated["mine"].number in grid


def test_the_calendar_lets_a_manager_look_at_the_team_and_refuses_what_they_may_not(client, people, dated):
    client.force_login(people["manager"])
    month = (TODAY + datetime.timedelta(days=20)).strftime("%Y-%m")
    url = reverse("reminders:calendar")
    mine_only = client.get(url, {"month": month, "view": "agenda"}).content.decode()
    assert dated["mine"].number not in mine_only  # the manager owns none
    team = client.get(url, {"month": month, "view": "agenda", "whose": "team", "team": people["manager"].team_id})
    assert dated["mine"].number in team.content.decode() and dated["other"].number not in team.content.decode()
    owner = client.get(url, {"month": month, "view": "agenda", "whose": "owner", "owner": people["sales"].pk})
    assert dated["mine"].number in owner.content.decode()
    for hostile in ({"whose": "team", "team": people["sales_b"].team_id}, {"whose": "owner", "owner": people["sales_b"].pk},
                    {"whose": "owner", "owner": "abc"}, {"whose": "owner"}, {"whose": "owner", "owner": "9" * 40},
                    {"whose": "everyone"}, {"month": "2026-13"}, {"month": "x" * 5000}, {"view": "year"}):
        assert client.get(url, hostile).status_code == 400, hostile


def test_a_sales_user_picks_only_mine_or_all_they_see(client, people, dated):
    client.force_login(people["sales"])
    url = reverse("reminders:calendar")
    assert client.get(url, {"whose": "owner", "owner": people["sales"].pk}).status_code == 400
    everything = client.get(url, {"whose": "all", "view": "agenda",
                                  "month": (TODAY + datetime.timedelta(days=20)).strftime("%Y-%m")})
    assert dated["other"].number not in everything.content.decode()


def test_due_soon_lists_my_overdue_and_coming_dates(client, people, dated):
    client.force_login(people["sales"])
    html = client.get(reverse("reminders:due_soon")).content.decode()
    assert 'data-testid="due-soon-overdue">1 overdue' in html
    assert "3 days late" in html and "in 5 days" in html and "in 10 days" in html
    client.force_login(people["legal"])
    assert 'data-testid="due-soon-empty"' in client.get(reverse("reminders:due_soon")).content.decode()
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert reverse("reminders:due_soon") in dashboard


def _feed(client, user) -> tuple[str, CalendarFeed]:
    client.force_login(user)
    assert client.post(reverse("reminders:feed"), {"action": "create"}).status_code == 302
    feed = CalendarFeed.objects.get(user=user)
    return reverse("reminders:feed_ics", args=[feed.token]), feed


def test_the_feed_holds_my_dates_at_09_00_shanghai_time(client, people, dated):
    url, feed = _feed(client, people["sales"])
    client.logout()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    mine = dated["mine"]
    expiry = events[f"Expires: {mine.number} {mine.title}"]
    start = expiry.decoded("dtstart")
    assert start == datetime.datetime.combine(TODAY + datetime.timedelta(days=20), datetime.time(9),
                                              tzinfo=ZoneInfo("Asia/Shanghai"))
    assert expiry["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert str(expiry["url"]).endswith(f"/contracts/{mine.pk}/")
    assert expiry["uid"] == f"contract_expiry-contract-{mine.pk}@qiyue"
    notice = events[f"Notice deadline: {mine.number} {mine.title}"]
    assert notice.decoded("dtstart").date() == TODAY + datetime.timedelta(days=10)
    assert any(s.startswith(f"Payment due: {mine.number} installment 1") for s in events)
    assert f"Obligation due: {mine.number} 交付验收报告" in events
    assert not any(dated["other"].number in s for s in events)  # only what its user may see
    feed.refresh_from_db()
    assert feed.last_read_at is not None


def test_the_feed_follows_a_contract_to_its_new_owner(client, people, dated):
    from qiyue.contracts.services import contract_update

    url, _feed_row = _feed(client, people["sales"])
    contract = dated["mine"]
    contract_update(actor=people["admin"], contract=contract, data={"owner": people["sales2"]},
                    expected_version=contract.version)
    body = client.get(url).content.decode()
    assert contract.number not in body


def test_resetting_the_secret_cuts_off_the_old_address(client, people, dated):
    old, feed = _feed(client, people["sales"])
    assert client.post(reverse("reminders:feed"), {"action": "reset"}).status_code == 302
    feed.refresh_from_db()
    new = reverse("reminders:feed_ics", args=[feed.token])
    assert new != old
    client.logout()
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert AuditEvent.objects.filter(action="calendar_feed.reset").count() == 1


def test_the_feed_time_zone_and_hostile_input(client, people, dated):
    url, feed = _feed(client, people["sales"])
    every = ["contract_expiry", "notice_deadline", "installment_due", "obligation_due", "review_due"]
    settings_url = reverse("reminders:feed")
    assert client.post(settings_url, {"action": "settings", "time_zone": "Europe/Berlin",
                                      "subjects": every}).status_code == 302
    event = icalendar.Calendar.from_ical(client.get(url).content).walk("VEVENT")[0]
    assert event["dtstart"].params["TZID"] == "Europe/Berlin"
    # Only the payments: the user picks the kinds of date the feed holds.
    assert client.post(settings_url, {"action": "settings", "subjects": ["installment_due"]}).status_code == 302
    summaries = [str(e["summary"]) for e in icalendar.Calendar.from_ical(client.get(url).content).walk("VEVENT")]
    assert summaries and all(s.startswith("Payment due:") for s in summaries)
    page = client.get(settings_url).content.decode()
    checked = set(re.findall(r'<input type="checkbox" name="subjects" value="(\w+)"[^>]*checked', page))
    assert checked == {"installment_due"}
    for bad in ({"time_zone": "Mars/Olympus"}, {"time_zone": "x" * 5000}, {"time_zone": "../etc"},
                {"subjects": ["moon"]}, {"subjects": []}):
        data = {"action": "settings", "subjects": every, **bad}
        assert client.post(settings_url, data).status_code == 400, bad
    feed.refresh_from_db()
    assert (feed.time_zone, feed.subjects) == ("", ["installment_due"])
    assert client.post(reverse("reminders:feed"), {"action": "explode"}).status_code == 400
    client.logout()
    assert client.get(reverse("reminders:feed_ics", args=["nonsense"])).status_code == 404
    assert client.get("/reminders/feed/" + "a" * 500 + ".ics").status_code == 404
    people["sales"].is_active = False
    people["sales"].save()
    assert client.get(url).status_code == 404
    assert client.get(reverse("reminders:feed")).status_code == 302  # the settings page needs a login


def test_admins_edit_rules_and_type_schedules_others_may_not(client, people):
    rule = ReminderRule.objects.get(key="expiry-30")
    url = reverse("reminders:rule", args=[rule.pk])
    for role in ("manager", "sales", "legal", "finance", "auditor"):
        client.force_login(people[role])
        assert client.get(url).status_code == 403
        assert client.get(reverse("reminders:rules")).status_code == 403
    client.force_login(people["admin"])
    data = {"name_zh": "合同 45 天后到期", "name_en": "Contract expires in 45 days", "subject": "contract_expiry",
            "days": "45", "when": "before", "to_responsible": "on", "to_roles": ["legal"],
            "to_users": [people["finance"].pk], "active": "on", "position": "20", "version": rule.version}
    assert client.post(url, data).status_code == 302
    rule.refresh_from_db()
    assert (rule.offset_days, rule.to_roles, list(rule.to_users.all())) == (-45, ["legal"], [people["finance"]])
    assert rule.last_scanned_on is None  # a changed offset starts it again from the day it changed
    event = AuditEvent.objects.get(action="reminder_rule.updated")
    assert event.changes["offset_days"] == [-30, -45]
    # Hostile: missing, wrong type, huge, an unknown role, a user that is gone, a stale version, nobody told.
    for bad in ({"days": ""}, {"days": "abc"}, {"days": "99999"}, {"name_zh": ""}, {"name_zh": "x" * 500},
                {"to_roles": ["emperor"]}, {"to_users": ["999999"]}, {"subject": "moon_phase"},
                {"version": "1"}, {"to_responsible": "", "to_roles": [], "to_users": []}):
        response = client.post(url, {**data, "version": rule.version, **bad})
        assert response.status_code in (400, 409), bad
    rule.refresh_from_db()
    assert rule.offset_days == -45
    assert client.post(reverse("reminders:rule_create"), {**data, "name_zh": "新规则", "version": ""}).status_code == 302
    assert ReminderRule.objects.filter(name_zh="新规则").exists()
    # Contract types: both on unless unticked.
    kind = ContractType.objects.create(name_zh="框架协议", name_en="Framework")
    assert client.post(reverse("reminders:types"), {"auto_renew": [str(kind.pk)]}).status_code == 302
    schedule = TypeSchedule.objects.get(contract_type=kind)
    assert (schedule.auto_expire, schedule.auto_renew, schedule.review_every_months) == (False, True, None)
    assert client.post(reverse("reminders:types"), {"auto_renew": [str(kind.pk)],
                                                    f"review_{kind.pk}": "12"}).status_code == 302
    assert TypeSchedule.objects.get(contract_type=kind).review_every_months == 12
    for bad in ("0", "121", "abc", "-3", "9" * 50, "1.5"):
        response = client.post(reverse("reminders:types"), {f"review_{kind.pk}": bad})
        assert response.status_code == 400, bad
    assert TypeSchedule.objects.get(contract_type=kind).review_every_months == 12
    client.force_login(people["manager"])
    assert client.post(reverse("reminders:types"), {}).status_code == 403


def test_the_feed_folds_and_escapes_long_and_awkward_titles(client, people):
    title = "长期" * 40 + "；分号, 逗号; semicolon \\ backslash"
    contract = running_contract(people["sales"], title=title[:200], expiry_date=TODAY + datetime.timedelta(days=30),
                                effective_date=TODAY - datetime.timedelta(days=300))
    url, _feed_row = _feed(client, people["sales"])
    body = client.get(url).content
    assert all(len(line) <= 75 for line in body.split(b"\r\n")), "a content line longer than 75 octets"
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["summary"]) == f"Expires: {contract.number} {title[:200]}"
    assert str(event["description"]).startswith(f"{contract.number} {title[:200]}\n")
    # The same event written by the library itself reads back the same.
    again = icalendar.Calendar.from_ical(icalendar.Calendar.from_ical(body).to_ical()).walk("VEVENT")[0]
    assert {k: str(v) for k, v in again.items()} == {k: str(v) for k, v in event.items()}
