"""The navigation bar's count of the user's open approval tasks (待办): one count over a partial
index, capped at INBOX_CAP + 1."""

from .selectors import inbox_count


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"approval_inbox": inbox_count(user=user)}
