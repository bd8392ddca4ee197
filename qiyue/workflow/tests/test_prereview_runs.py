"""The pre-review on real contracts: the default rules a migration installed, run over a real PDF and
DOCX made here (text extracted as the worker does), on demand from the contract page and on
submission; kept per run, audited, shown on the approval tab in both languages."""

import io

import pytest
from django.conf import settings
from django.urls import reverse

from qiyue.audit.models import AuditEvent
from qiyue.contracts.services import contract_transition
from qiyue.contracts.tests.factories import make_contract
from qiyue.documents.extraction import run_extraction
from qiyue.documents.services import document_upload
from qiyue.documents.tests.factories import make_docx, upload
from qiyue.documents.tests.factories import storage_fixture as storage  # noqa: F401  (the fixture)
from qiyue.workflow.models import PreReviewRule, PreReviewRun
from qiyue.workflow.prereview import DEFAULT_RULES
from qiyue.workflow.services import prereview_run

pytestmark = pytest.mark.django_db

PAGES = [
    "Purchase contract. Payment: the Buyer pays within 30 days after acceptance.",
    "Breach: the party in breach pays liquidated damages of 50% of the price.",
    "Disputes are submitted to the Shanghai International Arbitration Center. Confidentiality applies.",
]


def make_pages_pdf(pages: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for text in pages:
        pdf.setFont("Helvetica", 11)
        pdf.drawString(40, 760, text)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _with_text(owner, contract, data: bytes, name: str, content_type: str, kind: str = "draft"):
    (document,) = document_upload(actor=owner, files=[upload(name, data, content_type)], contract=contract, kind=kind)
    assert run_extraction(document.current_version_id) == "done"
    return document


def test_the_migration_installed_the_default_rules():
    assert set(PreReviewRule.objects.values_list("key", flat=True)) == {rule.key for rule in DEFAULT_RULES}


def test_a_pdf_is_read_page_by_page(users, storage):  # noqa: F811
    contract = make_contract(users["sales"], nature="purchase")
    _with_text(users["sales"], contract, make_pages_pdf(PAGES), "合同.pdf", "application/pdf")
    run = prereview_run(actor=users["legal"], contract=contract)
    found = {f["rule"]: f for f in run.findings}
    assert found["clause.payment"]["found"] and found["clause.payment"]["page"] == 1
    assert found["risk.high_damages"]["page"] == 2 and found["risk.high_damages"]["value"] == "50"
    assert found["risk.high_damages"]["unit"] == "percent"
    assert found["clause.confidentiality"]["page"] == 3
    assert not found["clause.force_majeure"]["found"]
    assert run.risk_level == "high" and run.document_version_id is not None
    event = AuditEvent.objects.get(action="contract.prereviewed")
    assert event.changes["risk_level"] == "high" and "risk.high_damages" in event.changes["findings"]


def test_submitting_runs_it_on_the_chinese_docx(users, storage):  # noqa: F811
    contract = make_contract(users["sales"])
    text = ("第一条 付款：甲方于验收合格后 30 日内付款。第二条 违约责任：违约方赔偿对方全部损失。"
            "第三条 争议解决：提交上海仲裁委员会仲裁。第四条 保密：双方负有保密义务。第五条 不可抗力。")
    _with_text(users["sales"], contract, make_docx(text), "合同草稿.docx",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    contract_transition(actor=users["sales"], contract=contract, name="submit")
    run = PreReviewRun.objects.get(contract=contract)
    assert run.trigger == "submit"
    found = {f["rule"]: f for f in run.findings}
    assert all(found[k]["found"] for k in ("clause.payment", "clause.liability", "clause.disputes",
                                            "clause.confidentiality", "clause.force_majeure"))
    assert not found["clause.ip"]["found"] and run.risk_level == "medium"  # termination, acceptance missing


def test_without_a_text_only_the_facts_are_checked(users):
    contract = make_contract(users["sales"], expiry_date=None, open_ended=False)
    run = prereview_run(actor=users["sales"], contract=contract)
    assert run.document_version_id is None
    assert [f["rule"] for f in run.findings] == ["fact.no_expiry_date"]


@pytest.mark.parametrize(("language", "words"), [("zh-hans", ["自动预审", "违约金比例过高", "第 2 页"]),
                                                 ("en", ["Automated pre-review", "Liquidated damages above the limit",
                                                         "Page 2"])])
def test_the_approval_tab_shows_the_findings(client, users, storage, language, words):  # noqa: F811
    contract = make_contract(users["sales"], nature="purchase")
    _with_text(users["sales"], contract, make_pages_pdf(PAGES), "合同.pdf", "application/pdf")
    client.force_login(users["sales"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(reverse("contracts:detail", args=[contract.pk])).content.decode()
    assert 'data-testid="prereview-none"' in page and 'data-testid="run-prereview"' in page
    response = client.post(reverse("workflow:prereview_run", args=[contract.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Retarget"] == "#contract-workspace"
    html = response.content.decode()
    assert all(word in html for word in words), html[html.find('data-testid="prereview"'):][:1500]
    assert html.index('data-rule="risk.high_damages"') < html.index('data-rule="clause.payment"')  # problems first


def test_who_may_run_it(client, users):
    contract = make_contract(users["sales"])
    url = reverse("workflow:prereview_run", args=[contract.pk])
    client.force_login(users["sales_b"])  # another team's: not even seen
    assert client.post(url).status_code == 404
    client.force_login(users["auditor"])  # sees it, may not run it
    assert client.post(url).status_code == 403
    client.force_login(users["manager"])
    assert client.post(url).status_code == 302
    assert client.get(url).status_code == 405
    assert client.post(reverse("workflow:prereview_run", args=[99999999999999999999])).status_code == 404
    assert PreReviewRun.objects.filter(contract=contract).count() == 1


def test_a_rule_broken_outside_the_app_does_not_block_a_submission(users):
    PreReviewRule.objects.filter(key="clause.ip").update(patterns=["(未闭合"])
    contract = make_contract(users["sales"])
    contract_transition(actor=users["sales"], contract=contract, name="submit")
    run = PreReviewRun.objects.get(contract=contract)
    assert "clause.ip" not in {f["rule"] for f in run.findings}
