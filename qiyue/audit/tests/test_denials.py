"""Denied requests are in the audit log, and a scan cannot flood the chain with them."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from qiyue.audit import security
from qiyue.audit.chain import verify
from qiyue.audit.models import AuditEvent
from qiyue.audit.rendering import decorate_for_log, timeline_rows
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db

UA = "Mozilla/5.0 (Scanner) Probe/2.0"


def denials():
    return list(AuditEvent.objects.filter(action="request.denied").order_by("seq"))


@pytest.fixture
def minute(monkeypatch):
    """The rate limit's clock, held still (a test would otherwise straddle a minute now and then)."""
    now = {"window": 29_000_000}
    monkeypatch.setattr(security, "current_window", lambda: now["window"])
    return now


def test_a_forbidden_page_is_recorded_with_who_what_and_how(client, users, minute):
    client.force_login(users["sales"])
    response = client.get(reverse("audit:list"), HTTP_USER_AGENT=UA, HTTP_X_REQUEST_ID="scan-1")
    assert response.status_code == 403
    [event] = denials()
    assert (event.kind, event.outcome, event.actor_id, event.actor_name, event.actor_role) == (
        "security", "denied", users["sales"].pk, str(users["sales"]), "sales")
    assert event.changes == {"method": "GET", "path": "/audit/", "status": 403, "reason": "forbidden"}
    assert (event.target_type, event.target_label) == ("http.request", "GET /audit/")
    assert (event.user_agent, event.request_id, event.correlation_id) == (UA, response["X-Request-ID"], "scan-1")
    assert event.ip == "127.0.0.1" and event.contract_id is None and event.customer_id is None


def test_a_scan_of_a_thousand_forbidden_requests_writes_a_bounded_number(client, users, minute, settings):
    settings.QIYUE_SECURITY_EVENTS_PER_MINUTE = 20
    client.force_login(users["sales"])
    before = AuditEvent.objects.count()
    for _ in range(1000):
        assert client.get(reverse("audit:list"), HTTP_USER_AGENT=UA).status_code == 403
    written = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    assert len(written) == 21
    assert [e.action for e in written] == ["request.denied"] * 20 + ["security.limit_reached"]
    first, trip = written[0], written[-1]
    assert (first.actor_id, first.changes["path"], first.outcome, first.user_agent) == (
        users["sales"].pk, "/audit/", "denied", UA)
    assert first.request_id
    assert trip.changes == {"sort": "denied", "source": f"user:{users['sales'].pk}", "limit": 20,
                            "minute": trip.changes["minute"]}
    # The next minute, the first denial is preceded by the count of those not written.
    minute["window"] += 1
    client.get(reverse("audit:list"))
    summary, denial = AuditEvent.objects.filter(seq__gt=written[-1].seq).order_by("seq")
    assert (summary.action, summary.changes["suppressed"], denial.action) == (
        "security.suppressed", 980, "request.denied")
    assert verify(AuditEvent.objects.all()).ok


def test_sources_are_limited_apart_and_all_together(client, users, minute, settings):
    settings.QIYUE_SECURITY_EVENTS_PER_MINUTE = 2
    settings.QIYUE_SECURITY_EVENTS_PER_MINUTE_TOTAL = 5
    client.force_login(users["sales"])
    before = AuditEvent.objects.count()
    for n in range(50):  # fifty addresses, three requests each
        for _ in range(3):
            client.get(reverse("audit:list"), REMOTE_ADDR=f"10.0.{n}.1")
    client.logout()
    for n in range(50):
        client.get("/api/v1/contracts/", REMOTE_ADDR=f"10.1.{n}.1")
    written = AuditEvent.objects.filter(seq__gt=before).exclude(action="user.logged_out").order_by("seq")
    # The signed-in user is one source whatever its address: 2 denials, then its limit (the 3rd event of
    # the minute in all); the anonymous addresses each have room, but all sources together stop at 5.
    assert [(e.action, e.changes.get("source")) for e in written] == [
        ("request.denied", None), ("request.denied", None),
        ("security.limit_reached", f"user:{users['sales'].pk}"),
        ("request.denied", None), ("request.denied", None),
        ("security.limit_reached", "*"),
    ]
    assert [e.ip for e in written][3:5] == ["10.1.0.1", "10.1.1.1"]


def test_api_without_credentials_or_with_a_bad_token_is_a_denial(client, users, minute):
    assert client.get("/api/v1/contracts/", HTTP_USER_AGENT=UA).status_code == 401
    assert client.get("/api/v1/contracts/", HTTP_AUTHORIZATION="Token " + "f" * 40).status_code == 401
    first, second = denials()
    assert (first.actor_id, first.actor_name, first.changes["status"], first.changes["reason"]) == (
        None, "anonymous", 401, "unauthenticated")
    assert first.user_agent == UA and second.changes["path"] == "/api/v1/contracts/"


def test_api_permission_denied_names_the_token_user(client, users, minute):
    token = Token.objects.create(user=users["sales"])
    response = client.get("/api/v1/audit-events/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403
    [event] = denials()
    assert (event.actor_id, event.changes["reason"]) == (users["sales"].pk, "forbidden")


def test_a_hidden_record_is_a_denial_and_a_missing_one_is_not(client, users, minute):
    contract = make_contract(users["sales"])
    client.force_login(users["sales_b"])
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 404
    assert client.get(reverse("contracts:detail", args=[contract.pk + 1000])).status_code == 404
    assert client.get(f"/api/v1/contracts/{contract.pk}/").status_code == 404
    assert client.get(f"/api/v1/contracts/{contract.pk + 1000}/").status_code == 404
    page, api = denials()
    assert (page.target_type, page.target_id, page.changes["reason"], page.changes["status"]) == (
        "contracts.contract", str(contract.pk), "hidden", 404)
    assert (api.target_type, api.target_id, api.changes["path"]) == (
        "contracts.contract", str(contract.pk), f"/api/v1/contracts/{contract.pk}/")
    # Denials stay off the contract's timeline (its readers are not the ones probing).
    assert page.contract_id is None


def test_a_seen_record_and_a_signed_out_visit_are_no_denials(client, users, minute):
    contract = make_contract(users["sales"])
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 302  # to log-in
    client.force_login(users["sales"])
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 200
    assert denials() == []


def test_a_failed_csrf_check_is_a_denial(users, minute):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["sales"])
    assert client.post(reverse("logout")).status_code == 403
    [event] = denials()
    assert (event.actor_id, event.changes["method"], event.changes["status"]) == (users["sales"].pk, "POST", 403)


def test_control_characters_in_the_path_are_escaped(client, users, minute):
    client.force_login(users["sales"])
    client.get("/audit/%0d%0aFAKE%1b[31m")
    events = denials()
    for event in events:
        assert "\r" not in event.target_label and "\x1b" not in event.changes["path"]


def test_renderers_cope_with_security_events(client, users, minute):
    client.get("/api/v1/contracts/")
    client.force_login(users["sales"])
    client.get(reverse("audit:list"))
    events = denials()
    rows = timeline_rows(events, users["admin"])
    assert [r["label"] for r in rows] == ["was denied a request"] * 2
    decorate_for_log(events, {})
    assert [e.actor_display for e in events] == ["anonymous", str(users["sales"])]
    assert {e.type_label for e in events} == {"Request"}
    client.force_login(users["auditor"])
    html = client.get(reverse("audit:list"), {"kind": "security"}).content.decode()
    assert "was denied a request" in html and "anonymous" in html and 'data-testid="audit-outcome"' in html


def test_the_count_not_written_is_told_when_the_source_returns_later(client, users, minute, settings):
    settings.QIYUE_SECURITY_EVENTS_PER_MINUTE = 3
    client.force_login(users["sales"])
    for _ in range(10):
        client.get(reverse("audit:list"))
    minute["window"] += 30  # half an hour later
    client.get(reverse("audit:list"))
    client.get(reverse("audit:list"))
    actions = [e.action for e in AuditEvent.objects.filter(kind="security").exclude(action="user.logged_in")
               .order_by("seq")]
    assert actions == ["request.denied"] * 3 + ["security.limit_reached", "security.suppressed"] + [
        "request.denied"] * 2
    assert AuditEvent.objects.get(action="security.suppressed").changes["suppressed"] == 7


def test_a_hidden_contact_is_a_denial_too(client, users, minute):
    """A page that looks a row up inside a visible one (a contact of a customer the user sees) goes
    through the same get_or_404: another customer's contact is hidden, a missing one is not."""
    from qiyue.customers.models import Contact
    from qiyue.customers.tests.factories import make_customer

    mine, theirs = make_customer(users["sales_b"]), make_customer(users["sales"])
    contact = Contact.objects.create(customer=theirs, name="王芳")
    client.force_login(users["sales_b"])
    url = reverse("customers:contact_update", args=[mine.pk, contact.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("customers:contact_update", args=[mine.pk, contact.pk + 1000])).status_code == 404
    (denial,) = denials()
    assert (denial.target_type, denial.target_id, denial.changes["reason"]) == (
        "customers.contact", str(contact.pk), "hidden")
