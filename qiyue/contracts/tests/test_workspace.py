"""The contract page as a workspace: tabs with empty states for what is still to come, primary actions
in the header, rare and destructive ones in a "more" menu, a dialog per action that needs input, and
every action answered with the whole workspace."""

import re

import pytest
from django.urls import reverse

from qiyue.contracts.models import Contract
from qiyue.contracts.services import contract_set_legal_hold, contract_transition
from qiyue.contracts.tests.factories import make_contract

pytestmark = pytest.mark.django_db

TABS = ["overview", "documents", "approval", "execution", "money", "timeline"]


def _page(client, contract) -> str:
    response = client.get(reverse("contracts:detail", args=[contract.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _header(html: str) -> str:
    return html[html.index('data-testid="contract-header"'):html.index("</header>")]


def _menu(html: str) -> str:
    header = _header(html)
    if 'data-testid="more-actions"' not in header:
        return ""
    return header[header.index('data-testid="more-actions"'):]


def _dialog(html: str, name: str) -> str:
    start = html.index(f'<dialog id="dialog-{name}"')
    return html[start:html.index("</dialog>", start)]


def test_tabs_in_order_with_empty_states_for_what_is_to_come(client, users):
    contract = make_contract(users["sales"])
    client.force_login(users["sales"])
    html = _page(client, contract)
    assert re.findall(r'data-testid="tab-(\w+)"', html) == TABS
    assert 'role="tablist"' in html and html.count('role="tab"') == len(TABS)
    for key in TABS:  # each tab names its pane and the pane names its tab
        assert f'aria-controls="pane-{key}"' in html and f'aria-labelledby="tab-{key}"' in html
    for key, following in (("execution", "money"), ("money", "timeline")):  # nothing tracked yet
        pane = html[html.index(f'id="pane-{key}"'):html.index(f'id="pane-{following}"')]
        assert f'data-testid="empty-{key}"' in pane
    # A draft not yet submitted: the approval tab says what submitting will do.
    assert 'data-testid="approval-none"' in html[html.index('id="pane-approval"'):html.index('id="pane-execution"')]
    # The overview holds the facts; documents and the timeline have their own tabs.
    overview = html[html.index('id="pane-overview"'):html.index('id="pane-documents"')]
    assert 'data-testid="key-facts"' in overview and 'data-testid="archive-panel"' in overview
    documents = html[html.index('id="pane-documents"'):html.index('id="pane-approval"')]
    assert 'id="documents-panel"' in documents and 'id="paper-originals"' in documents
    assert 'data-testid="timeline"' in html[html.index('id="pane-timeline"'):]


def test_tabs_and_empty_states_in_chinese(client, users, settings):
    contract = make_contract(users["sales"])
    client.force_login(users["sales"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = _page(client, contract)
    for label in ("概览", "文档", "审批", "履约", "收付款", "时间线"):
        assert label in html, label
    assert "Overview" not in html and "No payment plan yet" not in html


def test_primary_actions_in_the_header_rare_ones_in_the_more_menu(client, users):
    draft = make_contract(users["sales"])
    client.force_login(users["sales"])
    html = _page(client, draft)
    header = _header(html)
    menu = _menu(html)
    # Submitting is one click in the header; cancelling a draft is in the menu, behind its dialog.
    assert 'data-testid="transition-submit"' in header and 'data-testid="transition-submit"' not in menu
    assert 'data-testid="open-cancel"' in menu and 'data-dialog-open="dialog-cancel"' in menu
    assert 'data-testid="open-delete"' in menu
    assert 'data-testid="open-legal-hold"' not in menu  # sales may not place holds

    admin_view = make_contract(users["sales"])
    for name in ("submit", "approve"):
        admin_view = contract_transition(actor=users["admin"], contract=admin_view, name=name, via_workflow=name == "approve")
    admin_view = contract_transition(actor=users["admin"], contract=admin_view, name="sign",
                                     signing_method="company_seal", signing_date=admin_view.effective_date)
    client.force_login(users["admin"])
    html = _page(client, admin_view)
    header, menu = _header(html), _menu(html)
    assert 'data-testid="open-terminate"' in menu and 'data-testid="open-legal-hold"' in menu
    primary = header[:header.index('data-testid="more-actions"')]
    assert "terminate" not in primary and "legal-hold" not in primary


def test_each_dialog_has_its_own_labelled_required_reason(client, users):
    contract = make_contract(users["sales"])
    for name in ("submit", "approve"):
        contract = contract_transition(actor=users["admin"], contract=contract, name=name, via_workflow=name == "approve")
    contract = contract_transition(actor=users["admin"], contract=contract, name="sign",
                                   signing_method="company_seal", signing_date=contract.effective_date)
    client.force_login(users["admin"])
    html = _page(client, contract)
    terminate = _dialog(html, "terminate")
    hold = _dialog(html, "legal-hold")
    assert 'aria-labelledby="dialog-terminate-title"' in terminate
    assert re.search(r'<label class="form-label" for="id_terminate-reason">Reason for “Terminate” '
                     r'<span class="text-danger" aria-hidden="true">\*</span>', terminate)
    assert 'for="id_hold_reason">Reason for the legal hold' in hold
    assert 'name="terminate-reason"' not in hold and 'name="reason"' not in terminate
    # Every field of the page has its own id: no two reason boxes share one.
    ids = re.findall(r'<(?:textarea|input|select)[^>]* id="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_a_failed_dialog_opens_again_with_its_error_and_nothing_changes(client, users):
    contract = make_contract(users["sales"])
    client.force_login(users["sales"])
    url = reverse("contracts:transition", args=[contract.pk, "cancel"])
    response = client.post(url, {"cancel-version": contract.version, "cancel-reason": ""}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and response["HX-Retarget"] == "#contract-workspace"
    dialog = _dialog(body, "cancel")
    assert "data-open" in dialog[:300] and 'data-testid="error-reason"' in dialog
    assert 'data-testid="status-error"' in dialog  # the error shows in the dialog, not behind it
    assert 'data-testid="status-error"' not in body[:body.index("<dialog")]
    contract.refresh_from_db()
    assert contract.status == "draft"

    done = client.post(url, {"cancel-version": contract.version, "cancel-reason": "客户取消采购"},
                       HTTP_HX_REQUEST="true").content.decode()
    assert 'data-status="cancelled"' in done and 'data-testid="status-message"' in done
    assert "data-open" not in done
    assert "客户取消采购" in done[done.index('id="pane-overview"'):]  # the status card shows the reason
    assert 'id="timeline"' in done  # and the timeline tab has the event
    assert "cancelled" in done[done.index('id="pane-timeline"'):].lower()


def test_a_one_click_action_that_fails_says_why_above_the_tabs(client, users):
    contract = make_contract(users["sales"], effective_date=None)
    client.force_login(users["sales"])
    assert _page(client, contract).count('data-testid="review-gap"') == 1
    response = client.post(reverse("contracts:transition", args=[contract.pk, "submit"]),
                           {"submit-version": contract.version}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="status-error"' in body[:body.index('data-testid="contract-tabs"')]
    assert Contract.objects.get(pk=contract.pk).status == "draft"


def test_legal_hold_through_its_dialog_answers_with_the_workspace(client, users):
    contract = make_contract(users["sales"])
    url = reverse("archive:legal_hold", args=[contract.pk])
    client.force_login(users["legal"])
    missing = client.post(url, {"hold": "1", "reason": ""}, HTTP_HX_REQUEST="true")
    body = missing.content.decode()
    assert missing.status_code == 200 and missing["HX-Retarget"] == "#contract-workspace"
    dialog = _dialog(body, "legal-hold")
    assert "data-open" in dialog[:300] and 'data-testid="error-reason"' in dialog
    assert not Contract.objects.get(pk=contract.pk).legal_hold

    placed = client.post(url, {"hold": "1", "reason": "诉讼保全"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="legal-hold-badge"' in _header(placed) and "诉讼保全" in placed
    assert "Release legal hold" in _dialog(placed, "legal-hold")
    assert Contract.objects.get(pk=contract.pk).legal_hold


def test_delete_through_its_dialog(client, users):
    contract = make_contract(users["sales"])  # a draft: never signed, so no retention keeps it
    url = reverse("archive:delete", args=[contract.pk])
    client.force_login(users["sales"])
    missing = client.post(url, {"reason": ""}, HTTP_HX_REQUEST="true")
    assert "data-open" in _dialog(missing.content.decode(), "delete")[:300]
    assert Contract.objects.filter(pk=contract.pk).exists()
    gone = client.post(url, {"reason": "重复录入"}, HTTP_HX_REQUEST="true")
    assert gone.status_code == 204 and gone["HX-Redirect"] == reverse("contracts:list")
    assert client.get(reverse("contracts:detail", args=[contract.pk])).status_code == 404


def test_delete_dialog_explains_a_hold(client, users):
    contract = make_contract(users["sales"])
    contract_set_legal_hold(actor=users["legal"], contract=contract, hold=True, reason="审计")
    client.force_login(users["admin"])
    dialog = _dialog(_page(client, contract), "delete")
    assert 'data-testid="delete-blocked"' in dialog and "<form" not in dialog


def test_menu_per_role(client, users):
    contract = make_contract(users["sales"])
    expected = {  # role: (cancel, legal hold, delete) on a draft of team A
        "sales": (True, False, True), "admin": (True, True, True), "legal": (False, True, False),
        "auditor": (False, False, False), "finance": (False, False, False),
    }
    for role, (cancel, hold, delete) in expected.items():
        client.force_login(users[role])
        menu = _menu(_page(client, contract))
        assert ('data-testid="open-cancel"' in menu) is cancel, role
        assert ('data-testid="open-legal-hold"' in menu) is hold, role
        assert ('data-testid="open-delete"' in menu) is delete, role
        assert bool(menu) is (cancel or hold or delete), role
