"""Schedule expressions of EventBridge rules: ``rate(5 minutes)`` and AWS's 6-field cron.

Pure: :func:`parse` checks an expression (raising ValidationException with AWS's message)
and returns a :class:`Schedule` whose ``next_after(t)`` is the next fire time strictly after
``t`` (epoch seconds, UTC, whole minutes for cron).

AWS cron: ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``; one of day-of-month and
day-of-week must be ``?``; day-of-week counts 1-7 from SUN; ``L`` (last day / last weekday
``5L``), ``W`` (nearest weekday, ``LW``) and ``#`` (``3#2``, second Tuesday) as AWS documents.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from engine.errors import ValidationException

INVALID = "Parameter ScheduleExpression is not valid."
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i for i, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}
_DAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
_YEARS = (1970, 2199)
_HORIZON_YEARS = 200  # how far next_after looks before saying "never"


class Schedule:
    expression: str

    def next_after(self, moment: float) -> float | None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Rate(Schedule):
    expression: str
    seconds: int

    def next_after(self, moment: float) -> float:
        return moment + self.seconds

    def next_tick(self, previous: float, now: float) -> float:
        """The first tick of this rate after ``now`` on the grid that ``previous`` is on."""
        missed = max(0, int((now - previous) // self.seconds))
        tick = previous + (missed + 1) * self.seconds
        return tick if tick > now else tick + self.seconds


def parse(expression: str) -> Schedule:
    """A rate or cron schedule; ValidationException (AWS's message) when it is not one."""
    if not isinstance(expression, str):
        raise ValidationException(INVALID)
    expression = expression.strip()
    if expression.startswith("rate("):
        return _rate(expression)
    if expression.startswith("cron(") and expression.endswith(")"):
        return Cron.parse(expression)
    raise ValidationException(INVALID)


def _rate(expression: str) -> Rate:
    found = _RATE.match(expression)
    if not found:
        raise ValidationException(INVALID)
    value, unit = int(found.group(1)), found.group(2)
    singular = not unit.endswith("s")
    if value <= 0 or (value == 1) != singular:  # AWS: "rate(1 minute)", "rate(5 minutes)"
        raise ValidationException(INVALID)
    return Rate(expression, value * _UNIT_SECONDS[unit.rstrip("s")])


# --- cron ---------------------------------------------------------------------------------------
DayTest = Callable[[int, int, int], bool]  # (year, month, day) -> fires that day?


@dataclass(frozen=True)
class Cron(Schedule):
    expression: str
    minutes: frozenset
    hours: frozenset
    months: frozenset
    years: frozenset
    day: DayTest

    @classmethod
    def parse(cls, expression: str) -> "Cron":
        fields = expression[len("cron("):-1].split()
        if len(fields) != 6:
            raise ValidationException(INVALID)
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):  # exactly one of the two is '?'
            raise ValidationException(INVALID)
        day = _dom_test(dom) if dow == "?" else _dow_test(dow)
        return cls(expression, _values(minute, 0, 59), _values(hour, 0, 23),
                   _values(month, 1, 12, _MONTHS), _values(year, *_YEARS), day)

    def next_after(self, moment: float) -> float | None:
        start = datetime.fromtimestamp(moment, timezone.utc).replace(second=0, microsecond=0)
        start += timedelta(minutes=1)
        day = start.date()
        last = date(min(start.year + _HORIZON_YEARS, _YEARS[1]), 12, 31)
        while day <= last:
            if day.year not in self.years:
                day = date(day.year + 1, 1, 1)
                continue
            if day.month not in self.months:
                day = _first_of_next_month(day)
                continue
            if self.day(day.year, day.month, day.day):
                found = self._time_on(day, start)
                if found is not None:
                    return found
            day += timedelta(days=1)
        return None

    def _time_on(self, day: date, start: datetime) -> float | None:
        earliest = (start.hour, start.minute) if day == start.date() else (0, 0)
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                if (hour, minute) >= earliest:
                    return datetime(day.year, day.month, day.day, hour, minute,
                                    tzinfo=timezone.utc).timestamp()
        return None


def _first_of_next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _number(text: str, low: int, high: int, names: dict | None = None) -> int:
    value = (names or {}).get(text.upper())
    if value is None:
        if not text.isdigit():
            raise ValidationException(INVALID)
        value = int(text)
    if not low <= value <= high:
        raise ValidationException(INVALID)
    return value


def _values(field: str, low: int, high: int, names: dict | None = None) -> frozenset:
    """The values of a list of ``*``, ``N``, ``A-B`` and ``X/STEP`` items."""
    values: set[int] = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = _number(step_text, 1, high) if slash else 1
        if base == "*":
            first, end = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, end = _number(a, low, high, names), _number(b, low, high, names)
        else:
            first = _number(base, low, high, names)
            end = high if slash else first
        if first > end:
            raise ValidationException(INVALID)
        values.update(range(first, end + 1, step))
    return frozenset(values)


def _dom_test(field: str) -> DayTest:
    if field == "L":
        return lambda y, m, d: d == calendar.monthrange(y, m)[1]
    if field == "LW":
        return lambda y, m, d: d == _nearest_weekday(y, m, calendar.monthrange(y, m)[1])
    if field.endswith("W"):
        target = _number(field[:-1], 1, 31)
        return lambda y, m, d: target <= calendar.monthrange(y, m)[1] \
            and d == _nearest_weekday(y, m, target)
    days = _values(field, 1, 31)
    return lambda y, m, d: d in days


def _nearest_weekday(year: int, month: int, day: int) -> int:
    """Quartz's W: the weekday nearest ``day`` without leaving the month."""
    weekday = date(year, month, day).weekday()  # Monday 0 .. Sunday 6
    if weekday < 5:
        return day
    last = calendar.monthrange(year, month)[1]
    if weekday == 5:  # Saturday: Friday before, or Monday after on the 1st
        return day - 1 if day > 1 else day + 2
    return day + 1 if day < last else day - 2  # Sunday


def _aws_weekday(year: int, month: int, day: int) -> int:
    return (date(year, month, day).weekday() + 1) % 7 + 1  # SUN=1 .. SAT=7


def _dow_test(field: str) -> DayTest:
    if "#" in field:
        weekday_text, _, nth_text = field.partition("#")
        weekday, nth = _number(weekday_text, 1, 7, _DAYS), _number(nth_text, 1, 5)
        return lambda y, m, d: _aws_weekday(y, m, d) == weekday and (d - 1) // 7 + 1 == nth
    if field == "L":
        field = "7L"  # Quartz: a bare L is the last Saturday
    if field.endswith("L"):
        weekday = _number(field[:-1], 1, 7, _DAYS)
        return lambda y, m, d: _aws_weekday(y, m, d) == weekday \
            and d + 7 > calendar.monthrange(y, m)[1]
    days = _values(field, 1, 7, _DAYS)
    return lambda y, m, d: _aws_weekday(y, m, d) in days
