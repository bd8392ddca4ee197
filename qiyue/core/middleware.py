import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout

from . import context

# What is kept of a client's X-Request-ID (as the correlation id): these characters, at most 64.
_NOT_ID_CHARS = re.compile(r"[^A-Za-z0-9._:-]")
CORRELATION_ID_LENGTH = 64
# Enough of a User-Agent header for any real browser or client; the audit log keeps 300 characters.
USER_AGENT_LENGTH = 512


def correlation_id(incoming: str) -> str:
    """A client's X-Request-ID reduced to a safe token: other characters dropped, then cut to length."""
    return _NOT_ID_CHARS.sub("", incoming[: CORRELATION_ID_LENGTH * 4])[:CORRELATION_ID_LENGTH]


class RequestContextMiddleware:
    """Give every request an id of the server's own for the audit log (answered as X-Request-ID), keep
    a client's X-Request-ID apart as its correlation id, and keep the UI's language choice to the
    user's switch."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            # The UI is Chinese-first: it speaks zh-Hans until the user picks English with the switch
            # (a cookie), whatever the browser's Accept-Language. API clients choose with Accept-Language.
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        # Always the server's: a client choosing the id could make its requests' events look like
        # another's, or collide with them.
        request_id = uuid.uuid4().hex
        request.request_id = request_id
        token = context.current.set(context.RequestContext(
            request_id=request_id,
            ip=request.META.get("REMOTE_ADDR"),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
            correlation_id=correlation_id(request.headers.get("X-Request-ID", "")),
            notes={},
        ))
        try:
            response = self.get_response(request)
        finally:
            context.current.reset(token)
        response["X-Request-ID"] = request_id
        return response


def note_login(request, **kwargs) -> None:
    """At log-in (the user_logged_in signal), the session notes when it began."""
    now = int(time.time())
    request.session[SessionTimeoutMiddleware.LOGIN_KEY] = now
    request.session[SessionTimeoutMiddleware.SEEN_KEY] = now


class SessionTimeoutMiddleware:
    """Ends a logged-in session after QIYUE_SESSION_IDLE_SECONDS without a request (an unattended
    screen), and after QIYUE_SESSION_SECONDS from the log-in however busy it was. The session cookie
    alone cannot do both: saving the session to note the activity would push its expiry on for ever.
    The time of the last request is noted at most once a minute, so most requests write nothing."""

    NOTE_EVERY = 60
    LOGIN_KEY = "qiyue_login_at"
    SEEN_KEY = "qiyue_seen_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if session is not None and user is not None and user.is_authenticated:
            now = int(time.time())
            login_at = session.get(self.LOGIN_KEY)
            seen_at = session.get(self.SEEN_KEY, login_at)
            if login_at is None:  # a session from before this rule: it starts now
                note_login(request)
            elif (now - seen_at > settings.QIYUE_SESSION_IDLE_SECONDS
                  or now - login_at > settings.SESSION_COOKIE_AGE):
                # Named for the audit log's logout event (user_logged_out carries no reason).
                request.logout_reason = "idle" if now - seen_at > settings.QIYUE_SESSION_IDLE_SECONDS else "expired"
                logout(request)  # the request goes on as anonymous: pages send it to the log-in page
            elif now - seen_at >= self.NOTE_EVERY:
                session[self.SEEN_KEY] = now
        return self.get_response(request)
