"""The correlation id: one value that follows a request through every service.

A web request takes it from the `X-Correlation-Id` header (or is given a new one); a worker takes
the id of the envelope it is processing. Whatever a service records meanwhile is published with
it (the envelope's `correlationid`), and every log line carries it.
"""

from __future__ import annotations

from contextvars import ContextVar
from uuid import uuid4

import structlog

HEADER = "X-Correlation-Id"
MAX_LENGTH = 128

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


def accept(offered: str | None) -> str:
    """The caller's id if it is a sensible one, else a new one."""
    if offered and len(offered) <= MAX_LENGTH and offered.isascii() and offered.isprintable():
        return offered
    return str(uuid4())
