"""The correlation id: one value that follows a request through every service.

A web request takes it from the `X-Correlation-Id` header (or is given a new one, shared/web.py) and
answers with it in the same header; a worker takes the id of the envelope it is processing. Whatever
a service records meanwhile is published with it (the envelope's `correlationid`), and every log
line carries it, with the tenant and the ticket where they are known (`about`).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any
from uuid import uuid4

import structlog

from shared.envelope import Envelope

HEADER = "X-Correlation-Id"
_SHAPE = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")

_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_followed: ContextVar[Envelope | None] = ContextVar("followed_envelope", default=None)


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
    """Handle `envelope` under its correlation id, its tenant and its ticket (None: none of them).
    A worker follows every event it takes, and few of them log anything: a line takes them from the
    envelope when it is written (`add_followed`), rather than each event binding three values."""
    _current.set(envelope.correlation_id if envelope else None)
    _followed.set(envelope)


def add_followed(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: the followed envelope's correlation id, tenant and ticket on the line."""
    envelope = _followed.get()
    if envelope is not None:
        if envelope.correlation_id:
            event_dict.setdefault("correlation_id", envelope.correlation_id)
        event_dict.setdefault("tenant", envelope.tenant)
        event_dict.setdefault("ticket_id", str(envelope.subject))
    return event_dict


def accept(offered: str | None) -> str:
    """The caller's id if it has the shape of one (up to 128 letters, digits and `._:/+=@-`: a UUID,
    a trace id), else a new one."""
    if offered and _SHAPE.fullmatch(offered):
        return offered
    return str(uuid4())
