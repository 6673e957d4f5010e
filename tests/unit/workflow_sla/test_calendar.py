"""Business calendars: examples in Asia/Shanghai office hours, and properties over generated
calendars (time zones with daylight saving among them), instants and durations."""

from datetime import date, datetime, timedelta, timezone, UTC

import pytest
from hypothesis import given, settings, strategies as st

from services.workflow.sla.calendar import Calendar, CalendarError, parse_duration

UTC = UTC
SHANGHAI = timezone(timedelta(hours=8))
OFFICE = Calendar()  # Mon–Fri 09:00–12:00, 13:00–18:00 in Asia/Shanghai
# National Day 2025: 1–8 October off, Sunday 28 September and Saturday 11 October worked (调休).
NATIONAL_DAY = Calendar(holidays=tuple(f"2025-10-0{d}" for d in range(1, 9)), workdays=("2025-09-28", "2025-10-11"))


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_hours_count_only_working_time_and_skip_lunch_and_the_weekend():
    friday_4pm = sh(2025, 3, 7, 16, 0)
    assert OFFICE.add(friday_4pm, timedelta(hours=2)) == sh(2025, 3, 7, 18, 0)  # a closing time
    assert OFFICE.add(friday_4pm, timedelta(hours=3)) == sh(2025, 3, 10, 10, 0)  # Monday
    assert OFFICE.add(sh(2025, 3, 10, 11, 30), timedelta(hours=1)) == sh(2025, 3, 10, 13, 30)  # lunch skipped
    assert OFFICE.add(sh(2025, 3, 8, 23, 0), timedelta(minutes=1)) == sh(2025, 3, 10, 9, 1)  # Saturday night
    assert OFFICE.add(friday_4pm, timedelta(hours=3)).tzinfo == UTC


TICK = timedelta(microseconds=1)


def is_working(calendar: Calendar, at) -> bool:
    """The moment after `at` is working time."""
    return calendar.between(at, at + TICK) == TICK


def next_opening(calendar: Calendar, at):
    """`at` if it is working time, else the next opening."""
    return calendar.add(at, TICK) - TICK


def test_days_holidays_and_make_up_working_days():
    assert OFFICE.offset(sh(2025, 3, 7, 10, 0), "1d") == timedelta(hours=8)
    assert OFFICE.add(sh(2025, 3, 7, 10, 0), OFFICE.offset(sh(2025, 3, 7, 10, 0), "1d")) == sh(2025, 3, 10, 10, 0)
    eve = sh(2025, 9, 30, 17, 0)  # the last working hour before the holiday
    assert NATIONAL_DAY.add(eve, timedelta(hours=2)) == sh(2025, 10, 9, 10, 0)
    assert NATIONAL_DAY.add(sh(2025, 9, 27, 10, 0), timedelta(hours=1)) == sh(2025, 9, 28, 10, 0)  # a worked Sunday
    assert is_working(NATIONAL_DAY, sh(2025, 10, 11, 9, 30)) and not is_working(NATIONAL_DAY, sh(2025, 10, 3, 10, 0))


def test_next_business_day_is_the_close_of_the_first_working_day_after_the_start():
    assert OFFICE.close_of_next_working_day(sh(2025, 3, 10, 10, 0)) == sh(2025, 3, 11, 18, 0)
    assert OFFICE.close_of_next_working_day(sh(2025, 3, 7, 20, 0)) == sh(2025, 3, 10, 18, 0)  # Friday night
    start = sh(2025, 3, 8, 12, 0)  # Saturday
    assert OFFICE.add(start, OFFICE.offset(start, "next_business_day")) == sh(2025, 3, 10, 18, 0)


def test_between_counts_working_time_and_the_next_opening_is_found():
    assert OFFICE.between(sh(2025, 3, 7, 17, 0), sh(2025, 3, 10, 10, 0)) == timedelta(hours=2)
    assert OFFICE.between(sh(2025, 3, 10, 10, 0), sh(2025, 3, 7, 10, 0)) == timedelta(0)
    assert next_opening(OFFICE, sh(2025, 3, 10, 12, 30)) == sh(2025, 3, 10, 13, 0)
    assert next_opening(OFFICE, sh(2025, 3, 10, 9, 30)) == sh(2025, 3, 10, 9, 30)


def test_always_open_is_elapsed_time():
    always = Calendar.always_open()
    start = sh(2025, 3, 8, 23, 59)
    assert always.add(start, timedelta(seconds=90)) == start + timedelta(seconds=90)
    assert always.offset(start, "1d") == timedelta(days=1)


def test_durations_problems_and_naive_instants():
    assert parse_duration("1d2h30m") == (1, timedelta(hours=2, minutes=30))
    assert parse_duration("45s") == (0, timedelta(seconds=45))
    for bad in ("", "2", "h", "2 h", "-1h", "1.5h"):
        with pytest.raises(CalendarError):
            parse_duration(bad)
    with pytest.raises(CalendarError, match="time zone"):
        OFFICE.add(datetime(2025, 3, 10, 10), timedelta(hours=1))
    wrong = Calendar(timezone="Mars/Olympus", weekdays=(0, 8), hours=(("18:00", "09:00"),), holidays=("2025-13-01",))
    problems = wrong.problems()
    assert len(problems) == 4 and "unknown time zone 'Mars/Olympus'" in problems[0]
    assert Calendar().problems() == [] and Calendar.always_open().problems() == []
    assert Calendar.from_dict(OFFICE.to_dict()) == OFFICE and Calendar.from_dict("24x7") == Calendar.always_open()


# --- properties ----------------------------------------------------------------------------

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "UTC"]


@st.composite
def calendars(draw):
    cuts = sorted(draw(st.sets(st.integers(0, 48), min_size=2, max_size=6)))  # half-hours of a day
    pairs = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    clock = lambda half: f"{half // 2:02d}:{30 * (half % 2):02d}"
    holidays = draw(st.lists(st.dates(date(2024, 1, 1), date(2026, 12, 31)), max_size=20))
    return Calendar(
        timezone=draw(st.sampled_from(ZONES)),
        weekdays=tuple(sorted(draw(st.sets(st.integers(1, 7), min_size=1)))),
        hours=tuple((clock(a), clock(b)) for a, b in pairs),
        holidays=tuple(d.isoformat() for d in holidays),
    )


instants = st.datetimes(datetime(2024, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))
durations = st.integers(1, 20_000)  # thousandths of a working day: up to 20 working days
PROPERTY = settings(max_examples=150, deadline=None)


def working(calendar: Calendar, thousandths: int) -> timedelta:
    return max(timedelta(microseconds=1), calendar.day_length * thousandths / 1000)


@PROPERTY
@given(calendars(), instants, durations)
def test_a_deadline_is_never_inside_non_working_time(calendar, start, d):
    deadline = calendar.add(start, working(calendar, d))
    assert deadline > start and deadline.tzinfo == UTC
    assert is_working(calendar, deadline - TICK)  # within working time, or at a closing
    assert calendar.between(start, deadline) == working(calendar, d)


@PROPERTY
@given(calendars(), instants, instants, durations, durations)
def test_adding_is_monotonic_in_the_start_and_in_the_duration(calendar, a, b, d1, d2):
    (early, late), (short, long) = sorted((a, b)), sorted((working(calendar, d1), working(calendar, d2)))
    assert calendar.add(early, short) <= calendar.add(late, short)
    assert calendar.add(early, short) <= calendar.add(early, long)


@PROPERTY
@given(calendars(), instants, durations, durations)
def test_adding_twice_is_adding_the_sum(calendar, start, d1, d2):
    d1, d2 = working(calendar, d1), working(calendar, d2)
    assert calendar.add(calendar.add(start, d1), d2) == calendar.add(start, d1 + d2)


@PROPERTY
@given(calendars(), instants)
def test_the_next_working_moment_is_working_and_nothing_is_worked_before_it(calendar, start):
    opening = next_opening(calendar, start)
    assert opening >= start and is_working(calendar, opening)
    assert calendar.between(start, opening) == timedelta(0)
