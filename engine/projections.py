"""Rewrite an instance's query tables from its workflow state.

The workflow is the truth; user tasks, external tasks, message subscriptions
and timers are derived from it after every command, in the same transaction.
Because every command keeps rows and state in step, the waits seen when the
instance was loaded are exactly the rows that exist: a command diffs the
waits before and after and touches only what changed, without reading the
rows back. Rows that still match a waiting task are left alone (so claims,
locks and retries survive).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.util.task import TaskState

from .context import services
from .external import new_external_task
from .involvement import involve
from .messages import message_definitions, new_subscriptions
from .models import ExternalTask, Incident, MessageSubscription, TaskCandidate, Timer, UserTask
from .parser import ExternalServiceTask
from .tasks import new_user_task
from .timers import ARMED, armed_schedule, event_kind, waiting_timer_tasks

if TYPE_CHECKING:
    from .runtime import Loaded

ENDED = ("completed", "cancelled")


@dataclass
class Waits:
    """Task ids of everything an instance waits for; timers with their due time."""

    users: dict[str, Any] = field(default_factory=dict)
    externals: dict[str, Any] = field(default_factory=dict)
    messages: dict[str, Any] = field(default_factory=dict)
    timers: dict[str, Any] = field(default_factory=dict)
    due: dict[str, datetime] = field(default_factory=dict)


def waits_of(workflow: Any) -> Waits:
    waits = Waits()
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED):
        spec = task.task_spec
        if task.state == TaskState.READY and spec.manual:
            waits.users[str(task.id)] = task
        elif task.state == TaskState.STARTED and isinstance(spec, ExternalServiceTask):
            waits.externals[str(task.id)] = task
    for task in workflow.event_manager.tasks.values():
        if task.state == TaskState.WAITING and any(message_definitions(task)):
            waits.messages[str(task.id)] = task
    for task in waiting_timer_tasks(workflow):
        schedule = armed_schedule(task)
        if schedule is not None:
            waits.timers[str(task.id)] = task
            waits.due[str(task.id)] = schedule.due
    return waits


def sync(session: so.Session, loaded: "Loaded", now: datetime) -> None:
    instance = loaded.instance
    before = loaded.before or Waits()
    after = Waits() if instance.status in ENDED else waits_of(loaded.workflow)
    suspended = instance.status == "suspended"
    owner = element_definitions(loaded)

    _, offered = _replace(session, UserTask, UserTask.id, before.users, after.users,
                          lambda t: new_user_task(loaded, t, now), suspended, owner)
    _involve_candidates(session, instance.id, offered)
    removed, _ = _replace(session, ExternalTask, ExternalTask.id, before.externals, after.externals,
                          lambda t: new_external_task(loaded, t, now), suspended, owner)
    _resolve_incidents(session, instance.id, removed, now, all_open=instance.status in ENDED)
    _replace(session, MessageSubscription, MessageSubscription.task_id, before.messages, after.messages,
             lambda t: new_subscriptions(loaded, t, now), None, owner)
    _replace(session, Timer, Timer.id, before.timers, after.timers,
             lambda t: new_timer(loaded, t, after.due[str(t.id)], now), suspended, owner)
    _move_due_timers(session, before.due, after.due)
    loaded.before = after


def element_definitions(loaded: "Loaded") -> Callable[[Any], str]:
    """Task → id of the deployed definition whose file holds its element (the instance's own, or a called
    process's: call activities run inside the calling instance)."""
    ids = {loaded.definition.key: loaded.definition.id}
    ids.update({called.split(":", 1)[0]: called for called in loaded.instance.called_definition_ids or []})
    return lambda task: ids.get(containing_process(task, ids), loaded.definition.id)


def containing_process(task: Any, known: Iterable[str]) -> str:
    """The key of the process that holds the task: embedded subprocesses climb to the process around them."""
    known = set(known)
    workflow = task.workflow
    while workflow.spec.name not in known and getattr(workflow, "parent_workflow", None) is not None:
        workflow = workflow.parent_workflow
    return workflow.spec.name


def _involve_candidates(session: so.Session, instance_id: str, offered: list[UserTask]) -> None:
    """Whoever a new task is assigned or offered to takes part in the instance from now on."""
    if offered:
        involve(session, instance_id, users=[u for row in offered for u in (row.assignee, *row.candidate_users)],
                groups=[g for row in offered for g in row.candidate_groups])


def _replace(session: so.Session, model: Any, key: Any, before: dict[str, Any], after: dict[str, Any],
             build: Any, suspended: bool | None, owner: Callable[[Any], str]) -> tuple[list[str], list[Any]]:
    """Delete the rows of waits that ended, add rows for new ones: (ids removed, rows added)."""
    removed = [task_id for task_id in before if task_id not in after]
    added: list[Any] = []
    if removed:
        if model is UserTask:  # through the ORM, so no stale candidate stays in the identity map
            session.execute(sa.delete(TaskCandidate).where(TaskCandidate.task_id.in_(removed)))
        session.execute(sa.delete(model).where(key.in_(removed)))
    for task_id, task in after.items():
        if task_id in before:
            continue
        rows = build(task)
        for row in rows if isinstance(rows, list) else [rows]:
            if suspended is not None:
                row.suspended = suspended
            row.element_definition_id = owner(task)
            session.add(row)
            added.append(row)
    return removed, added


def _move_due_timers(session: so.Session, before: dict[str, datetime], after: dict[str, datetime]) -> None:
    """A cycle timer that fired stays the same task with a later due time (and its retries back)."""
    retries = services(session).settings.timer_retries
    for task_id, due in after.items():
        if task_id in before and before[task_id] != due:
            session.execute(sa.update(Timer).where(Timer.id == task_id)
                            .values(due_at=due, retries=retries, last_error=None))


def new_timer(loaded: "Loaded", task: Any, due: datetime, now: datetime) -> Timer:
    instance = loaded.instance
    spec = task.task_spec
    armed = task.internal_data.get(ARMED, {})
    return Timer(id=str(task.id), instance_id=instance.id, definition_id=instance.definition_id,
                 activity_id=armed.get("timer") or spec.bpmn_id or spec.name, event_kind=event_kind(spec),
                 description=str(armed.get("expression") or "")[:255], due_at=due, created_at=now)


def set_suspended(session: so.Session, instance_id: str, suspended: bool) -> None:
    """Suspending an instance hides its tasks from inboxes and workers and stops its timers."""
    for model in (UserTask, ExternalTask, Timer):
        session.execute(sa.update(model).where(model.instance_id == instance_id).values(suspended=suspended))


def _resolve_incidents(session: so.Session, instance_id: str, removed_tasks: list[str], now: datetime,
                       all_open: bool) -> None:
    if not removed_tasks and not all_open:
        return
    stmt = sa.update(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
    if not all_open:
        stmt = stmt.where(Incident.configuration.in_(removed_tasks))
    session.execute(stmt.values(resolved_at=now))
