"""The working-day calendar as the engine uses it: stored overrides, a per-node cache, expression functions.

``engine.calendar`` knows the rules; this module knows where the inputs live.
Administrators load a year's official arrangement (when the State Council
publishes it, around November) and local rules (a center closure, a special
working day) into tables. Every change bumps one revision counter in the same
transaction, so each node rebuilds its cached calendar when — and only when —
the counter moved: no node keeps state that could disagree with another.
"""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, time, tzinfo
from typing import Any, Callable

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit
from .calendar import DayRule, WorkingCalendar, YearArrangement, parse_arrangement
from .context import services
from .errors import InvalidInput, NotFound
from .models import CalendarRevision, CalendarRule, CalendarYear

SESSION_KEY = "onewindow_calendar"
CHANGED_KEY = "onewindow_calendar_changed"


class CalendarCache:
    """The last calendar built on this node, with the revision it was built from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision: int | None = None
        self._calendar: WorkingCalendar | None = None

    def get(self, revision: int, build: Callable[[], WorkingCalendar]) -> WorkingCalendar:
        with self._lock:
            if self._calendar is None or self._revision != revision:
                self._calendar, self._revision = build(), revision
            return self._calendar


def current_calendar(session: so.Session) -> WorkingCalendar:
    """The calendar as of this transaction (one single-row read per transaction)."""
    found = session.info.get(SESSION_KEY)
    if found is not None:
        return found
    if session.info.get(CHANGED_KEY):
        # uncommitted changes must not reach the shared cache: this transaction may still roll back
        calendar = build_calendar(session)
    else:
        revision = session.scalar(sa.select(CalendarRevision.revision).where(CalendarRevision.id == 1)) or 0
        calendar = services(session).calendars.get(revision, lambda: build_calendar(session))
    session.info[SESSION_KEY] = calendar
    return calendar


def build_calendar(session: so.Session) -> WorkingCalendar:
    settings = services(session).settings
    arrangements = {row.year: parse_arrangement(row.arrangement) for row in session.scalars(sa.select(CalendarYear))}
    rules = [DayRule(row.day, row.workday, row.note) for row in session.scalars(sa.select(CalendarRule))]
    return WorkingCalendar(arrangements=arrangements, local_rules=rules, close_time=close_time(settings.office_closes_at),
                           tz=services(session).tz)


def close_time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"ONEWINDOW_OFFICE_CLOSES_AT must be HH:MM, got {text!r}") from None


def _changed(session: so.Session) -> None:
    moved = session.execute(sa.update(CalendarRevision).where(CalendarRevision.id == 1)
                            .values(revision=CalendarRevision.revision + 1))
    if moved.rowcount == 0:  # the migration seeds the row; a wiped table must not freeze every cache
        session.add(CalendarRevision(id=1, revision=1))
        session.flush()
    session.info.pop(SESSION_KEY, None)
    session.info[CHANGED_KEY] = True


# --- administration -----------------------------------------------------------

def load_year(session: so.Session, text: str, actor: str | None) -> YearArrangement:
    """Load (or replace) a year's official arrangement; estimated deadlines are recomputed."""
    from .caseclock import recompute_estimated

    try:
        arrangement = parse_arrangement(text)
    except ValueError as exc:
        raise InvalidInput(f"Holiday arrangement rejected: {exc}") from None
    now = services(session).clock.now()
    row = session.get(CalendarYear, arrangement.year)
    if row is None:
        session.add(CalendarYear(year=arrangement.year, arrangement=text, loaded_at=now, loaded_by=actor))
    else:
        row.arrangement, row.loaded_at, row.loaded_by = text, now, actor
    _changed(session)
    audit.record(session, "calendar-year-loaded", actor=actor, entity_id=str(arrangement.year),
                 details={"holidays": len(arrangement.holidays), "workdays": len(arrangement.workdays)})
    recompute_estimated(session, actor)
    return arrangement


def set_rule(session: so.Session, day: date, workday: bool, note: str, actor: str | None) -> CalendarRule:
    """A local rule for one day; a case whose deadline it moves is recomputed."""
    from .caseclock import recompute_open

    row = _put_rule(session, day, workday, note, actor)
    _changed(session)
    recompute_open(session, actor, since=day)
    return row


def _put_rule(session: so.Session, day: date, workday: bool, note: str, actor: str | None) -> CalendarRule:
    if not note or not note.strip():
        raise InvalidInput(f"The local calendar rule for {day.isoformat()} needs a note saying why (e.g. 中心停电闭厅)")
    now = services(session).clock.now()
    row = session.get(CalendarRule, day)
    if row is None:
        row = CalendarRule(day=day, workday=workday, note=note.strip(), created_at=now, created_by=actor)
        session.add(row)
    else:
        row.workday, row.note, row.created_at, row.created_by = workday, note.strip(), now, actor
    audit.record(session, "calendar-rule-set", actor=actor, entity_id=day.isoformat(),
                 details={"workday": workday, "note": note.strip()})
    return row


def delete_rule(session: so.Session, day: date, actor: str | None) -> None:
    from .caseclock import recompute_open

    row = session.get(CalendarRule, day)
    if row is None:
        raise NotFound(f"No local calendar rule for {day.isoformat()}")
    session.delete(row)
    _changed(session)
    audit.record(session, "calendar-rule-deleted", actor=actor, entity_id=day.isoformat())
    recompute_open(session, actor, since=day)


def load_rules_file(session: so.Session, text: str, actor: str | None) -> int:
    """A JSON list of ``{"day": "YYYY-MM-DD", "workday": bool, "note": "..."}``; all or nothing."""
    from .caseclock import recompute_open

    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"Local rules file is not JSON: {exc}") from None
    if not isinstance(items, list):
        raise InvalidInput("Local rules file must be a JSON list of {day, workday, note}")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) - {"day", "workday", "note"} or "day" not in item \
                or not isinstance(item.get("workday"), bool):
            raise InvalidInput(f"rule [{index}] must be {{\"day\": \"YYYY-MM-DD\", \"workday\": true|false, "
                               f"\"note\": \"...\"}}, got {item!r}")
    days = [parse_day(item["day"], f"rule [{index}].day") for index, item in enumerate(items)]
    for day, item in zip(days, items):
        _put_rule(session, day, item["workday"], item.get("note", ""), actor)
    if days:  # one revision and one recount for the whole file
        _changed(session)
        recompute_open(session, actor, since=min(days))
    return len(items)


def parse_day(value: Any, where: str = "day") -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{where} must be a date written YYYY-MM-DD, got {value!r}")


# --- expression functions -------------------------------------------------------

def script_engine_for(session: so.Session) -> Any:
    """The restricted script engine of this transaction, its working-day functions bound to
    the calendar as this transaction sees it."""
    from .expressions import make_script_engine

    engine = session.info.get("onewindow_script_engine")
    if engine is None:
        python, juel = expression_functions(lambda: current_calendar(session))
        engine = make_script_engine(services(session).settings.script_time_limit, python, juel)
        session.info["onewindow_script_engine"] = engine
    return engine


def expression_functions(get_calendar: Callable[[], WorkingCalendar]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Working-day functions for models: Python names (SpiffWorkflow) and JUEL names (Camunda).

    The calendar is fetched on first use, so a command that never counts
    working days never reads the calendar revision.
    """

    def add_working_days(moment: Any, days: Any) -> date:
        calendar = get_calendar()
        return calendar.add_working_days(as_moment(moment, calendar.tz), _whole(days)).day

    def working_days_between(start: Any, end: Any) -> int:
        calendar = get_calendar()
        return calendar.working_days_between(as_moment(start, calendar.tz), as_moment(end, calendar.tz))

    def end_of_working_day(moment: Any) -> datetime:
        calendar = get_calendar()
        return calendar.end_of_working_day(as_moment(moment, calendar.tz)).astimezone(calendar.tz)

    def is_working_day(moment: Any) -> bool:
        calendar = get_calendar()
        return calendar.is_workday(as_moment(moment, calendar.tz))

    python = {"add_working_days": add_working_days, "working_days_between": working_days_between,
              "end_of_working_day": end_of_working_day, "is_working_day": is_working_day}
    juel = {"addWorkingDays": add_working_days, "workingDaysBetween": working_days_between,
            "endOfWorkingDay": end_of_working_day, "isWorkingDay": is_working_day}
    return python, juel


def as_moment(value: Any, tz: tzinfo) -> date | datetime:
    """Dates and date-times as models hold them: objects, or ISO text from a form or a REST call.
    A date-time without offset is the center's local time."""
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return value
    raise ValueError(f"expected a date or date-time (e.g. 2026-10-08 or 2026-10-08T09:00:00+08:00), got {value!r}")


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise ValueError(f"the number of working days must be a whole number, got {value!r}")
    return int(value)
