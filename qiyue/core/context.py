"""Per-request facts the audit log records (request id, client IP), set by middleware."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None


current = ContextVar("qiyue_request_context", default=RequestContext())  # noqa: B039 (frozen dataclass)
