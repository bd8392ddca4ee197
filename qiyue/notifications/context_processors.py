"""The unread count of the navigation bar: one count over the recipient's unread rows (a partial
index), capped at UNREAD_SHOWN + 1."""

from .selectors import unread_count


def unread(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notifications_unread": unread_count(user=user)}
