"""Turning domain events into JSON for HTTP responses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

_HIDDEN = {"originator_id", "originator_version", "timestamp", "originator_topic"}
_AS_IS = frozenset({str, int, float, bool, type(None)})


class JSONObject(dict):
    """A dict whose maker vouches that it holds only JSON's own values all the way down (str, int,
    bool, None, lists and dicts of them): an event store writes it without reading it back to check
    (shared/transcoder.py), which for a statement of a few KB is most of its encoding. Read back
    from the store it is a plain dict."""


def plain(value: Any) -> Any:
    """JSON-safe copy: Decimals and UUIDs as strings, datetimes as ISO 8601."""
    if type(value) in _AS_IS:  # most values: no isinstance chain for them (projections fold every event)
        return value
    if isinstance(value, dict):
        return {k: v if type(v) in _AS_IS else plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [v if type(v) in _AS_IS else plain(v) for v in value]
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return value


def timeline_entry(event: Any) -> dict[str, Any]:
    return {
        "type": type(event).__name__,
        "version": event.originator_version,
        "at": plain(event.timestamp),
        "data": plain({k: v for k, v in event.__dict__.items() if k not in _HIDDEN}),
    }
