"""Deployed processes for supervisors: every version with its running cases, and a version's diagram as a
heat map of where its cases wait now (and where they failed)."""
from __future__ import annotations

import math

import sqlalchemy as sa
from flask import abort, render_template

from engine import access, activities
from engine.models import ProcessDefinition, ProcessInstance

from .. import db
from . import bp
from .console import supervisor_only
from .session_auth import me, signed_in

HEAT_LEVELS = 5


@bp.get("/console/processes")
@signed_in
def console_processes():
    supervisor_only()
    with db().begin():
        within = access.counted_cases(me())
        running = dict(db().execute(sa.select(ProcessInstance.definition_id, sa.func.count())
                                    .where(ProcessInstance.status == "running", within if within is not None
                                           else sa.true())
                                    .group_by(ProcessInstance.definition_id)).all())
        versions = list(db().scalars(sa.select(ProcessDefinition).order_by(ProcessDefinition.key,
                                                                          ProcessDefinition.version.desc())))
    return render_template("console_processes.html", versions=versions, running=running)


@bp.get("/console/processes/<definition_id>")
@signed_in
def console_process(definition_id: str):
    supervisor_only()
    with db().begin():
        definition = db().get(ProcessDefinition, definition_id)
        if definition is None:
            abort(404)
        within = access.counted_cases(me())
        loads = activities.definition_statistics(db(), definition_id, within)
        running = activities.running_instances(db(), definition_id, within)
        xml, steps = definition.xml, activities.element_names(definition)
    busiest = max([load.waiting for load in loads.values()] or [0])
    elements = {activity_id: {"marker": _heat(load, busiest), "badge": _badge(load)}
                for activity_id, load in loads.items()}
    return render_template("console_process.html", definition=definition, running=running, loads=loads,
                           diagrams_data=[{"xml": xml, "elements": elements}], elements=elements, steps=steps)


def _heat(load: activities.ElementLoad, busiest: int) -> str:
    """heat-1 … heat-5 by share of the busiest element; incident where something failed."""
    if load.incidents:
        return "incident"
    return f"heat-{max(1, math.ceil(HEAT_LEVELS * load.waiting / busiest))}" if busiest else "heat-1"


def _badge(load: activities.ElementLoad) -> str:
    failed = sum(load.incidents.values())
    return f"{load.waiting}" + (f" ⚠{failed}" if failed else "")
