"""The supervisors' console: the case list with its filters and the CSV export."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask import Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _

from engine import catalogue, supervision
from engine.errors import InvalidInput
from engine.models import Department, ProcessDefinition
from engine.supervision import InstanceFilter

from .. import db, state
from . import bp
from .session_auth import me, signed_in

FILTERS = ("status", "process", "department", "item", "key", "applicant", "warning", "incident", "from", "to",
           "ended_from", "ended_to", "sort")


def _day(name: str, end: bool = False) -> datetime | None:
    """A date field as the start of that day in the center's zone ('to' includes its day: the next day's start)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(raw).date()
    except ValueError:
        raise InvalidInput(f"'{name}' must be a date like 2026-11-25", code="filter.bad-date", value=raw) from None
    return datetime.combine(day + timedelta(days=1) if end else day, time(0), state().services.tz)


def _filter() -> InstanceFilter:
    args = request.args
    incident = {"yes": True, "no": False}.get(args.get("incident", ""))
    return InstanceFilter(status=args.get("status") or None, process=args.get("process") or None,
                          department=args.get("department") or None, item_code=args.get("item") or None,
                          business_key=args.get("key") or None, applicant=args.get("applicant") or None,
                          warning=args.get("warning") or None, has_incident=incident, started_from=_day("from"),
                          started_to=_day("to", end=True), ended_from=_day("ended_from"),
                          ended_to=_day("ended_to", end=True), sort=args.get("sort") or "newest")


def supervisor_only() -> None:
    if not me().has_any(("supervisor",)):
        abort(403)


@bp.get("/console/cases")
@signed_in
def console_cases():
    supervisor_only()
    found = _filter()
    with db().begin():
        page = supervision.instances(db(), found, me(), after=request.args.get("after") or None)
        departments = [(d.code, d.name) for d in db().query(Department).order_by(Department.code)]
        items = [(i.code, i.name) for i in catalogue.items(db())]
        processes = [(key, key) for key in db().scalars(sa.select(ProcessDefinition.key).distinct()
                                                        .order_by(ProcessDefinition.key))]
        rows = list(page.rows)
    kept = {k: request.args[k] for k in FILTERS if request.args.get(k)}
    return render_template("console_cases.html", rows=rows, next_cursor=page.next_cursor, kept=kept,
                           departments=departments, items=items, processes=processes, sorts=_sorts(),
                           statuses=case_statuses(), warnings=warning_states(),
                           names={**dict(case_statuses()), **dict(warning_states())}, department_names=dict(departments))


def _sorts() -> list[tuple[str, str]]:
    return [("newest", _("Newest first")), ("oldest", _("Oldest first")), ("deadline", _("Nearest deadline first"))]


def case_statuses() -> list[tuple[str, str]]:
    return [("running", _("Running")), ("suspended", _("Suspended")), ("completed", _("Closed")),
            ("cancelled", _("Cancelled"))]


def warning_states() -> list[tuple[str, str]]:
    return [("normal", _("On time")), ("yellow", _("Yellow card")), ("red", _("Red card"))]


@bp.get("/console/cases.csv")
@signed_in
def console_cases_csv():
    """The filtered list as a CSV file, streamed (a million rows never sit in memory)."""
    supervisor_only()
    found, viewer = _filter().check(), me()

    def rows():
        with db().begin():
            yield "\ufeff"  # so spreadsheet programs read the Chinese as UTF-8
            yield from supervision.export_csv(db(), found, viewer)
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=cases.csv"})
