"""Element properties that tie a BPMN model to the case's legal record.

A process designer marks elements with extension properties
(``camunda:property`` or ``spiffworkflow:property``) instead of writing code:

* ``caseClock`` — moves the case clock (``engine.caseclock``) when the element
  completes, ``caseClockOnReady`` when the case reaches it (a receipt or a
  notice is dated when it is made, before a worker renders it): ``accept``
  (sets ``acceptedAt``), ``supplement-requested`` (the notice lists
  ``missingItems``), ``supplement-received``, ``not-accepted``,
  ``survey-started`` / ``survey-ended`` (suspends the clock only where the
  item says a site survey does), ``decided`` (sets ``decidedAt``);
* ``stamp`` — variables set to the engine's current time when the element
  completes (``surveyStartedAt``), so deadlines count from the engine's clock,
  never from a client's;
* ``indicator`` — ``rating``: the element records the case's 好差评 rating
  (variable ``rating``) in the center's indicators (``engine.indicators``);
The engine also reads, where the step is checked rather than moved:
``authorization`` — powers (``decide``, ``seal``, ``pre-review``) the person
completing a user task must hold for the case's item (``engine.tasks`` with
``engine.authorizations``); ``notBy`` — activities whose completer may not
complete this task (four eyes, ``engine.tasks``); ``form`` — on a message
catch event, the form its payload must satisfy (``engine.messages``).

Markers run inside SpiffWorkflow's completion of the element — before the
next elements copy its data — and in the command's transaction, so a refused
clock change rolls the whole step back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy.orm as so

from . import caseclock, indicators
from .context import services
from .errors import BadUserRequest, InvalidInput
from .models import CaseClock
from .properties import properties_of

@dataclass
class MarkerContext:
    """What markers need from the running command; set on the workflow while a command runs it."""

    session: so.Session
    instance_id: str
    actor: str | None


def bind(workflow: Any, context: MarkerContext | None) -> None:
    workflow.onewindow_markers = context


def acting(workflow: Any, actor: str | None) -> None:
    """Name who the coming steps are done for (the audit of a clock change names them)."""
    context = getattr(workflow, "onewindow_markers", None)
    if context is not None:
        context.actor = actor


def on_completed(workflow: Any, task: Any) -> None:
    """Called by SpiffWorkflow when a marked element completes (see ``engine.properties.attach``)."""
    context = _context(workflow)
    if context is None:
        return
    props = properties_of(task.task_spec)
    local = _local_now(context)
    for name in (n.strip() for n in props.get("stamp", "").split(",")):
        if name:
            task.data[name] = local
    if props.get("caseClock"):
        _move_clock(context, task, props["caseClock"], local)
    if props.get("indicator") == "rating" and task.data.get("rating"):
        indicators.count_rating(context.session, context.instance_id, str(task.data["rating"]))


def on_ready(workflow: Any, task: Any) -> None:
    """Called by SpiffWorkflow when the case reaches an element marked ``caseClockOnReady``."""
    context = _context(workflow)
    if context is not None:
        _move_clock(context, task, properties_of(task.task_spec)["caseClockOnReady"], _local_now(context))


def _context(workflow: Any) -> MarkerContext | None:
    top = getattr(workflow, "top_workflow", None) or workflow
    return getattr(top, "onewindow_markers", None)  # None: a workflow run outside a command (benchmarks)


def _local_now(context: MarkerContext) -> str:
    svc = services(context.session)
    return svc.clock.now().astimezone(svc.tz).isoformat(timespec="seconds")


def _move_clock(context: MarkerContext, task: Any, action: str, local_now: str) -> None:
    session, instance_id, actor = context.session, context.instance_id, context.actor
    clock = session.get(CaseClock, instance_id)
    if clock is None or clock.closed_at is not None:
        return
    data = task.data
    if action == "accept":
        if clock.acceptance == caseclock.SUPPLEMENT:
            caseclock.supplement_complete(session, instance_id, actor, at=data.get("supplementReceivedAt"))
        elif clock.acceptance == caseclock.PENDING:
            caseclock.accept(session, instance_id, actor)
        data["acceptedAt"] = clock.accepted_at.astimezone(services(session).tz).isoformat(timespec="seconds")
    elif action == "supplement-requested":
        missing = data.get("missingItems") or data.get("missingMaterials") or []
        caseclock.request_supplement(session, instance_id, [str(m) for m in missing], actor,
                                     override_reason=data.get("supplementOverrideReason"))
    elif action == "supplement-received":
        data["supplementReceivedAt"] = local_now
    elif action == "not-accepted":
        caseclock.close_clock(session, instance_id, actor, caseclock.NOT_ACCEPTED)
    elif action == "survey-started":
        _start_survey(session, instance_id, data, actor, clock)
    elif action == "survey-ended":
        if clock.suspended_since is not None:
            caseclock.resume(session, instance_id, result=str(data.get("surveyConclusion") or "踏勘完成"),
                             actor=actor or "engine")
    elif action == "decided":
        data["decidedAt"] = local_now
        if not data.get("bundleItem"):
            caseclock.close_clock(session, instance_id, actor, caseclock.DECIDED)
    else:
        raise InvalidInput(f"Unknown caseClock marker '{action}' on element '{task.task_spec.bpmn_id}'")


def _start_survey(session: so.Session, instance_id: str, data: dict[str, Any], actor: str | None,
                  clock: CaseClock) -> None:
    """A site survey stops the clock only where the item says so (rule 5); the applicant is told how long."""
    if data.get("bundleItem") or not clock.site_survey_suspends or clock.suspended_since is not None:
        return
    days = data.get("surveyLimitDays") or data.get("siteSurveyLimitDays")
    basis = data.get("siteSurveyBasis") or ""
    if not basis:
        raise BadUserRequest("The item stops the clock for a site survey but names no legal basis (siteSurveyBasis)")
    caseclock.suspend(session, instance_id, procedure=caseclock.SITE_SURVEY, legal_basis=basis,
                      expected_days=int(days),
                      applicant_notice=f"本件需现场踏勘，预计需要{int(days)}个工作日，踏勘时间不计入审批时限。",
                      actor=actor or "engine")
