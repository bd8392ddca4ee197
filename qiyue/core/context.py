"""Per-request facts the audit log records (request id, client IP, user agent, the client's own
correlation id), set by middleware."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None
    user_agent: str = ""
    # The client's X-Request-ID, sanitised: kept to correlate with the client's own logs, never
    # used as the request's id (a client could otherwise make its events look like another's).
    correlation_id: str = ""
    # Facts noted while the request runs for the audit log's denial events (see note_hidden);
    # None outside a request, so nothing is noted there.
    notes: dict | None = None


current = ContextVar("qiyue_request_context", default=RequestContext())  # noqa: B039 (frozen dataclass)


def note_hidden(model_label: str, pk) -> None:
    """Note that this request asked for a row that exists but that the user may not see (answered
    404 so as not to confirm it exists): the audit log records the request as a denial."""
    notes = current.get().notes
    if notes is not None:
        notes["hidden"] = (model_label, str(pk))


def noted(name: str):
    notes = current.get().notes
    return None if notes is None else notes.get(name)
