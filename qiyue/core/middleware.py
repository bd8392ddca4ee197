import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout

from . import context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Give every request an id (or keep a sane incoming X-Request-ID) for the audit log, and keep
    the UI's language choice to the user's switch."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            # The UI is Chinese-first: it speaks zh-Hans until the user picks English with the switch
            # (a cookie), whatever the browser's Accept-Language. API clients choose with Accept-Language.
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = context.current.set(context.RequestContext(request_id=request_id, ip=request.META.get("REMOTE_ADDR")))
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
                logout(request)  # the request goes on as anonymous: pages send it to the log-in page
            elif now - seen_at >= self.NOTE_EVERY:
                session[self.SEEN_KEY] = now
        return self.get_response(request)
