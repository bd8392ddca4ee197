"""The kinds of notification apps send, registered from their AppConfig.ready(): each with its label
(the settings page), its message (a translatable text with %(name)s placeholders, filled from the
notification's params in the reader's language) and whether it goes by e-mail unless the user says
otherwise."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    key: str
    label: object  # a lazy translation
    message: object  # a lazy translation with %(name)s placeholders
    email: bool = True
    # Turns stored params into shown ones in the active language (a status code into its label).
    prepare: Callable[[dict], dict] | None = None
    # May go into a user's daily digest e-mail instead of an e-mail of its own (reminders: not urgent).
    digest: bool = False


_kinds: dict[str, Kind] = {}


def register_kind(key: str, *, label, message, email: bool = True,
                  prepare: Callable[[dict], dict] | None = None, digest: bool = False) -> Kind:
    if not key or len(key) > 50:
        raise ValueError(f"notification kind {key!r}: a key of 1 to 50 characters is required")
    kind = Kind(key=key, label=label, message=message, email=email, prepare=prepare, digest=digest)
    _kinds[key] = kind
    return kind


def kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda k: k.key)


def get_kind(key: str) -> Kind | None:
    return _kinds.get(key)


def render(kind_key: str, params: dict) -> str:
    """The notification's text in the active language (a kind no longer registered: its key)."""
    kind = _kinds.get(kind_key)
    if kind is None:
        return kind_key
    try:
        return str(kind.message) % (kind.prepare(dict(params)) if kind.prepare else dict(params))
    except (KeyError, TypeError, ValueError):  # params of an older version of the message
        return str(kind.message)
