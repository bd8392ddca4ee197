from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Manager")
    SALES = "sales", _("Sales")
    LEGAL = "legal", _("Legal")
    FINANCE = "finance", _("Finance")
    AUDITOR = "auditor", _("Auditor")


# Roles that see every customer and contract.
SEE_ALL_ROLES = frozenset({Role.ADMIN, Role.LEGAL, Role.FINANCE, Role.AUDITOR})
# Roles that may write customers and contracts (within what they see).
EDITOR_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES})
