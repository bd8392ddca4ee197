"""The reminders API: rules (administrators), the user's dates and calendar feed, with hostile input."""

import datetime

import pytest
from rest_framework.test import APIClient

from qiyue.accounts.tests.factories import make_role_users, make_team
from qiyue.reminders.models import ReminderRule

from .factories import running_contract

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()


@pytest.fixture
def people():
    return make_role_users(make_team("东区"), make_team("西区"))


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_rules_for_admins_only_with_versions_and_clear_errors(people):
    admin = api(people["admin"])
    rules = admin.get("/api/v1/reminder-rules/").json()
    assert "expiry-90" in {r["key"] for r in rules["results"]}
    created = admin.post("/api/v1/reminder-rules/", {
        "name_zh": "款项逾期 60 天", "name_en": "Overdue by 60 days", "subject": "installment_due", "offset_days": 60,
        "to_manager": True, "to_roles": ["finance"], "to_users": [people["legal"].pk]}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["offset_days"], body["to_roles"], body["to_users"]) == (60, ["finance"], [people["legal"].pk])
    url = f"/api/v1/reminder-rules/{body['id']}/"
    changed = admin.patch(url, {"offset_days": 45, "version": body["version"]}, format="json")
    assert changed.status_code == 200 and changed.json()["offset_days"] == 45
    assert admin.patch(url, {"offset_days": 30, "version": body["version"]}, format="json").status_code == 409
    assert admin.patch(url, {"offset_days": 30}, format="json").status_code == 400  # no version
    for bad in ({"offset_days": "soon"}, {"offset_days": 99999}, {"subject": "moon"}, {"to_roles": ["king"]},
                {"to_users": [999999]}, {"to_users": ["x"]}, {"name_zh": ""}, {"name_zh": "x" * 1000},
                {"to_users": list(range(1, 500))}):
        response = admin.patch(url, {"version": changed.json()["version"], **bad}, format="json")
        assert response.status_code == 400, (bad, response.status_code)
        assert response.json()["code"] == "invalid"
    assert ReminderRule.objects.get(pk=body["id"]).offset_days == 45
    assert admin.get("/api/v1/reminder-rules/999999/").status_code == 404
    for role in ("manager", "sales", "legal", "finance", "auditor"):
        assert api(people[role]).get("/api/v1/reminder-rules/").status_code == 403
        assert api(people[role]).patch(url, {"offset_days": 1, "version": 9}, format="json").status_code == 403
    assert api().get("/api/v1/reminder-rules/").status_code == 401


def test_dates_are_the_users_own_and_within_their_scope(people):
    mine = running_contract(people["sales"], expiry_date=TODAY + datetime.timedelta(days=9),
                            effective_date=TODAY - datetime.timedelta(days=100))
    other = running_contract(people["sales_b"], expiry_date=TODAY + datetime.timedelta(days=9),
                             effective_date=TODAY - datetime.timedelta(days=100))
    rows = api(people["sales"]).get("/api/v1/calendar/dates/").json()
    assert [(r["subject"], r["number"], r["date"]) for r in rows] == [
        ("contract_expiry", mine.number, (TODAY + datetime.timedelta(days=9)).isoformat())]
    assert rows[0]["url"] == f"/contracts/{mine.pk}/" and rows[0]["text"].startswith("Expires:")
    legal = api(people["legal"])
    assert legal.get("/api/v1/calendar/dates/").json() == []
    everything = legal.get("/api/v1/calendar/dates/", {"whose": "all"}).json()
    assert {r["number"] for r in everything} == {mine.number, other.number}
    manager = api(people["manager"])
    team = manager.get("/api/v1/calendar/dates/", {"whose": "team", "team": people["manager"].team_id}).json()
    assert {r["number"] for r in team} == {mine.number}
    for bad in ({"whose": "team", "team": people["sales_b"].team_id}, {"whose": "owner", "owner": people["sales_b"].pk},
                {"whose": "owner"}, {"whose": "emperor"}, {"start": "yesterday"}, {"owner": "x"},
                {"start": "2026-01-01", "end": "2030-01-01"}, {"start": "2026-02-01", "end": "2026-01-01"},
                {"subject": "moon"}):
        assert manager.get("/api/v1/calendar/dates/", bad).status_code == 400, bad
    assert api().get("/api/v1/calendar/dates/").status_code == 401


def test_feed_address_time_zone_and_reset(people):
    client = api(people["sales"])
    assert client.get("/api/v1/calendar/feed/").json()["exists"] is False
    made = client.post("/api/v1/calendar/feed/reset/").json()
    assert made["exists"] and made["url"].endswith(".ics") and made["time_zone"] == "Asia/Shanghai"
    again = client.post("/api/v1/calendar/feed/reset/").json()
    assert again["url"] != made["url"] and again["reset_at"]
    assert APIClient().get(made["url"]).status_code == 404
    assert APIClient().get(again["url"]).status_code == 200
    assert client.put("/api/v1/calendar/feed/", {"time_zone": "America/New_York"}, format="json").json()[
        "time_zone"] == "America/New_York"
    chosen = client.put("/api/v1/calendar/feed/", {"subjects": ["contract_expiry", "review_due"]}, format="json")
    assert chosen.json()["subjects"] == ["contract_expiry", "review_due"]
    assert chosen.json()["time_zone"] == "America/New_York"  # left as it was
    for bad in ({"time_zone": "Nowhere/Land"}, {"time_zone": "x" * 100}, {}, {"time_zone": 5}, {"subjects": []},
                {"subjects": ["approval_waiting"]}, {"subjects": "contract_expiry"}, {"subjects": ["x"] * 50}):
        assert client.put("/api/v1/calendar/feed/", bad, format="json").status_code == 400, bad
    assert api().post("/api/v1/calendar/feed/reset/").status_code == 401
