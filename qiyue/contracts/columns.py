"""The contracts list's columns: the number always, the others chosen per user (the column chooser),
and kept in saved views."""

import re

from django.utils.translation import gettext_lazy as _

# key: label, in the order the table shows them.
COLUMNS = {
    "title": _("Title"),
    "customer": _("Customer"),
    "status": _("Status"),
    "nature": _("Nature"),
    "subject_matter": _("Subject matter"),
    "signing_date": _("Signing date"),
    "effective_date": _("Effective date"),
    "expiry_date": _("Expiry date"),
    "amount": _("Amount"),
    "received": _("Received"),
    "outstanding": _("Outstanding"),
    "overdue": _("Overdue"),
    "owner": _("Owner"),
    "team": _("Team"),
    "tags": _("Tags"),
    "created_at": _("Created"),
}
DEFAULT_COLUMNS = ("title", "customer", "status", "nature", "expiry_date", "amount", "owner")


CUSTOM_COLUMN = re.compile(r"cf\d{1,10}")


def parse_columns(value) -> tuple[str, ...] | None:
    """The known columns named in `value` (a comma-separated string or a list) in table order, then any
    custom field's (`cf<id>`, shown when the list is of that field's contract type), or None when it
    names none or any unknown one."""
    if isinstance(value, str):
        value = value.split(",")
    keys = {key.strip() for key in value or () if key and key.strip()}
    custom = sorted((key for key in keys if CUSTOM_COLUMN.fullmatch(key)), key=lambda k: int(k[2:]))
    if not keys or not keys - set(custom) <= COLUMNS.keys() or len(keys) > 40:
        return None
    return tuple(key for key in COLUMNS if key in keys) + tuple(custom)
