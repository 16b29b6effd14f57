"""The school's calendar: holidays that do not count as working days. Validation is pure; storage in repository."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from exams.cases.workdays import expand
from exams.common import Doc
from kit.errors import Problem, Text, field_error

MAX_HOLIDAYS = 200
MAX_SPAN_DAYS = 92  # the longest school holiday (summer) is about six weeks; a quarter of a year is surely a mistake
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _invalid(field: str, nl: str, en: str) -> Problem:
    return Problem(422, "validation", detail=Text(nl, en), errors=[field_error(field, en)])


def check_holidays(holidays: list[tuple[date, date, str]]) -> list[tuple[date, date, str]]:
    """Holidays sorted by start, or 422 naming the entry: a sane year, end not before start, bounded, no overlap."""
    if len(holidays) > MAX_HOLIDAYS:
        raise _invalid("holidays", f"Hoogstens {MAX_HOLIDAYS} vakanties en vrije dagen.",
                       f"At most {MAX_HOLIDAYS} holidays.")
    for index, (first, last, _) in enumerate(holidays):
        where = f"holidays.{index}"
        for name, day in (("start", first), ("end", last)):
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise _invalid(f"{where}.{name}", f"Kies een datum tussen {FIRST_YEAR} en {LAST_YEAR}.",
                               f"Choose a date between {FIRST_YEAR} and {LAST_YEAR}.")
        if last < first:
            raise _invalid(f"{where}.end", "Het einde ligt voor het begin.", "The end is before the start.")
        if (last - first).days + 1 > MAX_SPAN_DAYS:
            raise _invalid(f"{where}.end", f"Een vakantie duurt hoogstens {MAX_SPAN_DAYS} dagen.",
                           f"A holiday lasts at most {MAX_SPAN_DAYS} days.")
    ordered = sorted(holidays, key=lambda h: (h[0], h[1]))
    for previous, current in pairwise(ordered):
        if current[0] <= previous[1]:
            index, since, until = holidays.index(current), previous[0].isoformat(), previous[1].isoformat()
            raise _invalid(f"holidays.{index}.start", f"Overlapt met de vakantie van {since} tot en met {until}.",
                           f"Overlaps the holiday from {since} to {until}.")
    return ordered


def stored(holidays: list[tuple[date, date, str]]) -> list[Doc]:
    """Holidays as stored (ISO dates: BSON has no plain date)."""
    return [{"start": f.isoformat(), "end": t.isoformat(), "name": n} for f, t, n in holidays]


def holiday_dates(calendar: Doc | None) -> frozenset[date]:
    """Every holiday date of a stored calendar."""
    entries = (calendar or {}).get("holidays", [])
    return expand((date.fromisoformat(h["start"]), date.fromisoformat(h["end"])) for h in entries)
