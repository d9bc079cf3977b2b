"""One case for its supervisors: the diagram with what was done and what waits, the case clock,
timers, incidents with a retry, variables, the history; cancel, suspend, resume and move back,
each with a written reason."""
from __future__ import annotations

from typing import Any, Callable

import sqlalchemy as sa
from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import access, activities, interventions, runtime
from engine.errors import Forbidden, NotFound
from engine.models import CaseClock, ClockSuspension, Incident, ProcessDefinition, Timer

from .. import db
from . import bp
from .access import refuse
from .console import case_statuses, supervisor_only, warning_states
from .history import history, step_names, supervision_labels
from .messages import run_and_say
from .session_auth import me, signed_in


def _supervised(instance_id: str):
    """The instance if the signed-in supervisor's scope includes it: a case they may not see is a 404 (the
    attempt on record), one they see without supervising it a 403; the console is the supervisors' (403)."""
    supervisor_only()
    try:
        with db().begin():
            return access.supervises(db(), me(), instance_id)
    except NotFound:
        refuse(instance_id=instance_id)
    except Forbidden:
        abort(403)


@bp.get("/console/instances/<instance_id>")
@signed_in
def console_instance(instance_id: str):
    _supervised(instance_id)
    with db().begin():
        loaded = runtime.load(db(), instance_id)
        instance = loaded.instance
        diagrams = [_diagram(s) for s in activities.activity_states(db(), loaded)]
        steps = step_names(loaded.workflow)
        view = {
            "instance": instance, "diagrams": diagrams, "steps": steps,
            "variables": sorted(access.shown_variables(runtime.instance_variables(loaded.workflow)).items()),
            "clock": db().get(CaseClock, instance_id),
            "pauses": list(db().scalars(sa.select(ClockSuspension).where(ClockSuspension.instance_id == instance_id)
                                        .order_by(ClockSuspension.id))),
            "timers": list(db().scalars(sa.select(Timer).where(Timer.instance_id == instance_id).order_by(Timer.due_at))),
            "incidents": list(db().scalars(sa.select(Incident).where(Incident.instance_id == instance_id,
                                                                    Incident.resolved_at.is_(None)))),
            "earlier": interventions.earlier_steps(db(), loaded),
            "history": history(instance_id, steps, supervision_labels(), everything=True),
        }
    return render_template("console_instance.html", **view, statuses=dict(case_statuses()), warnings=dict(warning_states()),
                           markers=marker_names(),
                           diagrams_data=[{"xml": d["xml"], "elements": d["states"]["elements"]} for d in diagrams])


def marker_names() -> dict[str, str]:
    return {"completed": _("Done"), "active": _("Waiting"), "timer": _("Waiting on a timer"),
            "incident": _("Failed: incident")}


def _diagram(states: activities.DefinitionStates) -> dict[str, Any]:
    """One definition's diagram data for the page: its XML and, per element, the marker and counts."""
    definition: ProcessDefinition = states.definition
    marked = {}
    for activity_id, element in states.elements.items():
        marker = ("incident" if element.incidents else "timer" if element.timers
                  else "active" if element.active else "completed")
        marked[activity_id] = {"marker": marker, "completed": element.completed, "active": element.active,
                               "incidents": element.incidents, "badge": _badge(element)}
    return {"id": definition.id, "key": definition.key, "name": definition.name or definition.key,
            "version": definition.version, "xml": definition.xml, "states": {"id": definition.id, "elements": marked}}


def _badge(element: activities.ElementState) -> str:
    """Counts worth a badge: loops and multi-instance (done more than once, or done and waiting again)."""
    counts = []
    if element.completed > 1 or (element.completed and element.active):
        counts.append(f"✓{element.completed}")
    if element.active > 1:
        counts.append(f"⏳{element.active}")
    if element.incidents:
        counts.append(f"⚠{element.incidents}")
    return " ".join(counts)


def _act(instance_id: str, command: Callable[[], None], done: str):
    """Run one supervisor command in one transaction; a refusal is said on the page and nothing changes."""
    _supervised(instance_id)
    run_and_say(command, done)
    return redirect(url_for("web.console_instance", instance_id=instance_id))


def _actions() -> dict[str, tuple[Callable[..., None], str]]:
    """The reasoned actions on a whole case and what the page says when one is done."""
    return {"cancel": (interventions.cancel, _("The case was cancelled.")),
            "suspend": (interventions.suspend, _("The case is suspended: its tasks and timers wait until it is resumed.")),
            "resume": (interventions.resume, _("The case runs again."))}


@bp.post("/console/instances/<instance_id>/<any(cancel, suspend, resume):action>")
@signed_in
def console_action(instance_id: str, action: str):
    command, done = _actions()[action]
    reason = request.form.get("reason")
    return _act(instance_id, lambda: command(db(), instance_id, actor=me().username, reason=reason), done)


@bp.post("/console/instances/<instance_id>/move-back")
@signed_in
def console_move_back(instance_id: str):
    reason, task_id = request.form.get("reason"), request.form.get("task", "")
    return _act(instance_id, lambda: interventions.move_back(db(), instance_id, task_id, actor=me().username,
                                                             reason=reason),
                _("The case went back to the chosen step."))


@bp.post("/console/instances/<instance_id>/incidents/<incident_id>/retry")
@signed_in
def console_retry(instance_id: str, incident_id: str):
    def retry() -> None:
        incident = db().get(Incident, incident_id)
        if incident is None or incident.instance_id != instance_id:
            raise NotFound(f"No incident '{incident_id}' in this case")
        interventions.retry_incident(db(), incident_id, actor=me().username)
    return _act(instance_id, retry, _("The failed step will be tried again."))
