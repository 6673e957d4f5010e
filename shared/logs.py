"""Structured logs: one JSON object per line on stderr, from every source.

structlog's events, the standard `logging` of Flask and the libraries, and gunicorn's error and
access logs (`GunicornLogger`) all end in one formatter, so every line is a JSON object with
`event`, `level`, `timestamp`, `logger`, the process's `role` and whatever the context holds:
`correlation_id` always once a request or an upstream event is being handled (shared/correlation.py),
`tenant` and `ticket_id` where they are known.

The level comes from `SCRM_LOG_LEVEL` (default INFO); at DEBUG a worker logs every upstream event
it processes (`follower.event`).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

import structlog
from gunicorn.glogging import Logger as _GunicornBase

from shared import correlation

_formatter: logging.Formatter | None = None


def configure(role: str, level: str | None = None, stream: TextIO | None = None) -> None:
    """Every log line of this process as JSON on `stream` (stderr), naming its `role` (e.g.
    "workflow-worker")."""
    global _formatter
    level = (level or os.environ.get("SCRM_LOG_LEVEL") or "INFO").upper()

    def add_role(_, __, event_dict):
        event_dict.setdefault("role", role)
        return event_dict

    shared = [
        structlog.contextvars.merge_contextvars,
        correlation.add_followed,
        add_role,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    _formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # a library's warnings too, as lines of the "py.warnings" logger
    logging.getLogger("kafka").setLevel(max(root.level, logging.WARNING))  # chatty at INFO on every rebalance
    # Its DEBUG lines show whole URLs, and WeCom's token request carries the app's secret in its query.
    logging.getLogger("urllib3").setLevel(max(root.level, logging.INFO))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def formatter() -> logging.Formatter:
    """The JSON formatter `configure` made (a plain one before it is called)."""
    return _formatter or logging.Formatter("%(message)s")


class GunicornLogger(_GunicornBase):
    """gunicorn's error and access logs as JSON lines. An access line carries the request's
    correlation id and, where the route named them, its tenant and ticket (shared/web.py leaves
    them in the WSGI environ, `ENVIRON_KEYS`)."""

    def _set_handler(self, log, output, fmt, stream=None):
        super()._set_handler(log, output, formatter(), stream)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        fields: dict[str, Any] = {
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "remote": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        fields.update({name: environ[key] for name, key in ENVIRON_KEYS.items() if environ.get(key)})
        self.access_log.info("http.access", extra=fields)


# What a request's log lines carry beyond its own: set by shared/web.py, read by the access log.
ENVIRON_KEYS = {"correlation_id": "scrm.correlation_id", "tenant": "scrm.tenant", "ticket_id": "scrm.ticket_id"}
