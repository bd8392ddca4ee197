"""The approval form (审批单): a contract's facts and its whole approval history, every decision with
its checklist, on A4 pages in the reader's language, drawn with ReportLab. Chinese text uses the CID
font every PDF reader has (STSong-Light), so no font file ships with Qiyue."""

import io
from xml.sax.saxutils import escape

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from qiyue.contracts import selectors as contract_selectors

from . import checklist, display, events, selectors

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

BODY = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, alignment=TA_LEFT, wordWrap="CJK")
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10, textColor=colors.HexColor("#444444"))
TITLE = ParagraphStyle("title", parent=BODY, fontSize=16, leading=20, spaceAfter=6)
HEADING = ParagraphStyle("heading", parent=BODY, fontSize=11, leading=14, spaceBefore=8, spaceAfter=4)
GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#F1F3F5")),
])


def _p(text, style=BODY) -> Paragraph:
    return Paragraph(escape(str(text if text is not None else "")).replace("\n", "<br/>"), style)


def _money(contract) -> str:
    return f"{number_format(contract.amount, decimal_pos=2, force_grouping=True)} {contract.currency}"


def _facts(contract) -> Table:
    rows = [
        (_("Contract number"), contract.number), (_("Title"), contract.title),
        (_("Customer"), contract.customer.name), (_("Amount"), _money(contract)),
        (_("Effective date"), contract.effective_date or "—"),
        (_("Expiry date"), contract.expiry_date or (_("Open-ended") if contract.open_ended else "—")),
        (_("Owner"), contract.owner), (_("Team"), contract.team or "—"),
        (_("Status"), contract.get_status_display()),
    ]
    table = Table([[_p(k), _p(v)] for k, v in rows], colWidths=[35 * mm, 140 * mm])
    table.setStyle(GRID)
    return table


def _decisions(approval) -> list:
    parts = []
    tasks_by_step: dict[int, list] = {}
    for task in approval.tasks.all():
        tasks_by_step.setdefault(task.step_id, []).append(task)
    for step in approval.steps.all():
        head = f"{step.index + 1}. {step.name()} · {step.get_status_display()}"
        if step.skipped_because:
            head += " · " + _("Skipped: applies only when %(condition)s") % {
                "condition": display.describe(step.skipped_because)}
        parts.append(_p(head, HEADING))
        rows = [[_p(_("Approver"), SMALL), _p(_("Decision"), SMALL), _p(_("Time"), SMALL), _p(_("Comment"), SMALL)]]
        for task in tasks_by_step.get(step.pk, []):
            who = str(task.assignee)
            if task.on_behalf_of_id:
                who += " " + _("on behalf of %(name)s") % {"name": task.on_behalf_of}
            rows.append([_p(who), _p(task.get_status_display()),
                         _p(timezone.localtime(task.decided_at).strftime("%Y-%m-%d %H:%M") if task.decided_at else ""),
                         _p(task.comment)])
            if task.checklist:
                marks = "；".join(f"{item['label']}: {item['mark_label']}" + (f"（{item['note']}）" if item["note"] else "")
                                 for item in checklist.rows(task.checklist))
                rows.append([_p(""), _p(_("Checklist") + ": " + marks, SMALL), "", ""])
        if len(rows) > 1:
            table = Table(rows, colWidths=[38 * mm, 30 * mm, 28 * mm, 79 * mm], repeatRows=1)
            style = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#F1F3F5"))])
            for n, row in enumerate(rows):
                if row[2] == "":
                    style.add("SPAN", (1, n), (3, n))
            table.setStyle(style)
            parts.append(table)
    return parts


def render_form(contract, approvals, *, printed_by) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=17 * mm, rightMargin=17 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=_("Contract approval form"), author="Qiyue")
    story = [_p(_("Contract approval form"), TITLE), _facts(contract)]
    for approval in approvals:
        story.append(Spacer(1, 4 * mm))
        head = _("%(flow)s · %(status)s · submitted by %(who)s on %(when)s") % {
            "flow": approval.flow_version.flow.name(), "status": approval.get_status_display(),
            "who": approval.submitted_by or "—",
            "when": timezone.localtime(approval.submitted_at).strftime("%Y-%m-%d %H:%M")}
        if approval.amendment_id:
            head = _("Amendment %(n)s") % {"n": approval.amendment.number} + " · " + head
        story.append(_p(head, HEADING))
        if approval.outcome_reason:
            story.append(_p(approval.outcome_reason, SMALL))
        story.extend(_decisions(approval))
    story.append(Spacer(1, 6 * mm))
    story.append(_p(_("Printed by %(who)s on %(when)s from Qiyue.") % {
        "who": printed_by, "when": timezone.localtime().strftime("%Y-%m-%d %H:%M")}, SMALL))
    doc.build(story)
    return out.getvalue()


@login_required
@require_GET
def approval_form(request, pk):
    contract = contract_selectors.contract_get(user=request.user, pk=pk)
    approvals = list(selectors.approvals_of(contract=contract)[:20])
    data = render_form(contract, approvals, printed_by=request.user)
    events.approval_form_printed_event(actor=request.user, contract=contract)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="approval-{contract.number}.pdf"'
    return response
