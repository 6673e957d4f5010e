"""What assignment knows of a staff member and of a site (服务网点). Plain values, no I/O.

Every attribute has a default, so members saved before assignment strategies existed still load:
no site, no skills, every region, the default capacity, no location, always on duty, no backup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import Invalid

DEFAULT_ZONE = "Asia/Shanghai"
DEFAULT_CAPACITY = 10  # open tickets a member handles at once when nobody said otherwise
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float

    @classmethod
    def from_value(cls, value: Any) -> Point | None:
        """A location field value ({lat, lng, address} or an object with lat/lng), else None."""
        lat, lng = (value.get(k) if isinstance(value, Mapping) else getattr(value, k, None) for k in ("lat", "lng"))
        try:
            point = cls(float(lat), float(lng))
        except (TypeError, ValueError):
            return None
        return point if -90 <= point.lat <= 90 and -180 <= point.lng <= 180 else None

    def to_dict(self) -> dict[str, float]:
        return {"lat": self.lat, "lng": self.lng}


@dataclass(frozen=True)
class Shift:
    """On duty from `start` to `end` local time (an end before the start runs past midnight: a night
    shift), on the given ISO weekdays (1 = Monday) of the day the shift starts; every day if none."""

    start: time
    end: time
    days: tuple[int, ...] = ()

    def covers(self, local: datetime) -> bool:
        clock, day = local.time(), local.isoweekday()
        if self.start <= self.end:
            return self.start <= clock < self.end and self._on(day)
        if clock >= self.start:  # the evening part of a night shift
            return self._on(day)
        return clock < self.end and self._on(day - 1 or 7)  # the early hours belong to yesterday's shift

    def _on(self, day: int) -> bool:
        return not self.days or day in self.days

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"from": self.start.strftime("%H:%M"), "to": self.end.strftime("%H:%M")}
        return data | ({"days": list(self.days)} if self.days else {})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Shift:
        start, end = (_clock(data.get(k)) for k in ("from", "to"))
        days = tuple(sorted(set(data.get("days") or ())))
        if any(not isinstance(d, int) or not 1 <= d <= 7 for d in days):
            raise Invalid("shift days are ISO weekdays, 1 (Monday) to 7 (Sunday)", days=list(days))
        if start == end:
            raise Invalid("a shift must not start and end at the same time")
        return cls(start, end, days)


def _clock(raw: Any) -> time:
    found = _CLOCK.match(raw) if isinstance(raw, str) else None
    if not found:
        raise Invalid(f"a shift time is HH:MM, not {raw!r}")
    return time(int(found[1]), int(found[2]))


@dataclass(frozen=True)
class Profile:
    site: str | None = None
    skills: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # the regions they serve; none: any
    capacity: int = DEFAULT_CAPACITY
    location: Point | None = None
    shifts: tuple[Shift, ...] = ()  # none: always on duty
    backup: str | None = None  # who takes their tickets when they are absent or full
    absent: bool = False

    def serves(self, region: str | None) -> bool:
        return not self.regions or region in self.regions

    def on_duty(self, local: datetime) -> bool:
        return not self.shifts or any(s.covers(local) for s in self.shifts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "site": self.site,
            "skills": list(self.skills),
            "regions": list(self.regions),
            "capacity": self.capacity,
            "location": self.location.to_dict() if self.location else None,
            "shifts": [s.to_dict() for s in self.shifts],
            "backup": self.backup,
            "absent": self.absent,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Profile:
        capacity = data.get("capacity")
        capacity = DEFAULT_CAPACITY if capacity is None else capacity
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
            raise Invalid(f"capacity is a whole number of open tickets, not {capacity!r}")
        return cls(
            site=data.get("site"),
            skills=tuple(sorted(set(data.get("skills") or ()))),
            regions=tuple(sorted(set(data.get("regions") or ()))),
            capacity=capacity,
            location=_point(data.get("location")),
            shifts=tuple(Shift.from_dict(s) for s in data.get("shifts") or ()),
            backup=data.get("backup"),
            absent=bool(data.get("absent", False)),
        )

    @staticmethod
    def check_zone(zone: str) -> ZoneInfo:
        try:
            return ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"not a time zone: {zone!r} (e.g. Asia/Shanghai)") from None


def _point(raw: Any) -> Point | None:
    if raw is None:
        return None
    point = Point.from_value(raw)
    if point is None:
        raise Invalid("a location has lat in [-90, 90] and lng in [-180, 180]", location=raw)
    return point


@dataclass(frozen=True)
class Site:
    """A site or service point (服务网点): technicians work from it; it serves some regions; when its
    people are saturated, tickets overflow to its neighbours, in the order listed."""

    key: str
    name: str = ""
    location: Point | None = None
    regions: tuple[str, ...] = ()
    neighbours: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return self.name or self.key

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "location": self.location.to_dict() if self.location else None,
            "regions": list(self.regions),
            "neighbours": list(self.neighbours),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Site:
        return cls(
            key=data["key"],
            name=data.get("name") or "",
            location=_point(data.get("location")),
            regions=tuple(data.get("regions") or ()),
            neighbours=tuple(dict.fromkeys(data.get("neighbours") or ())),
        )
