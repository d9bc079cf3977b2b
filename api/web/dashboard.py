"""The dashboard of the center's indicators (rule 18): the figures of ``engine.indicators`` as ECharts
charts (served locally from npm) over tables that say the same without JavaScript."""
from __future__ import annotations

from datetime import date

from flask import render_template, request
from flask_babel import gettext as _

from engine import catalogue, indicators
from engine.errors import InvalidInput
from engine.models import Department
from engine.settings import RATING_LEVELS

from .. import db
from . import bp
from .console import supervisor_only, warning_states
from .session_auth import me, signed_in


def _day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a date like 2026-11-25", code="filter.bad-date", value=raw) from None


@bp.get("/console/dashboard")
@signed_in
def console_dashboard():
    supervisor_only()
    with db().begin():
        start, end = indicators.period(db(), _day("from"), _day("to"))
        department = indicators.department_for(me(), request.args.get("department") or None)
        figures = indicators.dashboard(db(), start, end, department).as_dict()
        departments = {d.code: d.name for d in db().query(Department).order_by(Department.code)}
        items = {i.code: i.name for i in catalogue.items(db())}
    labels = {"received": _("Cases received"), "completed": _("Cases completed"), "onTime": _("On-time rate"),
              "used": _("Working days used"), "promised": _("Working days promised"),
              "instant": _("Instant items"), "online": _("Handled online"),
              "states": dict(warning_states()), "levels": list(RATING_LEVELS), "none": _("Nothing yet")}
    return render_template("dashboard.html", figures=figures, departments=departments, items=items,
                           department=department, start=start, end=end, labels=labels,
                           chart_data={"figures": figures, "departments": departments, "labels": labels})
