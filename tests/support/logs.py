"""This process's log lines, as the platform writes them (shared/logs.py), for a test to read."""

from __future__ import annotations

import io
import json
import logging
from contextlib import contextmanager
from collections.abc import Callable, Iterator

import structlog

from shared import logs


@contextmanager
def captured_logs(role: str = "test", level: str = "DEBUG") -> Iterator[Callable[[], list[dict]]]:
    """Log as the platform does while it lasts; yields a function that returns the lines so far,
    each parsed (so each must be one JSON object). The configuration is undone afterwards."""
    stream, root = io.StringIO(), logging.getLogger()
    handlers, previous = root.handlers[:], root.level
    logs.configure(role, level, stream=stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.handlers[:] = handlers
        root.setLevel(previous)
        logging.captureWarnings(False)
        structlog.reset_defaults()
