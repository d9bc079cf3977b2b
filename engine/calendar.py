"""Working-day calendar for statutory time limits (办理时限).

Service-center time limits are counted in working days (工作日), and which days
are working days is decided each year by the State Council's published holiday
arrangement (国务院办公厅放假安排), which moves weekends around: some weekend
days become make-up workdays (调休上班) so that holidays can be joined into
longer breaks. A plain "Monday to Friday minus holidays" rule is therefore
wrong several times a year, so this module layers its sources (see
``WorkingCalendar``) and says when an answer is only an estimate.

The module is pure: no database, no web framework, no clock. Callers pass in
the arrangements and local rules they hold and get back dates and aware UTC
datetimes, which is what the engine stores.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from lunar_python import Lunar, Solar

__all__ = [
    "SHANGHAI",
    "DayRule",
    "YearArrangement",
    "parse_arrangement",
    "estimated_holidays",
    "Deadline",
    "WorkingCalendar",
    "MAX_PERIOD_DAYS",
    "MAX_SPAN_DAYS",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")

_ONE_DAY = timedelta(days=1)
_SATURDAY = 5
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOP_KEYS = ("year", "holidays", "workdays")
_HOLIDAY_KEYS = ("name", "from", "to")
_EMPTY_ARRANGEMENTS: Mapping[int, YearArrangement] = MappingProxyType({})
# The longest official break is 9 days; a gap of a year means the data is broken,
# and stopping beats looping until date.max.
_MAX_GAP_DAYS = 366
#: The longest period counted (working or natural days). The longest statutory limit is 45 + 15
#: working days; ten years of days leaves room for any promise or validity while a count stays a
#: matter of milliseconds, where 10**20 days would count until the year 9999 (about a minute).
MAX_PERIOD_DAYS = 3650
#: The longest span ``working_days_between`` counts, in natural days (a century: every year beyond
#: the published ones is estimated at about 5 ms, so a count stays under a second).
MAX_SPAN_DAYS = 36_525

# chinesecalendar refuses (NotImplementedError) any date outside the years its
# data spans; it decides that span from its own holiday table, and so do we.
_CHINESE_CALENDAR_YEARS = range(
    min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year + 1
)


@dataclass(frozen=True)
class DayRule:
    """A local override for one day, e.g. a center closure or a special Saturday opening.

    Local rules win over every official source because the center, not the
    State Council, decides when its own doors are open.
    """

    day: date
    workday: bool
    note: str = ""

    def __post_init__(self) -> None:
        _require_plain_date(self.day, "DayRule.day")


@dataclass(frozen=True)
class YearArrangement:
    """The State Council's published arrangement for one year (国务院办公厅放假安排).

    Only the exceptions are stored: every other day is a workday exactly when
    it is Monday to Friday. ``names`` is informational and left out of the hash.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    names: Mapping[date, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Accept any iterable/mapping but store immutable ones, so an arrangement
        # shared between calendars cannot be changed behind their backs.
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))
        object.__setattr__(self, "names", MappingProxyType(dict(self.names)))
        _check_arrangement(self)

    def is_workday(self, day: date) -> bool:
        """Mirror chinesecalendar's rule so that every source is read the same way."""
        return day in self.workdays or (day.weekday() < _SATURDAY and day not in self.holidays)


def _check_arrangement(arrangement: YearArrangement) -> None:
    """Refuse arrangements that cannot be official, whoever built them."""
    year = arrangement.year
    if isinstance(year, bool) or not isinstance(year, int) or not MINYEAR < year < MAXYEAR:
        raise ValueError(f"year: {year!r} is not a year between {MINYEAR + 1} and {MAXYEAR - 1}")
    for day in sorted(arrangement.holidays):
        _require_plain_date(day, "holidays")
        _require_in_year(day, year, "holidays")
    for day in sorted(arrangement.workdays):
        _require_plain_date(day, "workdays")
        _require_in_year(day, year, "workdays")
        _require_weekend(day, "workdays")
    both = sorted(arrangement.holidays & arrangement.workdays)
    if both:
        raise ValueError(f"{both[0].isoformat()} is listed both as a holiday and as a workday")
    unnamed = sorted(set(arrangement.names) - arrangement.holidays - arrangement.workdays)
    if unnamed:
        raise ValueError(f"names: {unnamed[0].isoformat()} is neither a holiday nor a workday of {year}")


def _require_plain_date(day: object, where: str) -> None:
    # datetime is a subclass of date; letting one in would compare unequal to the
    # date of the same day and silently never match.
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"{where}: {day!r} is not a date")


def _require_in_year(day: date, year: int, where: str) -> None:
    if day.year != year:
        raise ValueError(
            f"{where}: {day.isoformat()} is outside {year}; days of another year belong in "
            f"that year's arrangement or in a local rule"
        )


def _require_weekend(day: date, where: str) -> None:
    if day.weekday() < _SATURDAY:
        raise ValueError(
            f"{where}: {day.isoformat()} is a {_WEEKDAY_NAMES[day.weekday()]}; a make-up workday "
            f"(调休上班) must be a Saturday or Sunday"
        )


# --- parsing -----------------------------------------------------------------


def parse_arrangement(text: str) -> YearArrangement:
    """Read an arrangement an administrator typed in from the published notice.

    The data is hand-copied, so every mistake is refused with a message that
    names the field and value rather than producing a subtly wrong calendar.
    Format::

        {"year": 2027,
         "holidays": [{"name": "春节", "from": "2027-02-05", "to": "2027-02-11"}, ...],
         "workdays": ["2027-02-14", ...]}
    """
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"arrangement is not valid JSON: {exc}") from None
    top = _expect_object(raw, "arrangement", _TOP_KEYS)
    year = _parse_year(top["year"])
    names = _parse_holidays(top["holidays"], year)
    workdays = _parse_workdays(top["workdays"], year, names)
    return YearArrangement(year=year, holidays=frozenset(names), workdays=workdays, names=names)


def _expect_object(value: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(value).__name__}")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        allowed = ", ".join(repr(k) for k in keys)
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; allowed keys are {allowed}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"{where}: missing key {missing[0]!r}")
    return value


def _expect_list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a JSON list, got {type(value).__name__}")
    return value


def _parse_year(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MINYEAR < value < MAXYEAR:
        raise ValueError(f"year: {value!r} is not a year")
    return value


def _parse_day(value: Any, where: str, year: int) -> date:
    # fromisoformat alone would also take "20270205" or week dates; insist on
    # the one spelling the published notices translate to.
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise ValueError(f"{where}: {value!r} is not a date in YYYY-MM-DD form")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a valid date") from None
    _require_in_year(day, year, where)
    return day


def _parse_holidays(value: Any, year: int) -> dict[date, str]:
    names: dict[date, str] = {}
    for index, item in enumerate(_expect_list(value, "holidays")):
        where = f"holidays[{index}]"
        entry = _expect_object(item, where, _HOLIDAY_KEYS)
        name = entry["name"]
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}.name: {name!r} is not a non-empty string")
        first = _parse_day(entry["from"], f"{where}.from", year)
        last = _parse_day(entry["to"], f"{where}.to", year)
        if first > last:
            raise ValueError(f"{where}: from {first.isoformat()} is after to {last.isoformat()}")
        for day in _days(first, last):
            if day in names:
                raise ValueError(f"{where}: {day.isoformat()} is already a holiday ({names[day]})")
            names[day] = name.strip()
    return names


def _parse_workdays(value: Any, year: int, holidays: Mapping[date, str]) -> frozenset[date]:
    seen: set[date] = set()
    for index, item in enumerate(_expect_list(value, "workdays")):
        where = f"workdays[{index}]"
        day = _parse_day(item, where, year)
        _require_weekend(day, where)
        if day in holidays:
            raise ValueError(f"{where}: {day.isoformat()} is also listed as a holiday ({holidays[day]})")
        if day in seen:
            raise ValueError(f"{where}: {day.isoformat()} is listed twice")
        seen.add(day)
    return frozenset(seen)


# --- estimates ---------------------------------------------------------------


def estimated_holidays(year: int) -> dict[date, str]:
    """Statutory holidays for a year whose arrangement is not yet published.

    Follows the 2025 revision of 全国年节及纪念日放假办法 (13 days). It is
    deliberately the minimum the law fixes: the State Council's 调休 (moved
    weekends), make-up workdays and substitute days off (补假) for holidays
    that fall on a weekend are not guessed, so an estimated deadline tends to
    be early rather than late. Where two holidays share a day (中秋 on 1 Oct)
    the names are joined.
    """
    holidays: dict[date, str] = {}
    for day, name in _statutory_days(year):
        holidays[day] = f"{holidays[day]}、{name}" if day in holidays else name
    return holidays


def _statutory_days(year: int) -> Iterator[tuple[date, str]]:
    new_year = _lunar_to_solar(year, 1, 1)
    yield date(year, 1, 1), "元旦"
    # 除夕 is the eve of lunar new year: lunar 12/29 or 12/30 depending on the month's length.
    for offset in range(-1, 3):
        yield new_year + timedelta(days=offset), "春节"
    yield _qingming(year), "清明"
    yield date(year, 5, 1), "劳动节"
    yield date(year, 5, 2), "劳动节"
    yield _lunar_to_solar(year, 5, 5), "端午"
    yield _lunar_to_solar(year, 8, 15), "中秋"
    for day in (1, 2, 3):
        yield date(year, 10, day), "国庆节"


def _lunar_to_solar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    # The solar-term table of a lunar date spans the terms around it; mid-April
    # always sits in the lunar year whose 清明 falls in this Gregorian year.
    term = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"]
    return date(term.getYear(), term.getMonth(), term.getDay())


# --- calendar ----------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """The end of a time limit, and whether it rests on a guessed holiday arrangement.

    ``estimated`` lets callers show "预计" and recompute once the year's
    arrangement is loaded.
    """

    day: date
    at: datetime
    estimated: bool


@dataclass(frozen=True)
class _Year:
    workdays: frozenset[date]
    official: bool


class WorkingCalendar:
    """Answers "is this a working day" and counts time limits.

    Precedence for a day: local rule > arrangement loaded by an administrator
    for that year > chinesecalendar (official, for the years its data covers)
    > estimate (weekends + ``estimated_holidays``). Per-year sets are built
    lazily and kept on the instance, so a calendar should be built once per
    change of its inputs and reused.
    """

    def __init__(
        self,
        *,
        arrangements: Mapping[int, YearArrangement] = _EMPTY_ARRANGEMENTS,
        local_rules: Iterable[DayRule] = (),
        close_time: time = time(17, 0),
        tz: ZoneInfo = SHANGHAI,
    ) -> None:
        if close_time.tzinfo is not None:
            raise ValueError("close_time must be a naive local time; the zone is given by tz")
        self._arrangements = _index_arrangements(arrangements)
        self._rules = _index_rules(local_rules)
        self._close_time = close_time
        self._tz = tz
        self._years: dict[int, _Year] = {}

    @property
    def tz(self) -> ZoneInfo:
        """The zone whose local dates are counted."""
        return self._tz

    # -- single days

    def is_workday(self, day: date) -> bool:
        return self._works(self._local_date(day))

    def is_official(self, day: date) -> bool:
        """False when the answer for that day is an estimate, so a UI can flag it."""
        local = self._local_date(day)
        return local in self._rules or self._year(local.year).official

    def official_years(self) -> frozenset[int]:
        """Years answered from official data, so an admin can see which arrangement to load next."""
        return frozenset(self._arrangements) | frozenset(_CHINESE_CALENDAR_YEARS)

    def next_working_day(self, day: date) -> date:
        """First working day strictly after ``day``."""
        return self._next_working_day(self._local_date(day))

    def previous_working_day(self, day: date) -> date:
        """Last working day strictly before ``day`` (warnings count back from a deadline)."""
        start = self._local_date(day)
        day = start
        for _ in range(_MAX_GAP_DAYS):
            day -= _ONE_DAY
            if self._works(day):
                return day
        raise ValueError(f"no working day within {_MAX_GAP_DAYS} days before {start.isoformat()}")

    def end_of_working_day(self, day: date | datetime) -> datetime:
        """When a period ending on ``day`` runs out; a day off defers to the next working day."""
        local = self._local_date(day)
        if not self._works(local):
            local = self._next_working_day(local)
        return self._close_at(local)

    # -- periods

    def add_working_days(self, start: date | datetime, n: int) -> Deadline:
        """End of a period of ``n`` working days (工作日).

        Civil Code art. 201: the start day is not counted, so the period ends
        on the n-th working day after it. ``n == 0`` means "the same day",
        which is the start day if it is a working day, else the next one.
        """
        _require_count(n)
        first = self._local_date(start)
        if n == 0:
            return self.add_calendar_days(first, 0)
        day = first
        for _ in range(n):
            day = self._next_working_day(day)
        return self._deadline(day, consulted_from=first + _ONE_DAY)

    def add_calendar_days(self, start: date | datetime, n: int) -> Deadline:
        """End of a period of ``n`` natural days (自然日).

        Art. 201: the start day is not counted. Art. 203: if the last day is
        not a working day, the period ends on the next working day. Only the
        last day and the days rolled over decide the result, so only they can
        make it an estimate.
        """
        _require_count(n)
        try:
            last = self._local_date(start) + timedelta(days=n)
        except OverflowError:
            raise ValueError(f"{n} days after {start} is beyond the last date the calendar counts") from None
        day = last if self._works(last) else self._next_working_day(last)
        return self._deadline(day, consulted_from=last)

    def working_days_between(self, start: date | datetime, end: date | datetime) -> int:
        """Working days ``d`` with ``start < d <= end``; mirrored (negative) when end < start.

        The half-open count matches art. 201, so for ``n >= 1``
        ``add_working_days(s, n).day`` is always ``n`` working days after ``s``.
        """
        first, last = self._local_date(start), self._local_date(end)
        if last < first:
            return -self.working_days_between(last, first)
        if (last - first).days > MAX_SPAN_DAYS:
            raise ValueError(f"from {first.isoformat()} to {last.isoformat()} is more than {MAX_SPAN_DAYS} days; "
                             "the calendar counts spans up to a century")
        return sum(1 for day in _days(first + _ONE_DAY, last) if self._works(day))

    # -- internals

    def _local_date(self, value: date | datetime) -> date:
        # A naive datetime could be UTC (engine) or local (a form); guessing
        # shifts deadlines by a day around midnight, so it is refused.
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"naive datetime {value.isoformat()} refused; pass an aware datetime")
            return value.astimezone(self._tz).date()
        if not isinstance(value, date):
            raise TypeError(f"expected a date or datetime, got {type(value).__name__}")
        return value

    def _works(self, day: date) -> bool:
        return day in self._year(day.year).workdays

    def _next_working_day(self, start: date) -> date:
        day = start
        for _ in range(_MAX_GAP_DAYS):
            if day == date.max:
                raise ValueError(f"no working day after {start.isoformat()} before the end of the calendar")
            day += _ONE_DAY
            if self._works(day):
                return day
        raise ValueError(f"no working day within {_MAX_GAP_DAYS} days after {start.isoformat()}")

    def _close_at(self, day: date) -> datetime:
        return datetime.combine(day, self._close_time, tzinfo=self._tz).astimezone(timezone.utc)

    def _deadline(self, day: date, *, consulted_from: date) -> Deadline:
        estimated = self._any_estimated(consulted_from, day)
        return Deadline(day=day, at=self._close_at(day), estimated=estimated)

    def _any_estimated(self, first: date, last: date) -> bool:
        for year in range(first.year, last.year + 1):
            if self._year(year).official:
                continue
            span = _days(max(first, date(year, 1, 1)), min(last, date(year, 12, 31)))
            if any(day not in self._rules for day in span):
                return True
        return False

    def _year(self, year: int) -> _Year:
        try:
            return self._years[year]
        except KeyError:
            built = self._years[year] = self._build_year(year)
            return built

    def _build_year(self, year: int) -> _Year:
        base, official = self._base_arrangement(year)
        workdays = {day for day in _days(date(year, 1, 1), date(year, 12, 31)) if base.is_workday(day)}
        for day, rule in self._rules.items():
            if day.year != year:
                continue
            if rule.workday:
                workdays.add(day)
            else:
                workdays.discard(day)
        return _Year(workdays=frozenset(workdays), official=official)

    def _base_arrangement(self, year: int) -> tuple[YearArrangement, bool]:
        if year in self._arrangements:
            return self._arrangements[year], True
        if year in _CHINESE_CALENDAR_YEARS:
            return _chinese_calendar_arrangement(year), True
        names = estimated_holidays(year)
        return YearArrangement(year=year, holidays=frozenset(names), workdays=frozenset(), names=names), False


def _chinese_calendar_arrangement(year: int) -> YearArrangement:
    """chinesecalendar's data for one year, read through the same rule as loaded arrangements.

    Reading its exported tables once per year is much cheaper than calling
    ``chinese_calendar.is_workday`` per day, which rescans its table each call.
    """
    holidays = {d: n for d, n in chinese_calendar.holidays.items() if d.year == year}
    workdays = {d: n for d, n in chinese_calendar.workdays.items() if d.year == year}
    names = {d: _chinese_name(n) for d, n in (holidays | workdays).items()}
    return YearArrangement(year=year, holidays=frozenset(holidays), workdays=frozenset(workdays), names=names)


def _chinese_name(english: str) -> str:
    try:
        return str(chinese_calendar.Holiday(english).chinese)
    except ValueError:
        return english


def _index_arrangements(arrangements: Mapping[int, YearArrangement]) -> dict[int, YearArrangement]:
    for year, arrangement in arrangements.items():
        if not isinstance(arrangement, YearArrangement) or arrangement.year != year:
            raise ValueError(f"arrangements[{year!r}] is not the YearArrangement for {year!r}")
    return dict(arrangements)


def _index_rules(rules: Iterable[DayRule]) -> dict[date, DayRule]:
    indexed: dict[date, DayRule] = {}
    for rule in rules:
        if rule.day in indexed:
            raise ValueError(f"local_rules: two rules for {rule.day.isoformat()}")
        indexed[rule.day] = rule
    return indexed


def _require_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    if n > MAX_PERIOD_DAYS:
        raise ValueError(f"a period of {n} days is longer than the {MAX_PERIOD_DAYS} days the calendar counts")


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += _ONE_DAY
