"""The audit vocabulary, collected from the apps: each app declares its action codes and their labels
in its own `events.py` (with `register_actions`), and the audit log, timelines and exports read them
here. The audit app itself knows no other app's actions."""

from collections.abc import Callable, Mapping

from django.utils.functional import Promise

_LABELS: dict[str, Promise | str] = {}
_CHANGE_LABELS: dict[str, Promise | str] = {}
_CHANGE_FORMATS: dict[str, Callable[[object], str]] = {}
_TARGETS: list[str] = []


def register_actions(labels: Mapping[str, Promise | str]) -> dict[str, Promise | str]:
    """Declare action codes ("<entity>.<verb>") and their translatable labels; returns them.
    A code declared twice with another label is a programming error."""
    for code, label in labels.items():
        if "." not in code:
            raise ValueError(f"audit action {code!r} is not of the form entity.verb")
        if code in _LABELS and str(_LABELS[code]) != str(label):
            raise ValueError(f"audit action {code!r} is declared twice")
        _LABELS[code] = label
    return dict(labels)


def action_label(code: str) -> str:
    return str(_LABELS.get(code, code))


def action_codes() -> list[str]:
    return sorted(_LABELS)


def register_change_labels(labels: Mapping[str, Promise | str]) -> None:
    """Names for the keys an app's events write into `changes` that are no field of the event's
    target (a document event's "filename", an activation's "activated_early")."""
    _CHANGE_LABELS.update(labels)


_CHANGE_LABEL_PREFIXES: dict[str, Callable[[str], str | None]] = {}


def register_change_label_prefix(prefix: str, resolve: Callable[[str], str | None]) -> None:
    """Names for keys that start with `prefix` and are defined at run time (a contract type's custom
    field "cf_<key>"): `resolve` gets the rest of the key and returns its name, or None."""
    _CHANGE_LABEL_PREFIXES[prefix] = resolve


def change_label(key: str) -> str:
    if key in _CHANGE_LABELS:
        return str(_CHANGE_LABELS[key])
    for prefix, resolve in _CHANGE_LABEL_PREFIXES.items():
        if key.startswith(prefix):
            return resolve(key[len(prefix):]) or key
    return key


def register_change_formats(formats: Mapping[str, Callable[[object], str]]) -> None:
    """How a person reads the values of such keys (a document's "size" in KB or MB, not bytes): a
    function of one stored value (never None) to its text."""
    _CHANGE_FORMATS.update(formats)


_CHANGE_FORMAT_PREFIXES: dict[str, Callable[[str], Callable[[object], str] | None]] = {}


def register_change_format_prefix(prefix: str, resolve: Callable[[str], Callable[[object], str] | None]) -> None:
    """How values of keys that start with `prefix` read (a custom field's choice by its label): `resolve`
    gets the rest of the key and returns the function, or None."""
    _CHANGE_FORMAT_PREFIXES[prefix] = resolve


def change_format(key: str) -> Callable[[object], str] | None:
    if key in _CHANGE_FORMATS:
        return _CHANGE_FORMATS[key]
    for prefix, resolve in _CHANGE_FORMAT_PREFIXES.items():
        if key.startswith(prefix):
            return resolve(key[len(prefix):])
    return None


def register_targets(*model_labels: str) -> None:
    """The models ("app_label.model_name") an app's events are about: the audit log offers them in its
    "object type" filter, by their names (internal models, never a target, stay out of it)."""
    _TARGETS.extend(label for label in model_labels if label not in _TARGETS)


def target_types() -> list[str]:
    return list(_TARGETS)
