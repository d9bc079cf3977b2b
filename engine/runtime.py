"""Load an instance, apply a command, run to the next wait, save — in the caller's transaction.

Every command that changes an instance goes through ``load`` and ``advance``:
``advance`` runs engine steps until every token waits, serializes the state,
rewrites the projections (user tasks, external tasks, subscriptions), appends
to the audit log and flushes. The instance row carries an optimistic lock
version, so two commands racing on one instance cannot both win: the loser's
flush fails and it gets ``Conflict`` with nothing written.
"""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import audit, caseclock, markers, projections
from .context import services
from .deploy import latest_definition
from .errors import BadUserRequest, Conflict, EngineError, NotFound, ProcessFailure
from .models import ProcessDefinition, ProcessInstance
from .serializer import serializer_for
from .projections import Waits, waits_of
from .workdays import script_engine_for
from .timers import TimerExpressionError, arm_waiting_timers, fire_start_timer
from .values import check_business_key, check_variables

RUNNING, SUSPENDED, COMPLETED, CANCELLED = "running", "suspended", "completed", "cancelled"


@dataclass
class Loaded:
    instance: ProcessInstance
    workflow: BpmnWorkflow
    definition: ProcessDefinition
    #: what the instance waited for when loaded (None for a new one): the rows that exist
    before: Waits | None = None


def resolve_called_definitions(session: so.Session, root: ProcessDefinition) -> list[ProcessDefinition]:
    """Latest version of every process reachable through call activities, pinned at start."""
    found: dict[str, ProcessDefinition] = {}
    pending = list(root.called_keys or [])
    while pending:
        key = pending.pop()
        if key in found or key == root.key:
            continue
        definition = latest_definition(session, key)
        if definition is None:
            raise BadUserRequest(
                f"Process '{root.key}' calls process '{key}', which is not deployed; deploy it first")
        found[key] = definition
        pending.extend(definition.called_keys or [])
    return list(found.values())


def _bundle(session: so.Session, definition: ProcessDefinition, called_ids: Iterable[str]) -> tuple[Any, dict]:
    ids = [definition.id, *called_ids]

    def load_definitions() -> list[ProcessDefinition]:
        return [definition, *(session.get(ProcessDefinition, i) for i in ids[1:])]

    return services(session).specs.get(ids, load_definitions)


def start_instance(session: so.Session, key: str | None = None, *, definition_id: str | None = None,
                   business_key: str | None = None, variables: dict[str, Any] | None = None,
                   actor: str | None = None, start_message: str | None = None) -> ProcessInstance:
    """Create an instance of the latest version of ``key`` (or of one definition) and run it.

    With ``start_message`` the instance is started by that message: its message
    start event catches it (with the variables) before the first wait.
    """
    check_business_key(business_key)
    check_variables(variables)
    definition = (session.get(ProcessDefinition, definition_id) if definition_id
                  else latest_definition(session, key or ""))
    if definition is None:
        what = f"id '{definition_id}'" if definition_id else f"key '{key}'"
        raise NotFound(f"No process definition with {what} is deployed")
    called = resolve_called_definitions(session, definition)
    spec, subprocess_specs = _bundle(session, definition, [d.id for d in called])
    svc = services(session)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine_for(session))
    start = workflow.get_next_task(state=TaskState.READY)
    if start is not None and variables:
        start.data.update(variables)
    instance = ProcessInstance(
        id=str(uuid.uuid4()), definition_id=definition.id, definition_key=definition.key,
        business_key=business_key, status=RUNNING, state="", called_definition_ids=[d.id for d in called],
        started_at=svc.clock.now(), started_by=actor,
    )
    session.add(instance)
    session.flush()  # the projections reference the instance row
    markers.bind(workflow, markers.MarkerContext(session, instance.id, actor=actor))
    loaded = Loaded(instance, workflow, definition)
    caseclock.open_clock(session, instance, variables or {}, actor)
    if start_message:
        _catch_start_message(workflow, start_message, variables or {})
    else:
        run_engine(workflow)
        fire_start_timer(workflow)
    advance(session, loaded, actor, "start", {"definitionId": definition.id, "businessKey": business_key,
                                              "variables": sorted((variables or {}).keys())})
    return instance


def _catch_start_message(workflow: BpmnWorkflow, message_name: str, variables: dict[str, Any]) -> None:
    from SpiffWorkflow.bpmn import BpmnEvent

    from .messages import message_definitions

    run_engine(workflow)
    for task in workflow.get_tasks(state=TaskState.WAITING):
        for definition in message_definitions(task):
            if definition.name == message_name:
                task.task_spec.catch(task, BpmnEvent(definition, payload=dict(variables)))
                task.data.update(variables)
                task.task_spec._update(task)
                return
    raise BadUserRequest(f"Process '{workflow.spec.name}' has no start event waiting for message '{message_name}'")


def load(session: so.Session, instance_id: str) -> Loaded:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"Process instance with id '{instance_id}' does not exist")
    definition = session.get(ProcessDefinition, instance.definition_id)
    spec, subprocess_specs = _bundle(session, definition, instance.called_definition_ids or [])
    workflow = serializer_for(definition.dialect).loads(instance.state, spec, subprocess_specs)
    workflow.script_engine = script_engine_for(session)
    markers.bind(workflow, markers.MarkerContext(session, instance.id, actor=None))
    return Loaded(instance, workflow, definition, before=waits_of(workflow))


def load_running(session: so.Session, instance_id: str) -> Loaded:
    """Load an instance that accepts commands: not suspended, not ended."""
    loaded = load(session, instance_id)
    require_running(loaded.instance)
    return loaded


def require_running(instance: ProcessInstance) -> None:
    if instance.status == SUSPENDED:
        raise BadUserRequest(f"Process instance '{instance.id}' is suspended; resume it first")
    if instance.status in (COMPLETED, CANCELLED):
        raise BadUserRequest(f"Process instance '{instance.id}' has ended ({instance.status})")


def run_engine(workflow: BpmnWorkflow) -> None:
    """Run until every token waits; model errors become ProcessFailure (the command rolls back)."""
    try:
        workflow.do_engine_steps()
    except EngineError:  # a marker refused the step (engine.markers): the caller gets that refusal
        raise
    except SpiffWorkflowException as exc:
        refusal = _engine_error_in(exc)
        if refusal is not None:
            raise refusal from exc
        raise ProcessFailure(_describe_failure(exc)) from exc
    except Exception as exc:  # a bug in a spec or script helper; still the model's failure
        raise ProcessFailure(f"Process failed: {exc.__class__.__name__}: {exc}") from exc


def _engine_error_in(exc: BaseException) -> EngineError | None:
    """The engine's own refusal that SpiffWorkflow wrapped on its way out, if there is one."""
    seen = exc
    while seen is not None:
        if isinstance(seen, EngineError):
            return seen
        seen = seen.__cause__ or getattr(seen, "exception", None)
    return None


def arm_timers(workflow: BpmnWorkflow, now: datetime, tz: tzinfo) -> None:
    """Timers that started waiting in this command get their due time; a bad expression fails
    the command like a failing script would."""
    try:
        arm_waiting_timers(workflow, now, tz)
    except TimerExpressionError as exc:
        raise ProcessFailure(f"Process failed: {exc}") from exc
    except SpiffWorkflowException as exc:
        raise ProcessFailure(_describe_failure(exc)) from exc


def _describe_failure(exc: SpiffWorkflowException) -> str:
    task = getattr(exc, "task", None) or getattr(exc, "task_spec", None)
    spec = getattr(task, "task_spec", task)
    where = f" at element '{getattr(spec, 'bpmn_id', None) or getattr(spec, 'name', '?')}'" if spec else ""
    notes = "; ".join(getattr(exc, "__notes__", []) or [])
    cause = exc.__cause__ or getattr(exc, "exception", None)
    text = str(exc.args[0]) if exc.args else exc.__class__.__name__
    if cause is not None and str(cause) not in text:
        text += f": {cause}"
    return f"Process failed{where}: {text}" + (f" ({notes})" if notes else "")


def advance(session: so.Session, loaded: Loaded, actor: str | None, action: str,
            details: dict[str, Any] | None = None) -> None:
    """Run engine steps, save the state and projections, audit — then flush to surface conflicts."""
    workflow, instance = loaded.workflow, loaded.instance
    svc = services(session)
    now = svc.clock.now()
    markers.acting(workflow, actor)
    run_engine(workflow)
    arm_timers(workflow, now, svc.tz)
    with conflicts_refused():
        instance.state = serializer_for(loaded.definition.dialect).dumps(workflow)
        if workflow.completed and instance.status == RUNNING:
            instance.status = COMPLETED
            instance.ended_at = now
        projections.sync(session, loaded, now)
        audit.record(session, action, actor=actor, instance_id=instance.id, details=details)
        if instance.status == COMPLETED and instance.ended_at == now:
            audit.record(session, "instance-completed", actor=actor, instance_id=instance.id)
            caseclock.close_clock(session, instance.id, actor)
        session.flush()


@contextmanager
def conflicts_refused() -> Iterator[None]:
    """Turn lost races into Conflict, wherever the flush happens (autoflush included);
    the caller's transaction then rolls back, so nothing is written."""
    try:
        yield
    except StaleDataError as exc:
        raise Conflict("The process instance was changed by another command at the same time; "
                       "nothing was written, reload and try again") from exc
    except IntegrityError as exc:
        if not _is_unique_violation(exc):
            raise
        raise Conflict("Another command wrote the same rows at the same time; nothing was written, "
                       "reload and try again") from exc


def _is_unique_violation(exc: IntegrityError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)


def save(session: so.Session, loaded: Loaded, actor: str | None, action: str,
         details: dict[str, Any] | None = None) -> None:
    """Persist state changes that need no engine steps (suspend, cancel)."""
    with conflicts_refused():
        loaded.instance.state = serializer_for(loaded.definition.dialect).dumps(loaded.workflow)
        projections.sync(session, loaded, services(session).clock.now())
        audit.record(session, action, actor=actor, instance_id=loaded.instance.id, details=details)
        session.flush()


def instance_variables(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The process's current variables: SpiffWorkflow keeps data per task, so merge the
    data of the tasks where tokens are now (in the order they got there)."""
    if workflow.completed:
        merged = dict(workflow.data)
        last = workflow.last_task
        if last is not None:
            merged.update(last.data)
        return _visible(merged)
    active = [t for t in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED | TaskState.WAITING)]
    active.sort(key=lambda t: t.last_state_change)
    merged: dict[str, Any] = {}
    for task in active:
        merged.update(task.data)
    return _visible(merged)


def _visible(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "data_objects" or v}


def cancel_instance(session: so.Session, instance_id: str, *, actor: str | None, reason: str | None) -> None:
    loaded = load(session, instance_id)
    if loaded.instance.status in (COMPLETED, CANCELLED):
        raise BadUserRequest(f"Process instance '{instance_id}' has already ended ({loaded.instance.status})")
    loaded.workflow.cancel()
    loaded.instance.status = CANCELLED
    loaded.instance.ended_at = services(session).clock.now()
    loaded.instance.end_reason = reason
    save(session, loaded, actor, "cancel", {"reason": reason})
    caseclock.close_clock(session, instance_id, actor)


def set_suspended(session: so.Session, instance_id: str, suspended: bool, *, actor: str | None,
                  reason: str | None = None) -> None:
    loaded = load(session, instance_id)
    instance = loaded.instance
    if instance.status in (COMPLETED, CANCELLED):
        raise BadUserRequest(f"Process instance '{instance_id}' has ended ({instance.status}); "
                             "it cannot be suspended or resumed")
    target = SUSPENDED if suspended else RUNNING
    if instance.status == target:
        return
    instance.status = target
    save(session, loaded, actor, "suspend" if suspended else "resume", {"reason": reason})
    projections.set_suspended(session, instance.id, suspended)


def instances_query(**filters: Any) -> sa.Select:
    """Filters as the REST list endpoints take them; unknown keys are ignored by the caller."""
    stmt = sa.select(ProcessInstance)
    if filters.get("business_key"):
        stmt = stmt.where(ProcessInstance.business_key == filters["business_key"])
    if filters.get("business_key_like"):
        stmt = stmt.where(ProcessInstance.business_key.like(filters["business_key_like"]))
    if filters.get("definition_key"):
        stmt = stmt.where(ProcessInstance.definition_key == filters["definition_key"])
    if filters.get("definition_id"):
        stmt = stmt.where(ProcessInstance.definition_id == filters["definition_id"])
    if filters.get("ids"):
        stmt = stmt.where(ProcessInstance.id.in_(filters["ids"]))
    statuses = filters.get("statuses")
    if statuses:
        stmt = stmt.where(ProcessInstance.status.in_(statuses))
    return stmt
