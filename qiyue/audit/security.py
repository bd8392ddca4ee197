"""Security events: denied requests, and the rate limit that keeps a scan from flooding the chain.

A *denial* is a request the application refused for who is asking, not for what was asked:

- any 403 answer (a policy said no, a page for other roles, the API's permission checks, a failed
  CSRF check);
- a 401 answer (the API without credentials or with a bad token);
- a 404 that hides a record: the row exists, but is outside the user's scope, so the answer does
  not confirm it exists (noted by `qiyue.core.selectors.get_or_404` and the API's error handler).

Not denials: a 404 for a row that does not exist, a signed-out visitor sent to the log-in page
(a redirect), invalid input (400), a conflict (409), the lockout page (429, recorded as a lockout).

Rate limit: per source (the signed-in user, else the client address) at most
QIYUE_SECURITY_EVENTS_PER_MINUTE events of one sort per clock minute are written one by one; the next
writes one "limit reached" event and the rest are only counted. The source's first event in a later
minute (within the hour) is preceded by one event with the count of those not written. Over all sources
together at most QIYUE_SECURITY_EVENTS_PER_MINUTE_TOTAL a minute are written, so addresses by the
thousand cannot flood the chain either. The counters live in Django's cache (the "default" one): with
the local-memory cache each server process counts for itself, and past its 300 entries that cache drops
the least recently used counters (a busy source's and the total's stay).
"""

import logging
import time

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from qiyue.core import context

from .models import AuditEvent
from .registry import register_actions, register_change_labels
from .rendering import REQUEST_TARGET
from .services import audit_record, printable

log = logging.getLogger(__name__)

ACTIONS = register_actions({
    "request.denied": _("was denied a request"),
    "security.limit_reached": _("reached the limit of recorded security events"),
    "security.suppressed": _("security events not recorded one by one"),
})
register_change_labels({
    "method": _("method"), "path": _("path"), "status": _("status"), "reason": _("reason"),
    "source": _("source"), "sort": _("sort"), "limit": _("limit per minute"), "suppressed": _("not recorded"),
    "minute": _("minute"),
})

WINDOW_SECONDS = 60
PATH_CHARS = 200

RECORD, TRIP, DROP = "record", "trip", "drop"


def _limit(total: bool = False) -> int:
    if total:
        return settings.QIYUE_SECURITY_EVENTS_PER_MINUTE_TOTAL
    return settings.QIYUE_SECURITY_EVENTS_PER_MINUTE


def _key(sort: str, source: str, window: int | str) -> str:
    # Sources are user ids, addresses or printable user names: hash-free, but bounded and spaceless.
    return f"qiyue:sec:{sort}:{source[:200].replace(' ', '_')}:{window}"


# How long a minute's counter is kept: its count of events not written is told when the source next
# comes back within this time.
KEEP_SECONDS = 3600


def _count(key: str) -> int:
    cache.add(key, 0, KEEP_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired (or culled) between add and incr
        cache.set(key, 1, KEEP_SECONDS)
        return 1


def _gate(sort: str, source: str, limit: int, window: int) -> tuple[str, int]:
    """(verdict, how many of this source's events an earlier minute left unwritten — told once, at
    the source's first event of a later minute)."""
    n = _count(_key(sort, source, window))
    missed = 0
    if n == 1:
        pending_key = _key(sort, source, "over")
        over = cache.get(pending_key)
        if over is not None and over != window:
            missed = max(0, (cache.get(_key(sort, source, over)) or 0) - limit)
            cache.delete(pending_key)
    if n <= limit:
        return RECORD, missed
    if n == limit + 1:
        cache.set(_key(sort, source, "over"), window, KEEP_SECONDS)
        return TRIP, 0
    return DROP, 0


def current_window() -> int:
    """The clock minute the limits count in."""
    return int(time.time() // WINDOW_SECONDS)


def _minute(window: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(window * WINDOW_SECONDS))


def _summary(*, actor, sort: str, source: str, missed: int) -> None:
    audit_record(actor=actor, action="security.suppressed", target=(REQUEST_TARGET, "*", source),
                 kind=AuditEvent.Kind.SECURITY, outcome=AuditEvent.Outcome.DENIED,
                 changes={"sort": sort, "source": source, "suppressed": missed})


def _trip(*, actor, sort: str, source: str, limit: int, window: int) -> None:
    audit_record(actor=actor, action="security.limit_reached", target=(REQUEST_TARGET, "*", source),
                 kind=AuditEvent.Kind.SECURITY, outcome=AuditEvent.Outcome.DENIED,
                 changes={"sort": sort, "source": source, "limit": limit, "minute": _minute(window)})


def record_limited(*, sort: str, source: str, actor, write) -> AuditEvent | None:
    """Call `write()` (which appends one security event) unless `source` has had its share of `sort`
    events this minute, or all sources together have; see the module's docstring. Returns the event
    written, if any."""
    window = current_window()
    source = printable(source)[:200]
    verdict, missed = _gate(sort, source, _limit(), window)
    if verdict == DROP:
        return None
    total_verdict, total_missed = _gate(sort, "*", _limit(total=True), window)
    if total_missed:
        _summary(actor=None, sort=sort, source="*", missed=total_missed)
    if total_verdict == DROP:
        return None
    if total_verdict == TRIP:
        _trip(actor=None, sort=sort, source="*", limit=_limit(total=True), window=window)
        return None
    if missed:
        _summary(actor=actor, sort=sort, source=source, missed=missed)
    if verdict == TRIP:
        _trip(actor=actor, sort=sort, source=source, limit=_limit(), window=window)
        return None
    return write()


def _denial_reason(request, response) -> tuple[str, tuple] | None:
    """("forbidden" | "unauthenticated" | "hidden", target) when the answer was a denial."""
    label = printable(f"{request.method} {request.path}")[:PATH_CHARS]
    if response.status_code == 403:
        return "forbidden", (REQUEST_TARGET, "*", label)
    if response.status_code == 401:
        return "unauthenticated", (REQUEST_TARGET, "*", label)
    if response.status_code == 404:
        hidden = context.noted("hidden")
        if hidden is not None:
            return "hidden", (hidden[0], hidden[1], label)
    return None


def record_denial(request, response) -> AuditEvent | None:
    """Record the request as denied if its answer was a denial (see the module's docstring)."""
    found = _denial_reason(request, response)
    if found is None:
        return None
    reason, target = found
    actor = getattr(request, "user", None) or AnonymousUser()
    source = f"user:{actor.pk}" if actor.is_authenticated else f"ip:{context.current.get().ip or '-'}"

    def write():
        return audit_record(
            actor=actor, action="request.denied", target=target, kind=AuditEvent.Kind.SECURITY,
            outcome=AuditEvent.Outcome.DENIED,
            changes={"method": printable(request.method)[:10], "path": printable(request.path)[:PATH_CHARS],
                     "status": response.status_code, "reason": reason})

    return record_limited(sort="denied", source=source, actor=actor, write=write)


class DenialAuditMiddleware:
    """Writes denied requests into the audit log, after the view answered. Place it after the
    authentication middleware (it names the user; the API's token user is known by then too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in (401, 403, 404):
            try:
                record_denial(request, response)
            except Exception:  # the answer stands even if the log cannot take the event
                log.exception("could not record a denied request in the audit log")
        return response
