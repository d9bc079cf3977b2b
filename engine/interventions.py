"""What a supervisor may do to a running case, always with a written reason in the audit log:
cancel it, suspend and resume it, move it back to an earlier user task (to correct a mistaken
decision), and retry the step an incident stopped.

Moving back uses SpiffWorkflow's own reset: the earlier task becomes ready
again with the data it had, everything after it is dropped, and the run goes
on from there like any command (projections, clock markers, audit). A reset
never crosses the case's decision: a case whose clock has been stopped by a
decision goes back only to a step after it, so a granted licence is never
silently taken back (that is a revocation, with its own procedure).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import sqlalchemy.orm as so
from SpiffWorkflow.util.task import TaskState

from . import audit, external, runtime, scheduler
from .errors import BadUserRequest, InvalidInput, NotFound
from .models import CaseClock, Incident

REASON_MIN = 4


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if len(text) < REASON_MIN:
        raise InvalidInput("A supervisor's action needs a written reason (at least four characters) for the record",
                           code="intervention.reason-needed")
    return text


def cancel(session: so.Session, instance_id: str, *, actor: str, reason: str | None) -> None:
    runtime.cancel_instance(session, instance_id, actor=actor, reason=_reason(reason))


def suspend(session: so.Session, instance_id: str, *, actor: str, reason: str | None) -> None:
    runtime.set_suspended(session, instance_id, True, actor=actor, reason=_reason(reason))


def resume(session: so.Session, instance_id: str, *, actor: str, reason: str | None) -> None:
    runtime.set_suspended(session, instance_id, False, actor=actor, reason=_reason(reason))


@dataclass(frozen=True)
class EarlierStep:
    task_id: str
    activity_id: str
    name: str
    completed_at: datetime
    completed_by: str | None


def earlier_steps(session: so.Session, loaded: runtime.Loaded) -> list[EarlierStep]:
    """The completed user tasks a running case can be moved back to, most recent first (when they were
    completed comes from the audit log, on the engine's clock)."""
    instance_id = loaded.instance.id
    if loaded.instance.status != runtime.RUNNING:
        return []
    completed = {e.details.get("taskId"): e for e in audit.entries_for(session, instance_id) if e.action == "complete-task"}
    decided_at = _decided_at(session, instance_id)
    steps = []
    for task in loaded.workflow.get_tasks(state=TaskState.COMPLETED):
        entry = completed.get(str(task.id))
        if not task.task_spec.manual or entry is None or (decided_at is not None and entry.at <= decided_at):
            continue
        spec = task.task_spec
        steps.append(EarlierStep(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, entry.at, entry.actor))
    return sorted(steps, key=lambda s: s.completed_at, reverse=True)


def _decided_at(session: so.Session, instance_id: str) -> datetime | None:
    clock = session.get(CaseClock, instance_id)
    return clock.closed_at if clock is not None else None


def move_back(session: so.Session, instance_id: str, task_id: str, *, actor: str, reason: str | None) -> None:
    """Make an earlier completed user task ready again; what came after it is undone."""
    why = _reason(reason)
    loaded = runtime.load(session, instance_id)
    allowed = {s.task_id: s for s in earlier_steps(session, loaded)}
    if task_id not in allowed:
        raise BadUserRequest(f"Task '{task_id}' is not an earlier user task this case can go back to "
                             "(a running case, a completed user task after the decision)", code="intervention.not-earlier")
    waiting = sorted({t.task_spec.bpmn_id for t in loaded.workflow.get_tasks(state=TaskState.READY)
                      if t.task_spec.manual})
    loaded.workflow.reset_from_task_id(UUID(task_id))
    runtime.advance(session, loaded, actor, "move-back", {
        "reason": why, "toActivityId": allowed[task_id].activity_id, "toTaskId": task_id, "fromActivityIds": waiting})


def retry_incident(session: so.Session, incident_id: str, *, actor: str) -> None:
    """Give the failed step one more attempt: a worker fetches the task again, or the timer fires at the
    scheduler's next round."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.resolved_at is not None:
        raise NotFound(f"No open incident with id '{incident_id}'")
    if incident.incident_type == scheduler.FAILED_JOB:
        scheduler.set_timer_retries(session, incident.configuration, 1, actor)
    else:
        external.set_retries(session, incident.configuration, 1, actor)
