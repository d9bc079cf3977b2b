"""The working-day calendar over HTTP (a onewindow extension): which years are official, loading a
year's arrangement, local rules, and a deadline calculator for process designers."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import jsonify, request

from engine import workdays
from engine.calendar import MAX_PERIOD_DAYS
from engine.errors import InvalidInput
from engine.models import CalendarRule, CalendarYear

from .. import db
from ..auth import allowed, current
from ..variables import format_date
from . import bp
from .common import json_body, param


@bp.get("/calendar")
@allowed("read")
def get_calendar():
    session = db()
    with session.begin():
        calendar = workdays.current_calendar(session)
        loaded = [{"year": y.year, "loadedAt": format_date(y.loaded_at), "loadedBy": y.loaded_by}
                  for y in session.scalars(sa.select(CalendarYear).order_by(CalendarYear.year))]
        rules = [{"day": r.day.isoformat(), "workday": r.workday, "note": r.note, "createdBy": r.created_by}
                 for r in session.scalars(sa.select(CalendarRule).order_by(CalendarRule.day))]
        return jsonify({"officialYears": sorted(calendar.official_years()), "loadedYears": loaded, "rules": rules,
                        "timezone": str(calendar.tz)})


@bp.put("/calendar/year/<int:year>")
@allowed("calendar")
def load_calendar_year(year: int):
    body = json_body()
    if body.get("year") != year:
        raise InvalidInput(f"The arrangement's 'year' ({body.get('year')!r}) must match the URL ({year})")
    session = db()
    with session.begin():
        arrangement = workdays.load_year(session, json.dumps(body, ensure_ascii=False), actor=current().username)
    return jsonify({"year": arrangement.year, "holidays": len(arrangement.holidays),
                    "workdays": len(arrangement.workdays)})


@bp.put("/calendar/rule/<day>")
@allowed("calendar")
def set_calendar_rule(day: str):
    body = json_body()
    workday = param(body, "workday", bool)
    if workday is None:
        raise InvalidInput("'workday' is required: true for a special working day, false for a closure")
    session = db()
    with session.begin():
        workdays.set_rule(session, workdays.parse_day(day), workday, param(body, "note") or "",
                          actor=current().username)
    return "", 204


@bp.delete("/calendar/rule/<day>")
@allowed("calendar")
def delete_calendar_rule(day: str):
    session = db()
    with session.begin():
        workdays.delete_rule(session, workdays.parse_day(day), actor=current().username)
    return "", 204


@bp.get("/calendar/deadline")
@allowed("read")
def calendar_deadline():
    start = param(request.args, "from", max_length=40)
    days = param(request.args, "days", int, low=0, high=MAX_PERIOD_DAYS)
    if start is None or days is None:
        raise InvalidInput(f"Give 'from' (a date or date-time) and 'days' (working days, 0 to {MAX_PERIOD_DAYS})")
    session = db()
    with session.begin():
        calendar = workdays.current_calendar(session)
        try:
            deadline = calendar.add_working_days(workdays.as_moment(start, calendar.tz), days)
        except ValueError as exc:
            raise InvalidInput(f"'from': {exc}") from None
    return jsonify({"day": deadline.day.isoformat(), "at": format_date(deadline.at), "estimated": deadline.estimated})
