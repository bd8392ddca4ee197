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
    "team.created": _("created the team"),
    "user.created": _("created the user"),
    "user.password_set": _("set the password"),
    "user.token_issued": _("issued an API token"),
    "audit.exported": _("exported the audit log"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))
