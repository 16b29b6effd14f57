"""Working days: weekends and the school's holidays never count; deadlines end at midnight school time."""

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from exams.cases.workdays import (
    add_working_days,
    deadline,
    expand,
    is_working_day,
    local_date,
    within,
    working_days_between,
)

NONE: frozenset[date] = frozenset()
AUTUMN = expand([(date(2026, 10, 19), date(2026, 10, 23))])  # herfstvakantie, Monday to Friday
CHRISTMAS = expand([(date(2026, 12, 21), date(2027, 1, 1))])


@pytest.mark.parametrize("start,days,holidays,expected", [
    (date(2026, 11, 2), 0, NONE, date(2026, 11, 2)),     # Monday + 0: itself
    (date(2026, 11, 2), 1, NONE, date(2026, 11, 3)),     # Monday + 1: Tuesday
    (date(2026, 11, 6), 1, NONE, date(2026, 11, 9)),     # Friday + 1: Monday
    (date(2026, 11, 7), 1, NONE, date(2026, 11, 9)),     # Saturday + 1: Monday
    (date(2026, 11, 8), 5, NONE, date(2026, 11, 13)),    # Sunday + 5: Friday
    (date(2026, 11, 2), 5, NONE, date(2026, 11, 9)),     # a week
    (date(2026, 11, 2), 20, NONE, date(2026, 11, 30)),   # four weeks: the objection term
    (date(2026, 11, 2), 15, NONE, date(2026, 11, 23)),   # three weeks: the inspection term
    (date(2026, 10, 16), 1, AUTUMN, date(2026, 10, 26)),  # Friday before the autumn holiday + 1: after it
    (date(2026, 10, 12), 10, AUTUMN, date(2026, 11, 2)),  # the holiday week does not count
    (date(2026, 12, 18), 1, CHRISTMAS, date(2027, 1, 4)),
    (date(2026, 12, 18), 20, CHRISTMAS, date(2027, 1, 29)),
])
def test_adding_working_days(start: date, days: int, holidays: frozenset[date], expected: date) -> None:
    assert add_working_days(start, days, holidays) == expected


@pytest.mark.parametrize("first,last,holidays,expected", [
    (date(2026, 11, 2), date(2026, 11, 2), NONE, 0),
    (date(2026, 11, 2), date(2026, 11, 9), NONE, 5),
    (date(2026, 11, 6), date(2026, 11, 8), NONE, 0),      # Friday to Sunday
    (date(2026, 10, 16), date(2026, 10, 26), AUTUMN, 1),
    (date(2026, 11, 9), date(2026, 11, 2), NONE, 0),      # backwards
])
def test_counting_working_days(first: date, last: date, holidays: frozenset[date], expected: int) -> None:
    assert working_days_between(first, last, holidays) == expected


def test_a_deadline_ends_at_midnight_school_time_in_summer_and_winter() -> None:
    # Opened Friday evening in winter (CET, UTC+1): 1 working day -> Monday, ends 23:59:59.999 CET = 22:59:59.999 UTC
    due = deadline(datetime(2026, 11, 6, 19, 0, tzinfo=UTC), 1, NONE)
    assert due == datetime(2026, 11, 9, 22, 59, 59, 999000, tzinfo=UTC)
    # 23:30 UTC on a Friday in summer is already Saturday in Amsterdam (CEST): the term starts from Saturday
    due = deadline(datetime(2026, 6, 5, 23, 30, tzinfo=UTC), 1, NONE)
    assert due == datetime(2026, 6, 8, 21, 59, 59, 999000, tzinfo=UTC)
    assert local_date(datetime(2026, 6, 5, 23, 30, tzinfo=UTC)) == date(2026, 6, 6)


def test_within_a_term() -> None:
    result = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # Monday
    assert within(result, datetime(2026, 11, 23, 22, 0, tzinfo=UTC), 15, NONE)
    assert not within(result, datetime(2026, 11, 23, 23, 0, tzinfo=UTC), 15, NONE)  # past midnight CET
    # the last microseconds of the day still count, though the stored deadline is its last millisecond
    assert within(result, datetime(2026, 11, 23, 22, 59, 59, 999999, tzinfo=UTC), 15, NONE)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 11, 2), -1, NONE)


days_strategy = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 1, 1))
holiday_sets = st.frozensets(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)), max_size=60)


@given(days_strategy, st.integers(min_value=0, max_value=60), holiday_sets)
def test_the_deadline_is_a_working_day_exactly_n_working_days_later(start: date, n: int,
                                                                   holidays: frozenset[date]) -> None:
    due = add_working_days(start, n, holidays)
    assert due >= start
    assert working_days_between(start, due, holidays) == n
    if n:
        assert is_working_day(due, holidays)
        assert due.weekday() < 5 and due not in holidays


@given(days_strategy, st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=40), holiday_sets)
def test_terms_add_up(start: date, a: int, b: int, holidays: frozenset[date]) -> None:
    assert add_working_days(add_working_days(start, a, holidays), b, holidays) == \
        add_working_days(start, a + b, holidays)


@given(days_strategy, st.integers(min_value=1, max_value=40), holiday_sets)
def test_holidays_only_ever_push_a_deadline_later(start: date, n: int, holidays: frozenset[date]) -> None:
    without = add_working_days(start, n, NONE)
    with_holidays = add_working_days(start, n, holidays)
    assert with_holidays >= without
    # a term of n working days spans at least n and at most n + weekends + holidays calendar days
    assert (without - start).days <= n + 2 * (n // 5 + 1)


@given(st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2098, 1, 1), timezones=st.just(UTC)),
       st.integers(min_value=0, max_value=30))
@example(datetime(2001, 1, 1, 22, 59, 59, 999001, tzinfo=UTC), 0)  # after the stored last millisecond, same day
def test_a_deadline_is_the_last_millisecond_of_a_school_day(start: datetime, n: int) -> None:
    due = deadline(start, n, NONE)
    assert local_date(due) >= local_date(start)
    assert within(start, start, n, NONE) and within(start, due, n, NONE)
    assert not within(start, due + timedelta(milliseconds=1), n, NONE)
    assert local_date(due) != local_date(due + timedelta(milliseconds=1))
