"""Helpers that drive the engine the way the API does: one transaction per command."""
from __future__ import annotations

import sqlalchemy as sa
from SpiffWorkflow.util.task import TaskState

from engine import external, runtime, tasks
from engine.models import ProcessInstance, UserTask

DIALECTS = ["camunda", "spiff"]
ALL = ["admin"]


def start(sessions, key: str, **kw) -> str:
    with sessions.begin() as session:
        return runtime.start_instance(session, key, actor="test", **kw).id


def user_tasks(sessions, instance_id: str) -> list[UserTask]:
    with sessions.begin() as session:
        return list(session.scalars(sa.select(UserTask).where(UserTask.instance_id == instance_id)
                                    .order_by(UserTask.activity_id, UserTask.created_at)))


def complete(sessions, task: UserTask, variables: dict | None = None) -> None:
    with sessions.begin() as session:
        tasks.complete(session, task.id, variables or {}, user="tester", groups=ALL)


def complete_only(sessions, instance_id: str, activity_id: str, variables: dict | None = None) -> None:
    found = [t for t in user_tasks(sessions, instance_id) if t.activity_id == activity_id]
    assert len(found) == 1, f"expected one '{activity_id}' task, got {[t.activity_id for t in user_tasks(sessions, instance_id)]}"
    complete(sessions, found[0], variables)


def status(sessions, instance_id: str) -> str:
    with sessions.begin() as session:
        return session.get(ProcessInstance, instance_id).status


def completed_activities(sessions, instance_id: str) -> set[str]:
    with sessions.begin() as session:
        workflow = runtime.load(session, instance_id).workflow
        return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}


def variables(sessions, instance_id: str) -> dict:
    with sessions.begin() as session:
        return runtime.instance_variables(runtime.load(session, instance_id).workflow)


def fetch(sessions, topic: str, worker: str = "w1", count: int = 10) -> list[external.LockedTask]:
    with sessions.begin() as session:
        return external.fetch_and_lock(session, worker, [external.TopicRequest(topic, 60_000)], max_tasks=count)
