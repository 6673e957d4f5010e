"""Structured logs: one JSON object per line on stderr, with the process's role."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(role: str, level: str = "INFO") -> None:
    """JSON lines on stderr, each naming the process's role (e.g. "workflow-worker")."""

    def add_role(_, __, event_dict):
        event_dict.setdefault("role", role)
        return event_dict

    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    for noisy in ("kafka", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_role,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
