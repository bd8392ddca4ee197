"""The contract page's header: number, title, customer, and the stage bar (draft → review → signing →
active → closed) that moves with each transition, the key facts with it, without a reload."""

import re

import pytest
from django.urls import reverse

from qiyue.contracts.models import Contract, Status
from qiyue.contracts.stages import stage_bar
from qiyue.contracts.tests.factories import make_contract
from qiyue.workflow.tests.factories import approve_through

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("status", "states", "note"), [
    (Status.DRAFT, ["current", "todo", "todo", "todo", "todo"], ""),
    (Status.IN_REVIEW, ["done", "current", "todo", "todo", "todo"], ""),
    (Status.APPROVED, ["done", "done", "current", "todo", "todo"], "Approved"),
    (Status.SIGNED, ["done", "done", "current", "todo", "todo"], "Signed"),
    (Status.ACTIVE, ["done", "done", "done", "current", "todo"], ""),
    (Status.COMPLETED, ["done", "done", "done", "done", "current"], "Completed"),
    (Status.CANCELLED, ["done", "done", "done", "done", "current"], "Cancelled"),
])
def test_each_status_has_its_stage(status, states, note):
    bar = stage_bar(Contract(status=status))
    assert [stage["key"] for stage in bar] == ["draft", "review", "signing", "active", "closed"]
    assert [stage["state"] for stage in bar] == states
    assert [str(stage["note"]) for stage in bar if stage["state"] == "current"] == [note]


def current_stage(html: str) -> str:
    bar = html[html.index('data-testid="stage-bar"'):]
    return re.search(r'data-stage="(\w+)" data-state="current" aria-current="step"', bar[:bar.index("</ol>")]).group(1)


def test_the_header_names_the_customer_and_the_stage(client, users):
    contract = make_contract(users["sales"])
    client.force_login(users["sales"])
    html = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    header = html[html.index('data-testid="contract-header-customer"'):]
    assert contract.customer.name in header[:500]
    assert current_stage(html) == "draft"


def test_a_transition_moves_the_stage_and_refreshes_the_key_facts_in_place(client, users):
    contract = make_contract(users["sales"])
    client.force_login(users["admin"])

    def post(name, **data):
        contract.refresh_from_db()
        payload = {f"{name}-version": contract.version, **{f"{name}-{k}": v for k, v in data.items()}}
        response = client.post(reverse("contracts:transition", args=[contract.pk, name]), payload,
                               HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        return response.content.decode()

    assert current_stage(post("submit")) == "review"
    approve_through(contract)
    assert current_stage(client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()) == "signing"
    body = post("sign", signing_method="company_seal", signing_date="2026-01-05")
    # The answer is the whole workspace, swapped in place of the page's: stage bar and facts included.
    assert body.lstrip().startswith('<div id="contract-workspace"') and "<html" not in body
    assert 'id="contract-stage" data-testid="stage-bar" aria-label' in body
    assert current_stage(body) == "signing"
    facts = body[body.index('id="contract-facts"'):]
    assert re.search(r'data-testid="contract-signing-date">2026-01-05<', facts)
    assert re.search(r"data-testid=\"contract-signing-method\">Company seal \(盖章\)<", facts)


def test_each_reason_box_says_what_it_is_for_and_a_required_one_is_marked(client, users):
    contract = make_contract(users["sales"])
    client.force_login(users["admin"])
    html = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    labels = re.findall(r'<label[^>]*for="([^"]+)"[^>]*>(.*?)</label>', html, re.S)
    reasons = {target: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for target, text in labels
               if "reason" in target}
    cancel = next(text for target, text in reasons.items() if target.startswith("id_cancel"))
    assert cancel.startswith("Reason for “Cancel”") and cancel.endswith("*"), reasons
    assert any(text.startswith("Reason for the legal hold") for text in reasons.values()), reasons
    assert any(text.startswith("Reason for deleting") for text in reasons.values()), reasons
    assert len(set(reasons.values())) == len(reasons), reasons  # no two boxes called just "Reason"
