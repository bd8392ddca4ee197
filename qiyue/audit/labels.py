"""Human labels for audit action codes, for timelines and the audit log."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "customer.created": _("created the customer"),
    "customer.updated": _("updated the customer"),
    "customer.viewed": _("viewed the customer"),
    "contact.created": _("added a contact"),
    "contact.updated": _("updated a contact"),
    "contact.deleted": _("removed a contact"),
    "communication.created": _("recorded a communication"),
    "contract.created": _("created the contract"),
    "contract.updated": _("updated the contract"),
    "contract.viewed": _("viewed the contract"),
    "contract.exported": _("exported contracts"),
    "contract.submit": _("submitted for review"),
    "contract.return": _("returned to draft"),
    "contract.approve": _("approved"),
    "contract.sign": _("recorded the signing"),
    "contract.activate": _("activated"),
    "contract.complete": _("marked completed"),
    "contract.expire": _("marked expired"),
    "contract.terminate": _("terminated"),
    "contract.cancel": _("cancelled"),
    "contract.legal_hold_set": _("placed a legal hold"),
    "contract.legal_hold_released": _("released the legal hold"),
    "contract.deleted": _("deleted the contract"),
    "retention_policy.updated": _("updated a retention policy"),
    "document.compared": _("compared document versions"),
    "document.uploaded": _("uploaded a document"),
    "document.version_added": _("uploaded a new version"),
    "document.updated": _("updated a document"),
    "document.deleted": _("deleted a document"),
    "document.viewed": _("viewed a document"),
    "document.downloaded": _("downloaded a document"),
    "document.previewed": _("previewed a document"),
    "document.integrity_failed": _("hit a document integrity failure"),
    "paper_original.recorded": _("recorded a paper original"),
    "paper_original.updated": _("updated a paper original"),
    "paper_original.lent": _("lent a paper original"),
    "paper_original.returned": _("recorded the return of a paper original"),
    "keys.rotated": _("rotated the master key"),
    "keys.retired": _("retired a master key"),
    "team.created": _("created the team"),
    "user.created": _("created the user"),
    "user.password_set": _("set the password"),
    "user.token_issued": _("issued an API token"),
    "audit.exported": _("exported the audit log"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))
