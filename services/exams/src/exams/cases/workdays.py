"""Working days: weekends and the school's holidays excluded. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SCHOOL_TZ = ZoneInfo("Europe/Amsterdam")
SATURDAY = 5


def is_working_day(day: date, holidays: frozenset[date]) -> bool:
    """Monday to Friday and not one of the school's holidays."""
    return day.weekday() < SATURDAY and day not in holidays


def add_working_days(start: date, days: int, holidays: frozenset[date]) -> date:
    """The date `days` working days after `start` (start itself never counts; 0 gives start back)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current, left = start, days
    while left:
        current += timedelta(days=1)
        if is_working_day(current, holidays):
            left -= 1
    return current


def working_days_between(first: date, last: date, holidays: frozenset[date]) -> int:
    """How many working days lie after `first` up to and including `last` (0 when last is not after first)."""
    count, current = 0, first
    while current < last:
        current += timedelta(days=1)
        count += is_working_day(current, holidays)
    return count


def local_date(moment: datetime) -> date:
    """The calendar date of a moment at the school (Europe/Amsterdam)."""
    return moment.astimezone(SCHOOL_TZ).date()


def end_of_day(day: date) -> datetime:
    """The last moment of a school day, in UTC (a deadline on that day may be met until midnight)."""
    midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=SCHOOL_TZ)
    return (midnight - timedelta(milliseconds=1)).astimezone(UTC)


def deadline(start: datetime, days: int, holidays: frozenset[date]) -> datetime:
    """The end of the working day `days` working days after the school day of `start`."""
    return end_of_day(add_working_days(local_date(start), days, holidays))


def within(start: datetime, at: datetime, days: int, holidays: frozenset[date]) -> bool:
    """True when `at` falls on or before the school day `days` working days after `start` (both read as school days)."""
    # compared by date, not by the stored last millisecond, so a moment in that millisecond's last microseconds counts
    return local_date(at) <= add_working_days(local_date(start), days, holidays)


def expand(ranges: Iterable[tuple[date, date]]) -> frozenset[date]:
    """Every date of the given inclusive ranges."""
    days: set[date] = set()
    for first, last in ranges:
        current = first
        while current <= last:
            days.add(current)
            current += timedelta(days=1)
    return frozenset(days)
