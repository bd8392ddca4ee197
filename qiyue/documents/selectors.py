"""Reads of the documents app, scoped to what the user may see: a document follows its contract,
or its customer when it has no contract. Anything else is a 404."""

import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from qiyue.core.permissions import visible
from qiyue.core.selectors import get_or_404, open_record

from . import events
from .models import Document, DocumentVersion, PaperLoan, PaperOriginal


def document_queryset(*, user) -> QuerySet:
    base = Document.objects.live()
    # Documents of a (softly) deleted contract go with it.
    on_contracts = visible(user, base.filter(contract__isnull=False, contract__deleted_at__isnull=True),
                           via="contract__")
    on_customers = visible(user, base.filter(contract__isnull=True), via="customer__")
    return (on_contracts | on_customers).select_related(
        "contract", "customer", "created_by", "current_version", "current_version__uploaded_by")


def document_list(*, user, contract_id: int | None = None, customer_id: int | None = None,
                  kind: str | None = None) -> QuerySet:
    qs = document_queryset(user=user)
    if contract_id is not None:
        qs = qs.filter(contract_id=contract_id)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def document_get(*, user, pk) -> Document:
    return get_or_404(document_queryset(user=user), pk)


def document_open(*, user, pk) -> Document:
    """The document's page for `user` (every version with its file name and who uploaded it), and its
    view logged (see qiyue.core.selectors.open_record)."""
    return open_record(document_queryset(user=user), pk, user=user, record_view=lambda document: events.document_event(
        actor=user, action="document.viewed", document=document, access=True))


def document_compared(*, user, document: Document, older, newer) -> None:
    """Record that `user` read two versions' texts side by side."""
    events.document_event(actor=user, action="document.compared", document=document, access=True,
                          changes={"versions": [older.number, newer.number]})


def document_versions(*, document: Document) -> QuerySet:
    return document.versions.select_related("uploaded_by").order_by("-number")


def version_queryset(*, user) -> QuerySet:
    return DocumentVersion.objects.filter(document__in=document_queryset(user=user).values("pk")).select_related(
        "document", "document__contract", "document__customer", "uploaded_by")


def version_get(*, user, pk) -> DocumentVersion:
    return get_or_404(version_queryset(user=user), pk)


# --- Paper originals ---------------------------------------------------------------------------

def paper_original_queryset(*, user) -> QuerySet:
    loans = Prefetch("loans", queryset=PaperLoan.objects.select_related("borrower", "recorded_by")
                     .order_by("-lent_on", "-id"))
    originals = PaperOriginal.objects.filter(contract__deleted_at__isnull=True).select_related("contract")
    return visible(user, originals, via="contract__").prefetch_related(loans)


def paper_originals(*, user, contract_id: int) -> list[PaperOriginal]:
    """The contract's originals, each with `open_loan` (or None) and its loan history."""
    originals = list(paper_original_queryset(user=user).filter(contract_id=contract_id).order_by("created_at", "id"))
    for original in originals:
        original.open_loan = next((loan for loan in original.loans.all() if loan.returned_on is None), None)
    return originals


def paper_original_get(*, user, pk) -> PaperOriginal:
    return get_or_404(paper_original_queryset(user=user), pk)


def paper_loan_queryset(*, user) -> QuerySet:
    loans = PaperLoan.objects.filter(original__contract__deleted_at__isnull=True).select_related(
        "original", "original__contract", "borrower", "recorded_by")
    return visible(user, loans, via="original__contract__")


def paper_loan_get(*, user, pk) -> PaperLoan:
    return get_or_404(paper_loan_queryset(user=user), pk)


def overdue_loans(*, user, today: datetime.date | None = None) -> QuerySet:
    today = today or timezone.localdate()
    return paper_loan_queryset(user=user).filter(Q(returned_on__isnull=True) & Q(due_on__lt=today)).order_by("due_on")


def contract_main_text(*, contract) -> tuple | None:
    """(document, version, text, page starts) of the contract's own text: its newest signed copy, else
    its newest draft, whose text has been extracted; None when there is none."""
    from .models import DocumentKind, DocumentText

    for kind in (DocumentKind.SIGNED, DocumentKind.DRAFT):
        document = (Document.objects.live().filter(contract=contract, kind=kind, current_version__isnull=False)
                    .select_related("current_version").order_by("-created_at", "-pk").first())
        if document is None:
            continue
        row = DocumentText.objects.filter(version_id=document.current_version_id).first()
        if row is not None and row.text:
            return document, document.current_version, row.text, list(row.pages or [0])
    return None
