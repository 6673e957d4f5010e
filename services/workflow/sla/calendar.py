"""Business calendars (工作日历): working hours, working days, holidays and make-up working days
(调休) in the tenant's time zone. Pure: every instant in and out is a timezone-aware datetime (UTC
out); nothing here reads the clock.

Working time is a union of half-open intervals [opening, closing) of local time. Adding N of
working time walks those intervals, so a deadline always falls within working time or exactly at a
closing time (the end of the working period it was reached in), never at night or on a holiday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, UTC
from functools import lru_cache
from typing import Any
from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = UTC
DEFAULT_TIMEZONE = "Asia/Shanghai"
SEARCH_DAYS = 3 * 366  # a calendar with no working day within this many days is broken
NEXT_BUSINESS_DAY = "next_business_day"  # a target: the close of the first working day after the start's day
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class CalendarError(ValueError):
    pass


def _minutes(clock: str) -> int:
    if not _CLOCK.match(clock):
        raise CalendarError(f"{clock!r} is not a time of day (HH:MM, 00:00 to 24:00)")
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class Calendar:
    timezone: str = DEFAULT_TIMEZONE
    weekdays: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO: Monday is 1, Sunday 7
    hours: tuple[tuple[str, str], ...] = (("09:00", "12:00"), ("13:00", "18:00"))  # local, each working day
    holidays: tuple[str, ...] = ()  # ISO dates off, even on a working weekday
    workdays: tuple[str, ...] = ()  # ISO dates worked, even on a weekend (调休补班)

    @classmethod
    def always_open(cls, tz: str = DEFAULT_TIMEZONE) -> Calendar:
        """24×7: every moment is working time; durations are plain elapsed time."""
        return cls(timezone=tz, weekdays=(1, 2, 3, 4, 5, 6, 7), hours=(("00:00", "24:00"),))

    # --- JSON ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "weekdays": list(self.weekdays),
            "hours": [list(h) for h in self.hours],
            "holidays": list(self.holidays),
            "workdays": list(self.workdays),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | str) -> Calendar:
        """A calendar's JSON, or "24x7"."""
        if data == "24x7":
            return cls.always_open()
        if isinstance(data, dict) and data.get("hours") == "24x7":
            return cls.always_open(data.get("timezone", DEFAULT_TIMEZONE))
        if not isinstance(data, dict):
            raise TypeError('a calendar is an object or "24x7"')
        unknown = set(data) - {"timezone", "weekdays", "hours", "holidays", "workdays"}
        if unknown:
            raise TypeError(f"unknown calendar keys {', '.join(sorted(unknown))}")
        default = cls()
        return cls(
            timezone=data.get("timezone", default.timezone),
            weekdays=tuple(data.get("weekdays", default.weekdays)),
            hours=tuple(tuple(h) for h in data.get("hours", default.hours)),
            holidays=tuple(data.get("holidays", ())),
            workdays=tuple(data.get("workdays", ())),
        )

    def problems(self) -> list[str]:
        """Every reason this calendar cannot be used, in words."""
        found = []
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(f"unknown time zone {self.timezone!r} (an IANA name such as {DEFAULT_TIMEZONE})")
        bad_days = [d for d in self.weekdays if not isinstance(d, int) or not 1 <= d <= 7]
        if bad_days:
            found.append(f"weekdays are 1 (Monday) to 7 (Sunday), not {bad_days}")
        if not self.weekdays and not self.workdays:
            found.append("a calendar needs working days")
        try:
            spans = [(_minutes(a), _minutes(b)) for a, b in self.hours]
            if not spans:
                found.append("a calendar needs working hours")
            elif any(b <= a for a, b in spans) or any(b[0] < a[1] for a, b in zip(spans, spans[1:])):
                found.append("working hours are ascending, non-overlapping [from, to] pairs")
        except (CalendarError, ValueError, TypeError) as error:
            found.append(f"working hours: {error}")
        for what, dates in (("holidays", self.holidays), ("workdays", self.workdays)):
            for text in dates:
                try:
                    date.fromisoformat(text)
                except (TypeError, ValueError):
                    found.append(f"{what}: {text!r} is not a date (YYYY-MM-DD)")
        return found

    # --- working time -------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_length(self) -> timedelta:
        """The working time of one working day: what "1d" means in this calendar."""
        return timedelta(minutes=sum(_minutes(b) - _minutes(a) for a, b in self.hours))

    def works_on(self, day: date) -> bool:
        iso = day.isoformat()
        if iso in self.workdays:
            return True
        return day.isoweekday() in self.weekdays and iso not in self.holidays

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of a local day, in UTC."""
        return _intervals(self, day)

    def _from(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working intervals that end after `at`, in order, the first one cut to start at `at`."""
        at = _aware(at)
        day = at.astimezone(self.zone).date() - timedelta(days=1)  # a day's intervals never reach the next day's
        reached = at  # intervals are cut to start after the previous one: around a daylight-saving
        for offset in range(SEARCH_DAYS):  # jump, local hours can map onto the same instants twice
            for start, end in _intervals(self, day + timedelta(days=offset)):
                if end > reached:
                    yield max(start, reached), end
                    reached = end
        raise CalendarError(f"no working time within {SEARCH_DAYS} days of {at.isoformat()}")

    def add(self, start: datetime, working: timedelta) -> datetime:
        """The moment `working` of working time after `start` has passed (UTC). A zero duration is
        `start` itself; a positive one lands within working time or at a closing."""
        if working <= timedelta(0):
            return _aware(start).astimezone(UTC)
        remaining = working
        for begin, end in self._from(start):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable")  # pragma: no cover - _from raises first

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The working time within [start, end)."""
        end, total = _aware(end), timedelta(0)
        if end <= _aware(start):
            return total
        for begin, close in self._from(start):
            if begin >= end:
                break
            total += min(close, end) - begin
        return total

    def close_of_next_working_day(self, start: datetime) -> datetime:
        """The closing time of the first working day after the local day of `start` (次日/下一个工作日)."""
        day = _aware(start).astimezone(self.zone).date()
        for offset in range(1, SEARCH_DAYS):
            spans = _intervals(self, day + timedelta(days=offset))
            if spans:
                return spans[-1][1]
        raise CalendarError(f"no working day within {SEARCH_DAYS} days of {start.isoformat()}")

    def offset(self, start: datetime, target: str) -> timedelta:
        """A target ("2h", "1d", "1h30m", "45s", "next_business_day") as working time from `start`."""
        if target == NEXT_BUSINESS_DAY:
            return self.between(start, self.close_of_next_working_day(start))
        days, rest = parse_duration(target)
        return days * self.day_length + rest


def parse_duration(text: str) -> tuple[int, timedelta]:
    """ "1d2h30m" -> (1, 2:30:00): whole working days (which the calendar sizes) and working time."""
    match = _DURATION.match(text) if isinstance(text, str) and text else None
    if match is None or not any(match.groups()):
        raise CalendarError(f"{text!r} is not a duration (like 30m, 2h, 1h30m, 1d, 45s) or {NEXT_BUSINESS_DAY!r}")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return days, timedelta(hours=hours, minutes=minutes, seconds=seconds)


def is_target(text: Any) -> bool:
    if text == NEXT_BUSINESS_DAY:
        return True
    try:
        days, rest = parse_duration(text)
    except CalendarError:
        return False
    return days > 0 or rest > timedelta(0)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise CalendarError(f"{at!r} has no time zone: store instants as timezone-aware UTC")
    return at


@lru_cache(maxsize=4096)
def _intervals(calendar: Calendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    if not calendar.works_on(day):
        return ()
    zone, midnight = calendar.zone, datetime.combine(day, time())
    spans = []
    for begin, end in calendar.hours:
        local = [midnight + timedelta(minutes=_minutes(clock)) for clock in (begin, end)]
        start, stop = (moment.replace(tzinfo=zone).astimezone(UTC) for moment in local)
        if stop > start:  # a span swallowed by a daylight-saving jump has no working time
            spans.append((start, stop))
    return tuple(spans)
