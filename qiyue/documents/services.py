"""Writes of the documents app: uploads, versions, downloads (an access event each), paper
originals and their loans, and re-wrapping data keys under a new master key.

Uploads are atomic across storage and database: every file is checked (`inspect_upload`) and
encrypted into storage first, then the rows are written in one transaction; if that fails the
blobs are deleted again. A crash between the two leaves only an orphan blob, which
`qiyue storage check --fix` removes.
"""

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from qiyue.contracts.errors import ContractErrorCode
from qiyue.contracts.models import Contract
from qiyue.core.errors import ApplicationError, ErrorCode, permission_denied, stale_version_error
from qiyue.core.search_kinds import reindex_later
from qiyue.core.services import audit_value, model_update, snapshot
from qiyue.customers.models import Customer
from qiyue.vault import blobs, crypto, keys

from . import events, policies
from .errors import DocumentErrorCode, document_error, integrity_error
from .models import Document, DocumentKind, DocumentVersion, PaperLoan, PaperOriginal
from .search import KIND as SEARCH_KIND
from .uploads import Inspection, inspect_upload, iter_chunks, title_from_filename

log = logging.getLogger(__name__)


def _invalid(field: str, message) -> ApplicationError:
    return ApplicationError(ErrorCode.INVALID, _("Please correct the errors below."), fields={field: [str(message)]})


def _check_target(actor, *, contract: Contract | None, customer: Customer | None,
                  may_upload: bool | None = None) -> tuple[Contract | None, Customer]:
    if contract is None and customer is None:
        raise _invalid("contract", _("Choose a contract or a customer."))
    target = contract if contract is not None else customer
    if not policies.can_see_owner(actor, target):
        raise ApplicationError(ErrorCode.NOT_FOUND, _("Not found."), status=404)
    if not (policies.can_upload_to(actor, target) if may_upload is None else may_upload):
        raise permission_denied()
    if contract is not None:
        if customer is not None and customer.pk != contract.customer_id:
            raise _invalid("customer", _("The customer must be the contract's customer."))
        customer = contract.customer
    return contract, customer


@dataclass
class _Stored:
    inspection: Inspection
    blob: blobs.StoredBlob


def _store(files: Sequence[BinaryIO]) -> list[_Stored]:
    """Check every file, then encrypt each into storage. On any failure, delete what was written."""
    if not files:
        raise document_error(DocumentErrorCode.FILE_REQUIRED, _("Choose at least one file."))
    checked = []
    for file in files:
        try:
            checked.append((file, inspect_upload(file, getattr(file, "name", "") or "", size=getattr(file, "size", None))))
        except ApplicationError as exc:
            if len(files) > 1:  # say which file of several was refused
                exc.message = f"{getattr(file, 'name', '')}: {exc.message}"
                exc.fields = {k: [f"{getattr(file, 'name', '')}: {m}" for m in v] for k, v in exc.fields.items()}
            raise
    stored: list[_Stored] = []
    try:
        for file, inspection in checked:
            stored.append(_Stored(inspection, blobs.blob_write(iter_chunks(file))))
    except BaseException:
        _delete_blobs([s.blob.name for s in stored])
        raise
    return stored


def _delete_blobs(names: Sequence[str]) -> None:
    for name in names:
        try:
            blobs.blob_delete(name)
        except Exception:  # the orphan is found by `qiyue storage check`
            log.exception("could not delete blob %s after a failed upload", name)


def _after_commit(document_id: int, version_id: int | None) -> None:
    """After commit: extract the new version's text (if any) and index the document again."""
    if version_id is not None:
        from .tasks import schedule_extraction

        transaction.on_commit(lambda: schedule_extraction(version_id))
    reindex_later(SEARCH_KIND, document_id)


def _new_version(document: Document, stored: _Stored, *, actor, number: int, comment: str) -> DocumentVersion:
    # Under the master key current now, as the row is written: a rotation by another process while
    # the files were being stored must not leave a version under a key about to be retired.
    key_id, wrapped_key = blobs.wrapped_under_current(key_id=stored.blob.key_id, wrapped_key=stored.blob.wrapped_key)
    version = DocumentVersion(
        document=document, number=number, filename=stored.inspection.filename,
        file_type=stored.inspection.file_type, content_type=stored.inspection.content_type,
        size=stored.blob.size, sha256=stored.blob.sha256, blob_name=stored.blob.name, key_id=key_id,
        wrapped_key=wrapped_key, comment=comment, uploaded_by=actor)
    version.full_clean(exclude=["document", "uploaded_by"])
    version.save()
    return version


def document_upload(
    *,
    actor,
    files: Sequence[BinaryIO],
    kind: str = DocumentKind.ATTACHMENT,
    contract: Contract | None = None,
    customer: Customer | None = None,
    title: str = "",
    comment: str = "",
    may_upload: bool | None = None,
) -> list[Document]:
    """Upload one or many files as new documents on a contract (or a customer): all or nothing.
    `may_upload` is a calling service's own answer to whether the actor may add this file (an approver
    attaching one to a comment), in place of the documents policy; the actor must see the target."""
    contract, customer = _check_target(actor, contract=contract, customer=customer, may_upload=may_upload)
    if kind not in DocumentKind.values:
        raise _invalid("kind", _("Select a valid choice."))
    title = (title or "").strip()
    if len(title) > 255:
        raise _invalid("title", _("At most 255 characters."))
    if len(comment or "") > 500:
        raise _invalid("comment", _("At most 500 characters."))
    _check_draft_unlocked(contract, kind)
    stored = _store(files)
    try:
        with transaction.atomic():
            documents = []
            for item in stored:
                document = Document(
                    contract=contract, customer=customer, kind=kind, created_by=actor,
                    title=(title if title and len(stored) == 1 else title_from_filename(item.inspection.filename)))
                document.full_clean(exclude=["current_version", "created_by", "contract", "customer"])
                document.save()
                version = _new_version(document, item, actor=actor, number=1, comment=comment or "")
                document.current_version = version
                document.save(update_fields=["current_version"])
                events.document_event(actor=actor, action="document.uploaded", document=document, changes={
                    **snapshot(document, ("title", "kind")),
                    "filename": [None, version.filename], "size": [None, version.size],
                    "sha256": [None, version.sha256], "version": [None, 1]})
                _after_commit(document.pk, version.pk)
                documents.append(document)
    except BaseException:
        _delete_blobs([s.blob.name for s in stored])
        raise
    return documents


# While a contract is in review or approved, its draft is what the approvers read or approved.
DRAFT_LOCKED_STATUSES = ("in_review", "approved")


def _check_draft_unlocked(contract: Contract | None, kind: str) -> None:
    """A draft of a contract in review or approved does not change: approval locks the terms (R4.4).
    Withdraw the contract, or reopen the approved one as a draft, first."""
    if contract is None or kind != DocumentKind.DRAFT:
        return
    # The row as it is now (the caller's copy may be older than a submission).
    if Contract.objects.filter(pk=contract.pk).values_list("status", flat=True).first() not in DRAFT_LOCKED_STATUSES:
        return
    raise ApplicationError(ContractErrorCode.FACTS_FROZEN, _(
        "The contract is in review or approved: its draft cannot change. Withdraw it from approval, or "
        "reopen the approved contract as a draft, first."), fields={"kind": [_("The draft is locked.")]})


def _lock_document(document: Document) -> Document:
    return (Document.objects.select_for_update(of=("self",)).select_related("contract", "customer")
            .live().get(pk=document.pk))


def document_add_version(*, actor, document: Document, file: BinaryIO | None, comment: str = "",
                         expected_version: int | None = None) -> DocumentVersion:
    """A new current version of a document, with a comment. No file → file_required."""
    if not policies.can_change_document(actor, document):
        raise permission_denied()
    if file is None:
        raise document_error(DocumentErrorCode.FILE_REQUIRED, _("Choose a file."))
    if len(comment or "") > 500:
        raise _invalid("comment", _("At most 500 characters."))
    _check_draft_unlocked(document.contract, document.kind)
    [stored] = _store([file])
    try:
        with transaction.atomic():
            document = _lock_document(document)
            if expected_version is not None and expected_version != document.version:
                raise stale_version_error()
            _check_draft_unlocked(document.contract, document.kind)
            number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
            version = _new_version(document, stored, actor=actor, number=number, comment=(comment or "").strip())
            document.current_version = version
            document.version += 1
            document.save(update_fields=["current_version", "version", "updated_at"])
            events.document_event(actor=actor, action="document.version_added", document=document, changes={
                "version": [number - 1, number], "filename": [None, version.filename],
                "size": [None, version.size], "sha256": [None, version.sha256],
                **({"comment": [None, version.comment]} if version.comment else {})})
            _after_commit(document.pk, version.pk)
    except BaseException:
        _delete_blobs([stored.blob.name])
        raise
    return version


DOCUMENT_FIELDS = ("title", "kind")


@transaction.atomic
def document_update(*, actor, document: Document, data: dict[str, Any], expected_version: int | None) -> Document:
    document = _lock_document(document)
    if not policies.can_change_document(actor, document):
        raise permission_denied()
    if expected_version is not None and expected_version != document.version:
        raise stale_version_error()
    data = dict(data)
    if "title" in data:
        data["title"] = (data["title"] or "").strip()
    _check_draft_unlocked(document.contract, document.kind)
    changes = model_update(instance=document, fields=DOCUMENT_FIELDS, data=data)
    if not changes:
        return document
    _check_draft_unlocked(document.contract, document.kind)
    document.full_clean(exclude=["current_version", "created_by", "contract", "customer"])
    document.version += 1
    document.save()
    events.document_event(actor=actor, action="document.updated", document=document, changes=changes)
    _after_commit(document.pk, None)
    return document


@transaction.atomic
def document_delete(*, actor, document: Document) -> Document:
    """Soft delete: the document disappears from lists and search; its blobs stay for the record."""
    document = _lock_document(document)
    if not policies.can_change_document(actor, document):
        raise permission_denied()
    _check_draft_unlocked(document.contract, document.kind)
    document.deleted_at = timezone.now()
    document.version += 1
    document.save(update_fields=["deleted_at", "version", "updated_at"])
    events.document_event(actor=actor, action="document.deleted", document=document,
                 changes={"deleted_at": [None, audit_value(document.deleted_at)]})
    _after_commit(document.pk, None)
    return document


def version_open(*, actor, version: DocumentVersion, action: str | None = "document.downloaded"):
    """The verified plaintext of a version as an open binary file (in memory, or an encrypted spool
    file for a larger one: see blobs.blob_read; the caller closes it), after recording the access.
    On any integrity failure (a tag or the hash does not match, the stored file is gone): an audit
    event document.integrity_failed and integrity_failed (409), no bytes; when the master key of the
    version is not available: document.read_failed and key_unavailable (409); when storage cannot be
    read: document.read_failed and storage_unavailable (503).

    `action=None` records no access event: for the page images of a preview, whose page already
    recorded one (document.previewed)."""
    document = version.document
    try:
        plain = blobs.blob_read(name=version.blob_name, key_id=version.key_id,
                                wrapped_key=version.wrapped_key, sha256=version.sha256)
    except (crypto.IntegrityError, FileNotFoundError) as exc:
        events.document_event(actor=actor, action="document.integrity_failed", document=document,
                     changes={"version": [None, version.number], "error": [None, str(exc)[:200]]})
        raise integrity_error() from exc
    except OSError as exc:
        # A full disk, a lost mount, a missing temporary directory: the file may be intact, so this
        # is not reported as tampering; it is still recorded, and the user may try again.
        log.exception("reading version %s of document %s failed", version.pk, document.pk)
        events.document_event(actor=actor, action="document.read_failed", document=document,
                     changes={"version": [None, version.number], "error": [None, str(exc)[:200]]})
        raise document_error(DocumentErrorCode.STORAGE_UNAVAILABLE,
                             _("The file could not be read from storage just now. Please try again later; "
                               "if it keeps failing, tell an administrator."), field=None) from exc
    except keys.MasterKeyError as exc:
        # The file may be intact: its key is missing from this process's configuration (a retired
        # key file, an old key left out of QIYUE_OLD_MASTER_KEYS). Recorded, but not as tampering.
        log.error("version %s of document %s: %s", version.pk, document.pk, exc)
        events.document_event(actor=actor, action="document.read_failed", document=document,
                     changes={"version": [None, version.number], "error": [None, str(exc)[:200]]})
        raise document_error(DocumentErrorCode.KEY_UNAVAILABLE,
                             _("The key that protects this file is not available. Please tell an administrator."),
                             field=None) from exc
    if action is None:
        return plain
    try:
        events.document_event(actor=actor, action=action, document=document, access=True,
                     changes={"version": [None, version.number]})
    except BaseException:
        plain.close()
        raise
    return plain


# --- Paper originals ---------------------------------------------------------------------------

PAPER_FIELDS = ("description", "copies", "room", "cabinet", "box", "notes")


def _check_contract_edit(actor, contract: Contract) -> None:
    if not policies.can_manage_paper(actor, contract):
        raise permission_denied()


@transaction.atomic
def paper_original_record(*, actor, contract: Contract, data: dict[str, Any]) -> PaperOriginal:
    """Record where a paper original of the contract is kept."""
    _check_contract_edit(actor, contract)
    original = PaperOriginal(contract=contract, **{k: v for k, v in data.items() if k in PAPER_FIELDS})
    original.full_clean()
    original.save()
    events.paper_original_event(actor=actor, action="paper_original.recorded", original=original,
                 changes=snapshot(original, PAPER_FIELDS))
    return original


def _lock_original(original: PaperOriginal) -> PaperOriginal:
    return PaperOriginal.objects.select_for_update(of=("self",)).select_related("contract").get(pk=original.pk)


@transaction.atomic
def paper_original_update(*, actor, original: PaperOriginal, data: dict[str, Any]) -> PaperOriginal:
    original = _lock_original(original)
    _check_contract_edit(actor, original.contract)
    changes = model_update(instance=original, fields=PAPER_FIELDS, data=data)
    if not changes:
        return original
    original.full_clean()
    original.save()
    events.paper_original_event(actor=actor, action="paper_original.updated", original=original, changes=changes)
    return original


@transaction.atomic
def paper_original_lend(*, actor, original: PaperOriginal, borrower, lent_on: datetime.date,
                        due_on: datetime.date | None = None, purpose: str = "") -> PaperLoan:
    """Lend the paper original to a user; at most one open loan at a time."""
    original = _lock_original(original)
    _check_contract_edit(actor, original.contract)
    if borrower is None or not borrower.is_active:
        raise _invalid("borrower", _("Choose an active user."))
    if original.loans.filter(returned_on__isnull=True).exists():
        raise document_error(DocumentErrorCode.ALREADY_LENT,
                             _("This original is already lent out; record its return first."), field=None)
    if due_on is not None and due_on < lent_on:
        raise _invalid("due_on", _("The due date cannot be before the day it was lent."))
    loan = PaperLoan(original=original, borrower=borrower, purpose=(purpose or "").strip(), lent_on=lent_on,
                     due_on=due_on, recorded_by=actor)
    loan.full_clean(exclude=["original", "borrower", "recorded_by"])
    loan.save()
    events.paper_original_event(actor=actor, action="paper_original.lent", original=original, changes={
        "borrower": [None, audit_value(borrower)], "lent_on": [None, lent_on.isoformat()],
        **({"due_on": [None, due_on.isoformat()]} if due_on else {}),
        **({"purpose": [None, loan.purpose]} if loan.purpose else {})})
    return loan


@transaction.atomic
def paper_loan_return(*, actor, loan: PaperLoan, returned_on: datetime.date) -> PaperLoan:
    original = _lock_original(loan.original)
    _check_contract_edit(actor, original.contract)
    loan = PaperLoan.objects.select_related("borrower").get(pk=loan.pk)
    if loan.returned_on is not None:
        raise document_error(DocumentErrorCode.NOT_LENT, _("This loan has already been returned."), field=None)
    if returned_on < loan.lent_on:
        raise _invalid("returned_on", _("The return date cannot be before the day it was lent."))
    loan.returned_on = returned_on
    loan.save(update_fields=["returned_on", "updated_at"])
    events.paper_original_event(actor=actor, action="paper_original.returned", original=original, changes={
        "borrower": [None, audit_value(loan.borrower)], "returned_on": [None, returned_on.isoformat()]})
    return loan


# --- Master key rotation -----------------------------------------------------------------------

@dataclass
class RewrapResult:
    key_id: str
    rewrapped: int
    remaining: int


def versions_rewrap(*, actor=None, batch_size: int = 500, limit: int | None = None,
                    progress: Callable[[int, int], None] | None = None) -> RewrapResult:
    """Re-wrap every version's data key that is not under the current master key, in batches,
    each committed on its own (interrupt and rerun to resume). Only the 32-byte data keys are
    decrypted, in memory; the files themselves are never touched."""
    kid, master = keys.current_key()
    pending = DocumentVersion.objects.exclude(key_id=kid)
    total = pending.count()
    done = 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        with transaction.atomic():
            batch = list(pending.select_for_update().order_by("pk").only("pk", "key_id", "wrapped_key")[:size])
            if not batch:
                break
            for version in batch:
                data_key = crypto.unwrap_key(keys.get_key(version.key_id), bytes(version.wrapped_key))
                version.wrapped_key = crypto.wrap_key(master, data_key)
                version.key_id = kid
            DocumentVersion.objects.bulk_update(batch, ["wrapped_key", "key_id"])
        done += len(batch)
        if progress is not None:
            progress(done, total)
    remaining = pending.count()
    if done:
        events.keys_event(actor=actor, action="keys.rotated",
                          label=f"rotated to {kid}: {done} versions, {remaining} remaining",
                     changes={"key_id": [None, kid], "versions": [None, done], "remaining": [None, remaining]})
    return RewrapResult(key_id=kid, rewrapped=done, remaining=remaining)
