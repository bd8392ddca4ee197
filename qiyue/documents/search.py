"""The document as a search kind (registered in apps.py): the text of a live document's current
version (and its title), keyed like its contract (visibility and filters follow the contract), or
like its customer when it has no contract. Its entries follow changes of those keys."""

from collections.abc import Iterator

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qiyue.contracts.models import Contract
from qiyue.contracts.search import CONTRACT_KEYS, contract_keys
from qiyue.core.permissions import visible
from qiyue.core.search_kinds import Follow, Found, IndexRow, SearchKind
from qiyue.customers.models import Customer

from .models import Document, DocumentText
from .textformats import PAGED_FILE_TYPES

KIND = "document"


def document_row(document, text: DocumentText, owner) -> IndexRow:
    """The entry of a document's current text; `owner` is its contract (or its customer)."""
    keys = (contract_keys(owner) if isinstance(owner, Contract)
            else {"customer_id": owner.pk, "owner_id": owner.owner_id, "team_id": owner.team_id})
    body = text.text or ""
    pages = sorted(text.pages or [])
    return IndexRow(kind=KIND, object_id=document.pk, version_id=text.version_id, title=document.title[:300],
                    text=body, page=sum(1 for p in pages if p <= 0) or 1,
                    page_breaks=[p for p in pages if 0 < p < len(body)], **keys)


def _owner_of(document):
    """The contract (when live) or the customer whose keys the document's entries carry."""
    if document.contract_id is not None:
        contract = document.contract
        return contract if contract.deleted_at is None else None
    return document.customer


def _rows(documents: list[Document]) -> Iterator[tuple[Document, IndexRow]]:
    texts = {t.version_id: t for t in DocumentText.objects.filter(
        version_id__in=[d.current_version_id for d in documents if d.current_version_id])}
    for document in documents:
        text = texts.get(document.current_version_id)
        owner = _owner_of(document) if text is not None and document.deleted_at is None else None
        if owner is not None:
            yield document, document_row(document, text, owner)


def document_rows(ids: list[int]) -> list[IndexRow]:
    documents = list(Document.objects.select_for_update(of=("self",)).filter(pk__in=ids)
                     .select_related("contract", "customer"))
    return [row for _document, row in _rows(documents)]


def document_stream(batch: int) -> Iterator:
    live = Q(contract__isnull=True) | Q(contract__deleted_at__isnull=True)
    qs = (Document.objects.live().filter(live, current_version__isnull=False)
          .select_related("contract", "customer"))
    last = 0
    # Texts are long: a twentieth of the batch at a time.
    while documents := list(qs.filter(pk__gt=last).order_by("pk")[:max(10, batch // 20)]):
        for document, row in _rows(documents):
            yield document.created_at, [row]
        last = documents[-1].pk


def documents_found(user, ids) -> dict[int, Found]:
    """Live documents among `ids` whose contract (or customer) the user may see; a hit opens the
    document's page (versions, download, compare) and is titled by its contract or customer."""
    documents = list(Document.objects.live().filter(pk__in=ids).select_related("current_version")
                     .only("id", "title", "contract_id", "customer_id", "current_version_id", "deleted_at",
                           "current_version__file_type"))
    contract_ids = {d.contract_id for d in documents if d.contract_id}
    customer_ids = {d.customer_id for d in documents if not d.contract_id}
    titles = {}
    if contract_ids:
        contracts = visible(user, Contract.objects.live().filter(pk__in=contract_ids))
        titles.update({("contract", c.pk): f"{c.number} {c.title}" for c in contracts.only("id", "number", "title")})
    if customer_ids:
        customers = visible(user, Customer.objects.filter(pk__in=customer_ids)).only("id", "name")
        titles.update({("customer", c.pk): c.name for c in customers})
    found = {}
    for document in documents:
        owner = ("contract", document.contract_id) if document.contract_id else ("customer", document.customer_id)
        if owner in titles:
            found[document.pk] = Found(document, titles[owner], reverse("documents:detail", args=[document.pk]),
                                       file=document.title, version_id=document.current_version_id,
                                       paged=document.current_version.file_type in PAGED_FILE_TYPES)
    return found


def _documents_of_contracts(contract_ids: list[int]):
    return Document.objects.filter(contract_id__in=contract_ids).values_list("pk", flat=True)


def _own_documents_of_customers(customer_ids: list[int]):
    return Document.objects.filter(customer_id__in=customer_ids, contract__isnull=True).values_list("pk", flat=True)


DOCUMENT_KIND = SearchKind(
    name=KIND, label=_("Document"), rows=document_rows, stream=document_stream, found=documents_found,
    # Visibility and filters of a document are its contract's (or its customer's owner and team).
    follows={"contract": Follow(columns=CONTRACT_KEYS, ids=_documents_of_contracts),
             "customer": Follow(columns=("owner_id", "team_id"), ids=_own_documents_of_customers)},
    title_tokens=True, batch=100,
)
