"""Great-circle distance (haversine) and where a ticket is. No I/O."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt
from typing import Any
from collections.abc import Mapping

from services.workflow.dispatch.profile import Point

EARTH_RADIUS_KM = 6371.0088  # the mean radius


def distance_km(a: Point, b: Point) -> float:
    dlat, dlng = radians(b.lat - a.lat), radians(b.lng - a.lng)
    h = sin(dlat / 2) ** 2 + cos(radians(a.lat)) * cos(radians(b.lat)) * sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def ticket_location(values: Mapping[str, Any], key: str | None = None) -> tuple[str, Point] | None:
    """The ticket's location: the value of field `key`, or else the first location value it has."""
    keys = [key] if key else list(values)
    for k in keys:
        point = Point.from_value(values.get(k)) if values.get(k) is not None else None
        if point is not None:
            return k, point
    return None
