"""The supervisors' case list and the center's indicators over HTTP (onewindow extensions): JSON pages, a CSV
export and the dashboard's figures, for the console and for other tools."""
from __future__ import annotations

from datetime import date, datetime

from flask import Response, jsonify, request, stream_with_context

from engine import indicators, supervision
from engine.errors import InvalidInput
from engine.supervision import InstanceFilter

from .. import db
from ..auth import allowed, current
from ..variables import format_date
from . import bp
from .common import param


def _filter() -> InstanceFilter:
    args = request.args
    return InstanceFilter(
        status=param(args, "status"), process=param(args, "processDefinitionKey"), item_code=param(args, "itemCode"),
        department=param(args, "department"), business_key=param(args, "businessKey"),
        applicant=param(args, "applicant"), started_from=param(args, "startedAfter", datetime),
        started_to=param(args, "startedBefore", datetime), ended_from=param(args, "endedAfter", datetime),
        ended_to=param(args, "endedBefore", datetime), warning=param(args, "warningState"),
        has_incident=param(args, "withIncident", bool), sort=param(args, "sort") or "newest")


def _row(row: supervision.Row) -> dict:
    i = row.instance
    return {"id": i.id, "businessKey": i.business_key, "itemCode": i.item_code, "itemName": i.item_name,
            "department": i.department, "applicant": i.applicant_name, "status": i.status,
            "processDefinitionKey": i.definition_key, "startTime": format_date(i.started_at),
            "endTime": format_date(i.ended_at), "warningState": row.warning, "deadline": format_date(row.deadline),
            "openIncidents": row.incidents}


@bp.get("/case-instance")
@allowed("supervise")
def list_case_instances():
    size = param(request.args, "maxResults", int, supervision.PAGE_SIZE)
    if not 1 <= size <= 1000:
        raise InvalidInput(f"'maxResults' must be from 1 to 1000, got {size}")
    session = db()
    with session.begin():
        page = supervision.instances(session, _filter(), current(), after=param(request.args, "after"), limit=size)
        return jsonify({"items": [_row(r) for r in page.rows], "next": page.next_cursor})


@bp.get("/case-instance/export.csv")
@allowed("supervise")
def export_case_instances():
    found, viewer = _filter(), current()
    found.check()

    def rows():
        session = db()
        with session.begin():
            yield "\ufeff"  # so spreadsheet programs read the Chinese as UTF-8
            yield from supervision.export_csv(session, found, viewer)
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=cases.csv"})


@bp.get("/dashboard")
@allowed("supervise")
def dashboard():
    """The center's indicators over a period (from/to as YYYY-MM-DD), of one department or all."""
    args = request.args
    session = db()
    with session.begin():
        start, end = indicators.period(session, _day(args.get("from")), _day(args.get("to")))
        department = indicators.department_for(current(), param(args, "department"))
        return jsonify(indicators.dashboard(session, start, end, department).as_dict())


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"'{raw}' is not a date like 2026-11-25", code="filter.bad-date", value=raw) from None
