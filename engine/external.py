"""The external-task queue: fetch-and-lock, complete, failure, BPMN error, incidents.

Camunda 7 semantics, as its REST clients expect them: a fetch claims rows in
one statement (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the single writer on
SQLite) so two workers never get the same task; only the worker holding the
lock may complete or fail it; ``failure`` carries the retries left (the engine
does not decrement); retries 0 raises an incident; ``retryTimeout`` and an
expired lock decide when a task is fetchable again. Delivery is at least once.

A BPMN error that no boundary event catches raises an incident (as Zeebe does)
instead of silently ending the activity (as Camunda 7 does): a case should
never move on because a worker reported something nobody modelled.

Before a worker applies a department's approval seal it asks ``engine.seals.check_seal``.
"""
from __future__ import annotations

import uuid
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Sequence
from uuid import UUID

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState

from . import audit
from .context import services
from .db import is_postgres
from .errors import BadUserRequest, Conflict, InvalidInput, NotFound
from .models import ExternalTask, Incident
from .values import check_count, check_text, check_variables

if TYPE_CHECKING:
    from .runtime import Loaded

FAILED_EXTERNAL_TASK = "failedExternalTask"
UNHANDLED_BPMN_ERROR = "unhandledBpmnError"
#: ``external_task.worker_id`` is ``VARCHAR(255)``
WORKER_ID_LENGTH = 255


def check_lock_duration(session: so.Session, duration_ms: int, field: str) -> int:
    """A lock is at least a millisecond and at most ``ONEWINDOW_MAX_LOCK_MS``: a worker that dies holding a
    317-year lock would hold the case for ever, and a duration past ``timedelta``'s range cannot be a time."""
    return check_count(duration_ms, field, 1, services(session).settings.max_lock_ms)


@dataclass(frozen=True)
class TopicRequest:
    name: str
    lock_duration_ms: int
    variables: Sequence[str] | None = None
    business_key: str | None = None
    definition_key: str | None = None


@dataclass
class LockedTask:
    row: ExternalTask
    variables: dict[str, Any] = field(default_factory=dict)


def new_external_task(loaded: "Loaded", task: Any, now: datetime) -> ExternalTask:
    instance = loaded.instance
    spec = task.task_spec
    priority = spec.priority
    if priority and ("${" in priority or "#{" in priority):
        priority = task.workflow.script_engine.evaluate(task, priority)
    return ExternalTask(
        id=str(task.id), instance_id=instance.id, definition_id=instance.definition_id,
        definition_key=instance.definition_key, business_key=instance.business_key,
        activity_id=spec.bpmn_id or spec.name, topic=spec.topic, priority=int(priority or 0),
        created_at=now,
    )


def fetch_and_lock(session: so.Session, worker_id: str, topics: Sequence[TopicRequest], *,
                   max_tasks: int = 10, use_priority: bool = False) -> list[LockedTask]:
    """Claim up to ``max_tasks`` fetchable tasks of the topics for ``worker_id``."""
    if not worker_id:
        raise InvalidInput("workerId is required")
    check_text(worker_id, "workerId", WORKER_ID_LENGTH)
    if max_tasks < 1 or max_tasks > 1000:
        raise InvalidInput(f"maxTasks must be between 1 and 1000, got {max_tasks}")
    for index, topic in enumerate(topics):
        check_lock_duration(session, topic.lock_duration_ms, f"topics[{index}].lockDuration")
    if not topics:
        return []
    by_name = {t.name: t for t in topics}
    now = services(session).clock.now()
    stmt = sa.select(ExternalTask).where(
        ExternalTask.topic.in_(list(by_name)),
        ExternalTask.suspended.is_(False),
        sa.or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0),
        sa.or_(ExternalTask.lock_expires_at.is_(None), ExternalTask.lock_expires_at <= now),
    )
    stmt = stmt.where(_topic_filters(topics))
    order = [ExternalTask.priority.desc()] if use_priority else []
    stmt = stmt.order_by(*order, ExternalTask.created_at, ExternalTask.id).limit(max_tasks)
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    locked = []
    for row in rows:
        topic = by_name[row.topic]
        row.worker_id = worker_id
        row.lock_expires_at = now + timedelta(milliseconds=topic.lock_duration_ms)
        locked.append(LockedTask(row, _variables_for(session, row, topic.variables)))
    session.flush()
    return locked


def _topic_filters(topics: Sequence[TopicRequest]) -> Any:
    clauses = []
    for topic in topics:
        clause = ExternalTask.topic == topic.name
        if topic.business_key:
            clause = sa.and_(clause, ExternalTask.business_key == topic.business_key)
        if topic.definition_key:
            clause = sa.and_(clause, ExternalTask.definition_key == topic.definition_key)
        clauses.append(clause)
    return sa.or_(*clauses)


def _variables_for(session: so.Session, row: ExternalTask, names: Sequence[str] | None) -> dict[str, Any]:
    if names is not None and len(names) == 0:
        return {}
    from .runtime import load

    loaded = load(session, row.instance_id)
    task = loaded.workflow.get_task_from_id(UUID(row.id))
    if task is None:
        return {}
    data = {**task.data, **task.internal_data.get("external_params", {})}
    if names is None:
        return data
    return {k: data[k] for k in names if k in data}


def get_external_task(session: so.Session, task_id: str) -> ExternalTask:
    row = session.get(ExternalTask, task_id)
    if row is None:
        raise NotFound(f"Cannot find external task with id '{task_id}': it does not exist or was already completed")
    return row


def _require_holder(row: ExternalTask, worker_id: str | None, verb: str) -> None:
    if not worker_id:
        raise InvalidInput("workerId is required")
    if row.worker_id != worker_id:
        holder = f"it is locked by worker '{row.worker_id}'" if row.worker_id else "it is not locked"
        raise BadUserRequest(f"External task '{row.id}' cannot be {verb} by worker '{worker_id}': {holder}")


def require_live_lock(row: ExternalTask, worker_id: str | None, verb: str, now: datetime) -> None:
    """The worker holds the task's lock and the lock has not run out: only then may it act for the task
    beyond completing it (extend the lock, apply a seal), since after expiry another worker may have it."""
    _require_holder(row, worker_id, verb)
    if row.lock_expires_at is None or _utc(row.lock_expires_at) <= now:
        raise BadUserRequest(f"External task '{row.id}' cannot be {verb} by worker '{worker_id}': its lock has "
                             "expired, so another worker may be doing it")


def started_task(loaded: "Loaded", task_id: str) -> Any:
    task = loaded.workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.STARTED:
        raise Conflict(f"External task '{task_id}' is no longer active in its process instance")
    return task


def complete(session: so.Session, task_id: str, worker_id: str, variables: dict[str, Any],
             local_variables: dict[str, Any] | None = None) -> None:
    from .runtime import advance, load_running

    check_variables(variables)
    check_variables(local_variables, "localVariables")
    row = get_external_task(session, task_id)
    _require_holder(row, worker_id, "completed")
    loaded = load_running(session, row.instance_id)
    task = started_task(loaded, task_id)
    result = deepcopy({**variables, **(local_variables or {})})  # SpiffWorkflow merges into lists in place
    if task.task_spec.result_variable:
        task.data[task.task_spec.result_variable] = result
    else:
        task.data.update(result)
    task.complete()
    advance(session, loaded, f"worker:{worker_id}", "complete-external-task",
            {"taskId": task_id, "activityId": row.activity_id, "topic": row.topic, "variables": sorted(result)})


def failure(session: so.Session, task_id: str, worker_id: str, *, error_message: str | None,
            error_details: str | None, retries: int | None, retry_timeout_ms: int | None) -> None:
    row = get_external_task(session, task_id)
    _require_holder(row, worker_id, "failed")
    check_count(retries, "retries")
    check_count(retry_timeout_ms, "retryTimeout", 0, services(session).settings.max_retry_timeout_ms)
    now = services(session).clock.now()
    row.error_message = (error_message or "")[:4000] or None
    row.error_details = error_details
    row.retries = retries
    row.lock_expires_at = now + timedelta(milliseconds=retry_timeout_ms or 0)
    audit.record(session, "external-task-failure", actor=f"worker:{worker_id}", instance_id=row.instance_id,
                 entity_id=task_id, details={"retries": retries, "message": row.error_message})
    if retries is not None and retries <= 0:
        raise_incident(session, row, FAILED_EXTERNAL_TASK, row.error_message or "External task failed")
    session.flush()


def raise_incident(session: so.Session, row: ExternalTask, kind: str, message: str) -> Incident:
    existing = session.scalar(sa.select(Incident).where(
        Incident.configuration == row.id, Incident.resolved_at.is_(None)))
    if existing is not None:
        existing.message = message
        return existing
    incident = Incident(id=str(uuid.uuid4()), instance_id=row.instance_id, definition_id=row.definition_id,
                        element_definition_id=row.element_definition_id,
                        activity_id=row.activity_id, incident_type=kind, configuration=row.id,
                        message=message, created_at=services(session).clock.now())
    session.add(incident)
    audit.record(session, "incident", instance_id=row.instance_id, entity_id=incident.id,
                 details={"type": kind, "activityId": row.activity_id, "message": message})
    return incident


def bpmn_error(session: so.Session, task_id: str, worker_id: str, *, error_code: str,
               error_message: str | None = None, variables: dict[str, Any] | None = None) -> bool:
    """Throw a BPMN error from the task; returns False when nothing caught it (incident raised)."""
    from .runtime import advance, load_running

    if not error_code:
        raise InvalidInput("errorCode is required")
    check_variables(variables)
    row = get_external_task(session, task_id)
    _require_holder(row, worker_id, "failed with a BPMN error")
    loaded = load_running(session, row.instance_id)
    task = started_task(loaded, task_id)
    caught = _catching_boundary(loaded.workflow, task, error_code, variables or {})
    if caught is None:
        row.lock_expires_at = None
        row.worker_id = None
        row.retries = 0
        row.error_message = f"BPMN error '{error_code}' was not caught by any boundary event"
        raise_incident(session, row, UNHANDLED_BPMN_ERROR, f"{row.error_message}: {error_message or ''}".rstrip(": "))
        session.flush()
        return False
    catcher, event = caught
    catcher.data.update(variables or {})
    catcher.task_spec.catch(catcher, event)
    catcher.task_spec._update(catcher)
    advance(session, loaded, f"worker:{worker_id}", "bpmn-error",
            {"taskId": task_id, "errorCode": error_code, "message": error_message,
             "caughtBy": catcher.task_spec.bpmn_id})
    return True


def _catching_boundary(workflow: Any, task: Any, code: str, payload: dict) -> tuple[Any, BpmnEvent] | None:
    """The nearest waiting error boundary event that catches the error: on the task, then on
    each enclosing subprocess or call activity. The thrown event uses the boundary's own
    definition class (dialects subclass it, and SpiffWorkflow matches on class and code)."""
    current = task
    while current is not None:
        parent = current.parent
        for sibling in (parent.children if parent is not None else []):
            spec = sibling.task_spec
            if isinstance(spec, BoundaryEvent) and isinstance(spec.event_definition, ErrorEventDefinition):
                event = BpmnEvent(type(spec.event_definition)(code, code=code), payload=payload)
                if spec.catches(sibling, event):
                    return sibling, event
        parent_id = current.workflow.parent_task_id
        current = workflow.get_task_from_id(parent_id) if parent_id is not None else None
    return None


def extend_lock(session: so.Session, task_id: str, worker_id: str, new_duration_ms: int) -> None:
    row = get_external_task(session, task_id)
    now = services(session).clock.now()
    require_live_lock(row, worker_id, "extended", now)
    check_lock_duration(session, new_duration_ms, "newDuration")
    row.lock_expires_at = now + timedelta(milliseconds=new_duration_ms)
    session.flush()


def unlock(session: so.Session, task_id: str, actor: str | None) -> None:
    row = get_external_task(session, task_id)
    row.worker_id = None
    row.lock_expires_at = None
    audit.record(session, "external-task-unlock", actor=actor, instance_id=row.instance_id, entity_id=task_id)
    session.flush()


def set_retries(session: so.Session, task_id: str, retries: int, actor: str | None) -> None:
    """Give a failed task new retries; a positive count resolves its incident (Camunda's retry)."""
    if retries is None:
        raise InvalidInput("retries is required")
    check_count(retries, "retries")
    row = get_external_task(session, task_id)
    row.retries = retries
    if retries > 0:
        row.lock_expires_at = None
        row.worker_id = None
        now = services(session).clock.now()
        session.execute(sa.update(Incident).where(
            Incident.configuration == task_id, Incident.resolved_at.is_(None)).values(resolved_at=now))
    audit.record(session, "set-retries", actor=actor, instance_id=row.instance_id, entity_id=task_id,
                 details={"retries": retries})
    session.flush()


def _utc(moment: datetime) -> datetime:
    from .clock import as_utc

    return as_utc(moment)


def external_tasks_query(*, topic: str | None = None, worker_id: str | None = None,
                         instance_id: str | None = None, locked: bool | None = None,
                         with_retries_left: bool | None = None, no_retries_left: bool | None = None,
                         now: datetime | None = None) -> sa.Select:
    stmt = sa.select(ExternalTask)
    if topic:
        stmt = stmt.where(ExternalTask.topic == topic)
    if worker_id:
        stmt = stmt.where(ExternalTask.worker_id == worker_id)
    if instance_id:
        stmt = stmt.where(ExternalTask.instance_id == instance_id)
    if locked and now is not None:
        stmt = stmt.where(ExternalTask.lock_expires_at > now)
    if with_retries_left:
        stmt = stmt.where(sa.or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0))
    if no_retries_left:
        stmt = stmt.where(ExternalTask.retries == 0)
    return stmt
