"""Working-day calendar: official arrangements, estimates, local rules, time-limit counting.

Pure tests: no database, so none of conftest's database fixtures are used.
Expected dates are worked out by hand from the State Council's published
arrangements; the reasoning is written next to each one.
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import chinese_calendar
import pytest
from lunar_python import Lunar

from engine.calendar import (
    SHANGHAI,
    DayRule,
    Deadline,
    WorkingCalendar,
    YearArrangement,
    estimated_holidays,
    parse_arrangement,
)

# A MADE-UP arrangement for 2027, shaped like a real notice (春节 from 除夕,
# 国庆节 7 days, make-up workdays on weekends). It is not the official 2027
# arrangement, which had not been published when this was written.
SAMPLE_2027 = Path(__file__).parent / "data" / "calendar" / "2027-sample.json"

UTC = timezone.utc


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


@pytest.fixture
def sample_2027() -> YearArrangement:
    return parse_arrangement(SAMPLE_2027.read_text(encoding="utf-8"))


# --- National Day 2025 -------------------------------------------------------
# Official 2025 arrangement: Oct 1-8 off (国庆节 + 中秋); Sun Sep 28 and Sat Oct 11
# are make-up workdays (调休上班). Starting Fri Sep 26 (not counted):
#   Sat 27 off, Sun 28 = 1, Mon 29 = 2, Tue 30 = 3, Oct 1-8 off,
#   Thu Oct 9 = 4, Fri Oct 10 = 5, Sat Oct 11 = 6 (make-up), Mon Oct 13 = 7.


def test_five_working_days_from_friday_before_national_day_2025(calendar: WorkingCalendar) -> None:
    deadline = calendar.add_working_days(date(2025, 9, 26), 5)

    assert deadline == Deadline(
        day=date(2025, 10, 10), at=datetime(2025, 10, 10, 9, 0, tzinfo=UTC), estimated=False
    )
    assert deadline.at == datetime(2025, 10, 10, 17, 0, tzinfo=SHANGHAI)
    assert deadline.at.tzinfo is UTC


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, date(2025, 9, 28)),
        (2, date(2025, 9, 29)),
        (3, date(2025, 9, 30)),
        (4, date(2025, 10, 9)),
        (5, date(2025, 10, 10)),
        (6, date(2025, 10, 11)),
        (7, date(2025, 10, 13)),
    ],
)
def test_each_step_around_national_day_2025(calendar: WorkingCalendar, n: int, expected: date) -> None:
    assert calendar.add_working_days(date(2025, 9, 26), n).day == expected


# --- Spring Festival 2026 ----------------------------------------------------
# Official 2026 arrangement: Feb 15-23 off; Sat Feb 14 and Sat Feb 28 are
# make-up workdays. Starting Fri Feb 13 (not counted):
#   Sat 14 = 1, Feb 15-23 off, Tue 24 = 2, ..., Fri 27 = 5, Sat 28 = 6, Mon Mar 2 = 7.


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, date(2026, 2, 14)),
        (2, date(2026, 2, 24)),
        (5, date(2026, 2, 27)),
        (6, date(2026, 2, 28)),
        (7, date(2026, 3, 2)),
    ],
)
def test_spring_festival_2026(calendar: WorkingCalendar, n: int, expected: date) -> None:
    deadline = calendar.add_working_days(date(2026, 2, 13), n)
    assert deadline.day == expected
    assert deadline.estimated is False


def test_spring_festival_2026_days(calendar: WorkingCalendar) -> None:
    assert calendar.is_workday(date(2026, 2, 14))  # Saturday, make-up workday
    assert not any(calendar.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert calendar.is_workday(date(2026, 2, 24))


# --- counting rules ----------------------------------------------------------


def test_start_day_is_not_counted(calendar: WorkingCalendar) -> None:
    # Mon 2025-11-10 is a working day, but the period only starts the next day.
    assert calendar.add_working_days(date(2025, 11, 10), 1).day == date(2025, 11, 11)
    assert calendar.add_calendar_days(date(2025, 11, 10), 1).day == date(2025, 11, 11)


def test_start_datetime_uses_the_local_date(calendar: WorkingCalendar) -> None:
    late_monday = datetime(2025, 11, 10, 23, 30, tzinfo=SHANGHAI)
    assert calendar.add_working_days(late_monday, 1).day == date(2025, 11, 11)
    # 17:00 UTC on Monday is 01:00 on Tuesday in Shanghai: Tuesday is the start day.
    assert calendar.add_working_days(datetime(2025, 11, 10, 17, 0, tzinfo=UTC), 1).day == date(2025, 11, 12)


def test_zero_working_days(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(date(2025, 11, 10), 0).day == date(2025, 11, 10)
    assert calendar.add_working_days(date(2025, 11, 15), 0).day == date(2025, 11, 17)  # Saturday
    assert calendar.add_working_days(date(2025, 9, 28), 0).day == date(2025, 9, 28)  # make-up Sunday
    assert calendar.add_working_days(date(2025, 10, 1), 0).day == date(2025, 10, 9)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Sep 23 + 10 = Fri Oct 3, inside the holiday: art. 203 moves it to Thu Oct 9.
        (date(2025, 9, 23), 10, date(2025, 10, 9)),
        # Mon Nov 3 + 7 = Mon Nov 10, a plain working day: no roll-forward.
        (date(2025, 11, 3), 7, date(2025, 11, 10)),
        # Sep 21 + 7 = Sun Sep 28, a make-up workday: it is a working day, no roll-forward.
        (date(2025, 9, 21), 7, date(2025, 9, 28)),
        # Mon Nov 10 + 5 = Sat Nov 15: moves to Mon Nov 17.
        (date(2025, 11, 10), 5, date(2025, 11, 17)),
        # Thu Feb 12 2026 + 3 = Sun Feb 15, first day of Spring Festival: moves to Tue Feb 24.
        (date(2026, 2, 12), 3, date(2026, 2, 24)),
    ],
)
def test_calendar_day_periods_roll_forward(
    calendar: WorkingCalendar, start: date, n: int, expected: date
) -> None:
    deadline = calendar.add_calendar_days(start, n)
    assert deadline.day == expected
    assert deadline.at == datetime.combine(expected, time(17, 0), tzinfo=SHANGHAI)


def test_zero_calendar_days_is_the_start_day_or_the_next_working_day(calendar: WorkingCalendar) -> None:
    assert calendar.add_calendar_days(date(2025, 11, 10), 0).day == date(2025, 11, 10)
    assert calendar.add_calendar_days(date(2025, 10, 4), 0).day == date(2025, 10, 9)


# --- working_days_between ----------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2025, 9, 26), date(2025, 10, 10), 5),
        (date(2025, 9, 26), date(2025, 9, 27), 0),  # only a Saturday in between
        (date(2025, 9, 26), date(2025, 9, 28), 1),  # the make-up Sunday counts
        (date(2025, 10, 1), date(2025, 10, 8), 0),  # inside the holiday
        (date(2025, 11, 10), date(2025, 11, 10), 0),
        (date(2026, 2, 13), date(2026, 2, 28), 6),
    ],
)
def test_working_days_between_is_symmetric(
    calendar: WorkingCalendar, start: date, end: date, expected: int
) -> None:
    assert calendar.working_days_between(start, end) == expected
    assert calendar.working_days_between(end, start) == -expected


def test_working_days_between_accepts_aware_datetimes(calendar: WorkingCalendar) -> None:
    start = datetime(2025, 9, 26, 9, 0, tzinfo=SHANGHAI)
    end = datetime(2025, 10, 10, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai
    assert calendar.working_days_between(start, end) == 5


def test_working_days_between_inverts_add_working_days(calendar: WorkingCalendar) -> None:
    # Not for n == 0: from a day off, "the same day" is the next working day, 1 day later.
    # Starts on a weekday, a weekend, a make-up workday and inside a holiday.
    for start in (date(2025, 9, 26), date(2025, 9, 27), date(2025, 9, 28), date(2026, 2, 18)):
        for n in range(1, 40, 3):
            end = calendar.add_working_days(start, n).day
            assert calendar.working_days_between(start, end) == n, (start, n)


# --- beyond chinesecalendar's data: 2027 -------------------------------------


def test_chinesecalendar_covers_exactly_2004_to_2026() -> None:
    """The calendar's 'official' years depend on this; a new chinesecalendar release changes it."""
    assert chinese_calendar.is_workday(date(2026, 12, 31))
    with pytest.raises(NotImplementedError, match="2027"):
        chinese_calendar.is_workday(date(2027, 1, 4))
    with pytest.raises(NotImplementedError, match="2003"):
        chinese_calendar.is_workday(date(2003, 12, 31))
    assert WorkingCalendar().official_years() == frozenset(range(2004, 2027))


def test_calendar_agrees_with_chinesecalendar_on_every_covered_day(calendar: WorkingCalendar) -> None:
    day = date(2004, 1, 1)
    while day <= date(2026, 12, 31):
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_estimated_holidays_2027() -> None:
    # lunar_python: lunar new year 2027 is Feb 6, so 除夕 (lunar 12/29 that year) is Feb 5.
    assert Lunar.fromYmd(2027, 1, 1).getSolar().toYmd() == "2027-02-06"
    assert estimated_holidays(2027) == {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节",
        date(2027, 2, 6): "春节",
        date(2027, 2, 7): "春节",
        date(2027, 2, 8): "春节",
        date(2027, 4, 5): "清明",
        date(2027, 5, 1): "劳动节",
        date(2027, 5, 2): "劳动节",
        date(2027, 6, 9): "端午",
        date(2027, 9, 15): "中秋",
        date(2027, 10, 1): "国庆节",
        date(2027, 10, 2): "国庆节",
        date(2027, 10, 3): "国庆节",
    }


def test_new_year_eve_on_the_thirtieth_of_the_twelfth_lunar_month() -> None:
    eve = Lunar.fromYmd(2030, 1, 1).next(-1)
    assert (eve.getMonth(), eve.getDay()) == (12, 30)
    assert estimated_holidays(2030)[date(2030, 2, 2)] == "春节"
    assert date(2030, 2, 1) not in estimated_holidays(2030)


def test_holidays_sharing_a_day_keep_both_names() -> None:
    # 中秋 2031 is Oct 1: 12 distinct days, one with both names.
    holidays = estimated_holidays(2031)
    assert len(holidays) == 12
    assert "中秋" in holidays[date(2031, 10, 1)] and "国庆节" in holidays[date(2031, 10, 1)]


@pytest.mark.parametrize("year", [2025, 2026])
def test_estimate_is_within_the_official_days_off(year: int) -> None:
    """2025 and 2026 are published under the revised rules the estimate follows."""
    for day, name in estimated_holidays(year).items():
        assert not chinese_calendar.is_workday(day), (day, name)


def test_deadline_reaching_into_2027_is_estimated(calendar: WorkingCalendar) -> None:
    # Mon 2026-12-28: Dec 29, 30, 31 = 1-3 (official); 2027 estimate: Jan 1 元旦,
    # Jan 2-3 weekend, Jan 4-8 = 4-8, Jan 11-12 = 9-10.
    within_2026 = calendar.add_working_days(date(2026, 12, 28), 3)
    assert within_2026.day == date(2026, 12, 31)
    assert within_2026.estimated is False

    into_2027 = calendar.add_working_days(date(2026, 12, 28), 10)
    assert into_2027.day == date(2027, 1, 12)
    assert into_2027.estimated is True
    assert calendar.add_calendar_days(date(2026, 12, 28), 10).estimated is True
    assert not calendar.is_official(date(2027, 1, 4))
    assert calendar.is_official(date(2026, 12, 31))


def test_spring_festival_2027_estimated_then_loaded(
    calendar: WorkingCalendar, sample_2027: YearArrangement
) -> None:
    # Estimate: Feb 5-8 off (除夕 + lunar 1/1-1/3, two of them a weekend), no make-up
    # workdays. From Thu Feb 4: Tue Feb 9 = 1, Wed 10 = 2, Thu 11 = 3.
    estimated = calendar.add_working_days(date(2027, 2, 4), 3)
    assert (estimated.day, estimated.estimated) == (date(2027, 2, 11), True)

    # Sample arrangement: Feb 5-13 off, Sun Feb 14 a make-up workday.
    # From Thu Feb 4: Sun Feb 14 = 1, Mon 15 = 2, Tue 16 = 3.
    loaded = WorkingCalendar(arrangements={2027: sample_2027})
    deadline = loaded.add_working_days(date(2027, 2, 4), 3)
    assert (deadline.day, deadline.estimated) == (date(2027, 2, 16), False)
    assert loaded.add_working_days(date(2027, 2, 4), 1).day == date(2027, 2, 14)
    assert loaded.add_working_days(date(2026, 12, 28), 10).estimated is False
    assert loaded.is_official(date(2027, 1, 4))
    assert 2027 in loaded.official_years()
    assert 2028 not in loaded.official_years()


def test_loaded_arrangement_wins_over_chinesecalendar() -> None:
    # A (fictional) correction to 2026: Mon Jun 22 off, Sun Jun 28 a make-up workday.
    corrected = YearArrangement(
        year=2026,
        holidays=frozenset({date(2026, 6, 22)}),
        workdays=frozenset({date(2026, 6, 28)}),
    )
    calendar = WorkingCalendar(arrangements={2026: corrected})
    assert not calendar.is_workday(date(2026, 6, 22))
    assert calendar.is_workday(date(2026, 6, 28))
    # Only the loaded data counts for that year: chinesecalendar's Spring Festival is gone.
    assert calendar.is_workday(date(2026, 2, 16))


# --- local rules -------------------------------------------------------------


def test_center_closure_on_a_workday() -> None:
    closure = DayRule(date(2025, 11, 12), workday=False, note="停电检修 power maintenance")
    calendar = WorkingCalendar(local_rules=[closure])
    assert not calendar.is_workday(date(2025, 11, 12))
    # From Mon Nov 10: Tue 11 = 1, Wed 12 closed, Thu 13 = 2.
    assert calendar.add_working_days(date(2025, 11, 10), 2).day == date(2025, 11, 13)
    assert calendar.end_of_working_day(date(2025, 11, 12)) == datetime(2025, 11, 13, 9, 0, tzinfo=UTC)


def test_special_workday_on_a_saturday() -> None:
    opening = DayRule(date(2025, 11, 15), workday=True, note="周六专场 Saturday service day")
    calendar = WorkingCalendar(local_rules=[opening])
    assert calendar.add_working_days(date(2025, 11, 14), 1).day == date(2025, 11, 15)
    assert calendar.working_days_between(date(2025, 11, 14), date(2025, 11, 17)) == 2


def test_local_rules_win_over_every_source(sample_2027: YearArrangement) -> None:
    rules = [
        DayRule(date(2025, 10, 8), workday=True),  # official holiday (chinesecalendar)
        DayRule(date(2027, 2, 8), workday=True),  # holiday in the loaded arrangement
        DayRule(date(2028, 1, 3), workday=False),  # estimated year
    ]
    calendar = WorkingCalendar(arrangements={2027: sample_2027}, local_rules=rules)
    assert calendar.is_workday(date(2025, 10, 8))
    assert calendar.is_workday(date(2027, 2, 8))
    assert not calendar.is_workday(date(2028, 1, 3))
    # The center's own decision is not an estimate, even in an estimated year.
    assert calendar.is_official(date(2028, 1, 3))
    assert not calendar.is_official(date(2028, 1, 4))


def test_two_rules_for_one_day_are_refused() -> None:
    rules = [DayRule(date(2025, 11, 12), workday=False), DayRule(date(2025, 11, 12), workday=True)]
    with pytest.raises(ValueError, match="two rules for 2025-11-12"):
        WorkingCalendar(local_rules=rules)


# --- end of day, close time, time zone ---------------------------------------


def test_end_of_working_day(calendar: WorkingCalendar) -> None:
    assert calendar.end_of_working_day(date(2025, 11, 10)) == datetime(2025, 11, 10, 9, 0, tzinfo=UTC)
    assert calendar.end_of_working_day(date(2025, 10, 1)) == datetime(2025, 10, 9, 9, 0, tzinfo=UTC)
    late = datetime(2025, 11, 10, 20, 0, tzinfo=UTC)  # already Tuesday in Shanghai
    assert calendar.end_of_working_day(late) == datetime(2025, 11, 11, 9, 0, tzinfo=UTC)


def test_custom_close_time() -> None:
    calendar = WorkingCalendar(close_time=time(16, 30))
    assert calendar.add_working_days(date(2025, 9, 26), 5).at == datetime(2025, 10, 10, 8, 30, tzinfo=UTC)


def test_next_working_day(calendar: WorkingCalendar) -> None:
    assert calendar.next_working_day(date(2025, 9, 26)) == date(2025, 9, 28)
    assert calendar.next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)
    assert calendar.next_working_day(date(2025, 11, 10)) == date(2025, 11, 11)


# --- refused input -----------------------------------------------------------


def test_naive_datetimes_are_refused(calendar: WorkingCalendar) -> None:
    naive = datetime(2025, 11, 10, 9, 0)
    calls = [
        lambda: calendar.add_working_days(naive, 1),
        lambda: calendar.add_calendar_days(naive, 1),
        lambda: calendar.working_days_between(naive, date(2025, 11, 20)),
        lambda: calendar.working_days_between(date(2025, 11, 1), naive),
        lambda: calendar.end_of_working_day(naive),
        lambda: calendar.is_workday(naive),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="naive datetime"):
            call()


def test_negative_periods_are_refused(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        calendar.add_working_days(date(2025, 11, 10), -1)
    with pytest.raises(ValueError, match="must not be negative"):
        calendar.add_calendar_days(date(2025, 11, 10), -1)
    with pytest.raises(TypeError, match="must be an int"):
        calendar.add_working_days(date(2025, 11, 10), 1.5)  # type: ignore[arg-type]


def test_constructor_checks(sample_2027: YearArrangement) -> None:
    with pytest.raises(ValueError, match=r"arrangements\[2028\]"):
        WorkingCalendar(arrangements={2028: sample_2027})
    with pytest.raises(ValueError, match="close_time"):
        WorkingCalendar(close_time=time(17, 0, tzinfo=UTC))


# --- parse_arrangement -------------------------------------------------------


def test_sample_arrangement_parses(sample_2027: YearArrangement) -> None:
    assert sample_2027.year == 2027
    assert len(sample_2027.holidays) == 3 + 9 + 3 + 5 + 1 + 1 + 7
    assert sample_2027.workdays == frozenset(
        {date(2027, 1, 31), date(2027, 2, 14), date(2027, 5, 8), date(2027, 9, 26), date(2027, 10, 9)}
    )
    assert sample_2027.names[date(2027, 2, 5)] == "春节"
    assert hash(sample_2027) == hash(parse_arrangement(SAMPLE_2027.read_text(encoding="utf-8")))


def _arrangement(**changes: object) -> str:
    doc: dict[str, object] = {
        "year": 2027,
        "holidays": [{"name": "春节", "from": "2027-02-05", "to": "2027-02-11"}],
        "workdays": ["2027-02-14"],
    }
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False)


def _holiday(name: object = "春节", start: object = "2027-02-05", end: object = "2027-02-11") -> dict:
    return {"name": name, "from": start, "to": end}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"not valid JSON"),
        ("[]", r"arrangement: expected a JSON object, got list"),
        (_arrangement(note="made up"), r"arrangement: unknown key 'note'"),
        (json.dumps({"year": 2027, "holidays": []}), r"arrangement: missing key 'workdays'"),
        (_arrangement(year="2027"), r"year: '2027' is not a year"),
        (_arrangement(year=True), r"year: True is not a year"),
        (_arrangement(holidays={"春节": "2027-02-05"}), r"holidays: expected a JSON list, got dict"),
        (_arrangement(holidays=[{"name": "春节", "from": "2027-02-05"}]), r"holidays\[0\]: missing key 'to'"),
        (_arrangement(holidays=[{**_holiday(), "days": 7}]), r"holidays\[0\]: unknown key 'days'"),
        (_arrangement(holidays=[_holiday(name=" ")]), r"holidays\[0\]\.name: ' ' is not a non-empty string"),
        (
            _arrangement(holidays=[_holiday(start="2027/02/05")]),
            r"holidays\[0\]\.from: '2027/02/05' is not a date in YYYY-MM-DD form",
        ),
        (
            _arrangement(holidays=[_holiday(end="2027-02-30")]),
            r"holidays\[0\]\.to: '2027-02-30' is not a valid date",
        ),
        (_arrangement(holidays=[_holiday(start=20270205)]), r"holidays\[0\]\.from: 20270205 is not a date"),
        (
            _arrangement(holidays=[_holiday(start="2027-02-11", end="2027-02-05")]),
            r"holidays\[0\]: from 2027-02-11 is after to 2027-02-05",
        ),
        (
            _arrangement(holidays=[_holiday(name="元旦", start="2026-12-31", end="2027-01-02")]),
            r"holidays\[0\]\.from: 2026-12-31 is outside 2027",
        ),
        (
            _arrangement(holidays=[_holiday(), _holiday(name="元宵", start="2027-02-11", end="2027-02-11")]),
            r"holidays\[1\]: 2027-02-11 is already a holiday \(春节\)",
        ),
        (_arrangement(workdays="2027-02-14"), r"workdays: expected a JSON list, got str"),
        (
            _arrangement(workdays=["2027-02-15"]),
            r"workdays\[0\]: 2027-02-15 is a Monday; a make-up workday \(调休上班\) must be a Saturday or Sunday",
        ),
        (
            _arrangement(workdays=["2027-02-06"]),
            r"workdays\[0\]: 2027-02-06 is also listed as a holiday \(春节\)",
        ),
        (_arrangement(workdays=["2027-02-14", "2027-02-14"]), r"workdays\[1\]: 2027-02-14 is listed twice"),
        (_arrangement(workdays=["2028-01-08"]), r"workdays\[0\]: 2028-01-08 is outside 2027"),
    ],
)
def test_parse_arrangement_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_arrangement(text)


def test_year_arrangement_checks_direct_construction() -> None:
    with pytest.raises(ValueError, match="workdays: 2027-02-15 is a Monday"):
        YearArrangement(year=2027, holidays=frozenset(), workdays=frozenset({date(2027, 2, 15)}))
    with pytest.raises(ValueError, match="holidays: 2026-12-31 is outside 2027"):
        YearArrangement(year=2027, holidays=frozenset({date(2026, 12, 31)}), workdays=frozenset())
    with pytest.raises(ValueError, match="2027-02-06 is listed both as a holiday and as a workday"):
        both = frozenset({date(2027, 2, 6)})
        YearArrangement(year=2027, holidays=both, workdays=both)
    with pytest.raises(ValueError, match="names: 2027-03-01 is neither a holiday nor a workday"):
        YearArrangement(year=2027, holidays=frozenset(), workdays=frozenset(), names={date(2027, 3, 1): "x"})
    with pytest.raises(ValueError, match=r"holidays: .* is not a date"):
        YearArrangement(year=2027, holidays=frozenset({datetime(2027, 2, 6)}), workdays=frozenset())


def test_year_arrangement_is_immutable(sample_2027: YearArrangement) -> None:
    with pytest.raises(TypeError):
        sample_2027.names[date(2027, 2, 5)] = "changed"  # type: ignore[index]
