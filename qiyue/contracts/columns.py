"""The contracts list's columns: the number always, the others chosen per user (the column chooser),
and kept in saved views."""

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
    "owner": _("Owner"),
    "team": _("Team"),
    "tags": _("Tags"),
    "created_at": _("Created"),
}
DEFAULT_COLUMNS = ("title", "customer", "status", "nature", "expiry_date", "amount", "owner")


def parse_columns(value) -> tuple[str, ...] | None:
    """The known columns named in `value` (a comma-separated string or a list) in table order, or None
    when it names none or any unknown one."""
    if isinstance(value, str):
        value = value.split(",")
    keys = {key.strip() for key in value or () if key and key.strip()}
    if not keys or not keys <= COLUMNS.keys():
        return None
    return tuple(key for key in COLUMNS if key in keys)
