"""The correlation id: one value that follows a request through every service.

A web request takes it from the `X-Correlation-Id` header (or is given a new one, shared/web.py) and
answers with it in the same header; a worker takes the id of the envelope it is processing. Whatever
a service records meanwhile is published with it (the envelope's `correlationid`), and every log
line carries it, with the tenant and the ticket where they are known (`about`).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from uuid import uuid4

import structlog

from shared.envelope import Envelope

HEADER = "X-Correlation-Id"
_SHAPE = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current() -> str | None:
    return _current.get()


def use(correlation_id: str | None) -> None:
    """Make `correlation_id` the current one (for this thread or greenlet) and put it on log lines."""
    _current.set(correlation_id)
    if correlation_id:
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
    else:
        structlog.contextvars.unbind_contextvars("correlation_id")


def about(tenant: str | None = None, ticket_id: object | None = None) -> None:
    """Log lines from now on name this tenant and ticket (None: no longer any)."""
    for key, value in (("tenant", tenant), ("ticket_id", ticket_id)):
        if value is None:
            structlog.contextvars.unbind_contextvars(key)
        else:
            structlog.contextvars.bind_contextvars(**{key: str(value)})


def follow(envelope: Envelope | None) -> None:
    """Handle `envelope` under its correlation id, its tenant and its ticket (None: none of them)."""
    if envelope is None:
        use(None)
        about(None, None)
        return
    use(envelope.correlation_id)
    # a worker does this for every event it takes: one binding of both, as they are never None here
    structlog.contextvars.bind_contextvars(tenant=envelope.tenant, ticket_id=str(envelope.subject))


def accept(offered: str | None) -> str:
    """The caller's id if it has the shape of one (up to 128 letters, digits and `._:/+=@-`: a UUID,
    a trace id), else a new one."""
    if offered and _SHAPE.fullmatch(offered):
        return offered
    return str(uuid4())
