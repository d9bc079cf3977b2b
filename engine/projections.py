"""Rewrite an instance's query tables from its workflow state.

The workflow is the truth; user tasks, external tasks and message
subscriptions are derived from it after every command, in the same
transaction. Rows that still match a waiting task are kept (so claims, locks
and retries survive); rows whose task moved on are deleted; new waits get rows.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.util.task import TaskState

from .external import new_external_task
from .messages import message_definitions, new_subscriptions
from .models import ExternalTask, Incident, MessageSubscription, UserTask
from .parser import ExternalServiceTask
from .tasks import new_user_task

if TYPE_CHECKING:
    from .runtime import Loaded

ENDED = ("completed", "cancelled")


def sync(session: so.Session, loaded: "Loaded", now: datetime) -> None:
    instance = loaded.instance
    fresh = instance in session.new
    users, externals, waits = ({}, {}, {}) if instance.status in ENDED else _waiting(loaded.workflow)
    suspended = instance.status == "suspended"
    _sync_rows(session, UserTask, instance.id, users, fresh,
               lambda t: new_user_task(loaded, t, now), suspended)
    removed = _sync_rows(session, ExternalTask, instance.id, externals, fresh,
                         lambda t: new_external_task(loaded, t, now), suspended)
    _resolve_incidents(session, instance.id, removed, now, all_open=instance.status in ENDED)
    _sync_subscriptions(session, loaded, waits, fresh, now)


def _waiting(workflow: Any) -> tuple[dict, dict, dict]:
    users, externals = {}, {}
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.STARTED):
        spec = task.task_spec
        if task.state == TaskState.READY and spec.manual:
            users[str(task.id)] = task
        elif task.state == TaskState.STARTED and isinstance(spec, ExternalServiceTask):
            externals[str(task.id)] = task
    waits = {str(task.id): task for task in workflow.event_manager.tasks.values()
             if task.state == TaskState.WAITING and any(message_definitions(task))}
    return users, externals, waits


def _sync_rows(session: so.Session, model: Any, instance_id: str, wanted: dict[str, Any], fresh: bool,
               build: Any, suspended: bool) -> list[str]:
    existing = [] if fresh else list(session.scalars(sa.select(model).where(model.instance_id == instance_id)))
    removed = []
    for row in existing:
        if row.id in wanted:
            wanted = {k: v for k, v in wanted.items() if k != row.id}
            if row.suspended != suspended:
                row.suspended = suspended
        else:
            removed.append(row.id)
            session.delete(row)
    for task in wanted.values():
        row = build(task)
        row.suspended = suspended
        session.add(row)
    return removed


def _resolve_incidents(session: so.Session, instance_id: str, removed_tasks: list[str], now: datetime,
                       all_open: bool) -> None:
    if not removed_tasks and not all_open:
        return
    stmt = sa.update(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
    if not all_open:
        stmt = stmt.where(Incident.configuration.in_(removed_tasks))
    session.execute(stmt.values(resolved_at=now))


def _sync_subscriptions(session: so.Session, loaded: "Loaded", waits: dict[str, Any], fresh: bool,
                        now: datetime) -> None:
    instance_id = loaded.instance.id
    existing = [] if fresh else list(session.scalars(
        sa.select(MessageSubscription).where(MessageSubscription.instance_id == instance_id)))
    have = set()
    for row in existing:
        if row.task_id in waits:
            have.add(row.task_id)
        else:
            session.delete(row)
    for task_id, task in waits.items():
        if task_id not in have:
            session.add_all(new_subscriptions(loaded, task, now))
