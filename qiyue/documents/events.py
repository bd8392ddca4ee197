"""The documents app's audit actions, their labels and one small function per event. A document's
events roll up to its contract's and its customer's timelines; a paper original's to its contract's."""

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from qiyue.audit.models import AuditEvent
from qiyue.audit.registry import (
    register_actions,
    register_change_formats,
    register_change_labels,
    register_targets,
)
from qiyue.audit.services import audit_record
from qiyue.contracts.models import Contract
from qiyue.customers.models import Customer

ACTIONS = register_actions({
    "document.compared": _("compared document versions"),
    "document.uploaded": _("uploaded a document"),
    "document.version_added": _("uploaded a new version"),
    "document.updated": _("updated a document"),
    "document.deleted": _("deleted a document"),
    "document.viewed": _("viewed a document"),
    "document.downloaded": _("downloaded a document"),
    "document.previewed": _("previewed a document"),
    "document.integrity_failed": _("hit a document integrity failure"),
    "document.read_failed": _("could not read a document from storage"),
    "paper_original.recorded": _("recorded a paper original"),
    "paper_original.updated": _("updated a paper original"),
    "paper_original.lent": _("lent a paper original"),
    "paper_original.returned": _("recorded the return of a paper original"),
    "keys.rotated": _("rotated the master key"),
    "keys.retired": _("retired a master key"),
})


register_change_labels({
    "filename": _("file name"),
    "size": _("size"),
    "sha256": "SHA-256",
    "version": _("version"),
    "versions": _("versions"),
    "comment": _("comment"),
    "error": _("error"),
    "borrower": _("borrower"),
    "purpose": _("purpose"),
    "lent_on": _("lent on"),
    "due_on": _("due back on"),
    "returned_on": _("returned on"),
    "key_id": _("key"),
    "remaining": _("remaining"),
})


register_change_formats({"size": lambda value: filesizeformat(value) if isinstance(value, int) else str(value)})
register_targets("documents.document", "documents.paperoriginal")


def _document_related(document) -> list:
    return [(Contract, document.contract_id), (Customer, document.customer_id)]


def document_event(*, actor, action: str, document, changes=None, access: bool = False):
    """Any document change or access ("document.<verb>", declared above)."""
    return audit_record(actor=actor, action=action, target=document, changes=changes,
                        kind=AuditEvent.Kind.ACCESS if access else AuditEvent.Kind.CHANGE,
                        related=_document_related(document))


def paper_original_event(*, actor, action: str, original, changes=None):
    """"paper_original.<recorded|updated|lent|returned>"."""
    return audit_record(actor=actor, action=action, target=original, changes=changes,
                        related=[(Contract, original.contract_id)])


def keys_event(*, actor, action: str, label: str, changes):
    """"keys.<rotated|retired>": about every stored file version, on no one object's timeline."""
    from .models import DocumentVersion

    return audit_record(actor=actor, action=action, target=(DocumentVersion, label), changes=changes)
