"""The review checklist (R4.2) a legal or finance reviewer fills in with each decision: each point
marked pass, issue or not applicable, with a note. Approving with an issue needs a comment."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

ITEMS = (
    ("legality", _("Legality (合法性)")),
    ("reasonableness", _("Reasonableness of the terms")),
    ("rights_obligations", _("Rights and obligations")),
    ("execution_conditions", _("Conditions of execution")),
    ("breach_liability", _("Liability for breach (违约责任)")),
    ("compliance", _("Compliance (合规)")),
)
MARKS = (
    ("pass", pgettext_lazy("checklist mark", "Pass")),
    ("issue", pgettext_lazy("checklist mark", "Issue")),
    ("na", pgettext_lazy("checklist mark", "Not applicable")),
)
KEYS = tuple(key for key, _label in ITEMS)
MARK_KEYS = tuple(key for key, _label in MARKS)
MAX_NOTE = 500


def clean(raw) -> tuple[dict, dict]:
    """({item: {"mark", "note"}}, {field: [message]}): every item needs a mark."""
    errors: dict[str, list] = {}
    if not isinstance(raw, dict):
        return {}, {"checklist": [_("Fill in the review checklist.")]}
    cleaned = {}
    for key in KEYS:
        item = raw.get(key)
        if isinstance(item, str):
            item = {"mark": item}
        if not isinstance(item, dict) or item.get("mark") not in MARK_KEYS:
            errors[f"checklist.{key}"] = [_("Mark this point pass, issue or not applicable.")]
            continue
        note = item.get("note") or ""
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            errors[f"checklist.{key}"] = [_("A note of at most 500 characters.")]
            continue
        cleaned[key] = {"mark": item["mark"], "note": note.strip()}
    unknown = set(raw) - set(KEYS)
    if unknown:
        errors["checklist"] = [_("The checklist has points that do not exist: use %(keys)s.") % {
            "keys": ", ".join(KEYS)}]
    return cleaned, errors


def has_issue(checklist: dict) -> bool:
    return any(item.get("mark") == "issue" for item in checklist.values())


def rows(checklist: dict) -> list[dict]:
    """The checklist as shown: every point in order with its label, mark label and note."""
    marks = dict(MARKS)
    return [{"key": key, "label": label, "mark": checklist.get(key, {}).get("mark", ""),
             "mark_label": marks.get(checklist.get(key, {}).get("mark", ""), ""),
             "note": checklist.get(key, {}).get("note", "")} for key, label in ITEMS]
