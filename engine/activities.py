"""What an instance did and is doing, element by element, and where the cases of a deployed version wait:
the sources of the supervisors' diagrams.

Called processes run inside the calling instance (a 一件事 calls the decision
process once per department), so one instance spans several definitions;
each element is counted in the definition whose XML holds it. Counts are of
task instances: a loop passed twice, or a multi-instance activity for three
departments, shows 2 or 3. Timers and incidents come from their tables, so the
diagram shows exactly what the scheduler and the workers see.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.util.task import TaskState

from .models import ExternalTask, Incident, MessageSubscription, ProcessDefinition, ProcessInstance, Timer, UserTask
from .deploy import read_bpmn
from .projections import containing_process
from .runtime import Loaded

ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING


@dataclass
class ElementState:
    completed: int = 0
    active: int = 0
    #: due times of the element's waiting timers
    timers: list[datetime] = field(default_factory=list)
    incidents: int = 0


@dataclass
class DefinitionStates:
    definition: ProcessDefinition
    elements: dict[str, ElementState] = field(default_factory=dict)

    def element(self, activity_id: str) -> ElementState:
        return self.elements.setdefault(activity_id, ElementState())


def activity_states(session: so.Session, loaded: Loaded) -> list[DefinitionStates]:
    """Per definition (the instance's own first, then the called ones it entered), per element."""
    instance = loaded.instance
    instance_id = instance.id
    definitions = {loaded.definition.key: loaded.definition}
    for called_id in instance.called_definition_ids or []:
        called = session.get(ProcessDefinition, called_id)
        if called is not None:
            definitions.setdefault(called.key, called)
    found: dict[str, DefinitionStates] = {loaded.definition.key: DefinitionStates(loaded.definition)}
    for task in loaded.workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id or not task.state & (TaskState.COMPLETED | ACTIVE):
            continue
        key = _definition_key(task, definitions, loaded.definition.key)
        states = found.setdefault(key, DefinitionStates(definitions[key]))
        element = states.element(bpmn_id)
        if task.state == TaskState.COMPLETED:
            element.completed += 1
        else:
            element.active += 1
    root = found[loaded.definition.key]
    for timer in session.scalars(sa.select(Timer).where(Timer.instance_id == instance_id)):
        _owner(found, timer.activity_id, root).element(timer.activity_id).timers.append(timer.due_at)
    for incident in session.scalars(sa.select(Incident).where(Incident.instance_id == instance_id,
                                                            Incident.resolved_at.is_(None))):
        _owner(found, incident.activity_id, root).element(incident.activity_id).incidents += 1
    return list(found.values())


def _definition_key(task: Any, definitions: dict[str, ProcessDefinition], root_key: str) -> str:
    key = containing_process(task, definitions)
    return key if key in definitions else root_key


def _owner(found: dict[str, DefinitionStates], activity_id: str, root: DefinitionStates) -> DefinitionStates:
    """Timers and incidents name only the element: the definition where that element already shows."""
    for states in found.values():
        if activity_id in states.elements:
            return states
    return root


@dataclass
class ElementLoad:
    """Where cases wait in one deployed version: rows of the projections, counted per element."""

    waiting: int = 0
    #: open incidents by type (failedExternalTask, failedJob)
    incidents: dict[str, int] = field(default_factory=dict)


def definition_statistics(session: so.Session, definition_id: str, within: sa.ColumnElement[bool] | None = None
                          ) -> dict[str, ElementLoad]:
    """Per element of the definition: tasks, service tasks, timers and messages waiting there now, and open
    incidents — counted on the projection tables by (element definition, activity), an index each; with
    ``within`` (SQL over ``process_instance``), only those cases (what a department's supervisors see)."""
    found: dict[str, ElementLoad] = {}
    for model in (UserTask, ExternalTask, Timer, MessageSubscription):
        stmt = _scoped(sa.select(model.activity_id, sa.func.count()).where(model.element_definition_id == definition_id)
                       .group_by(model.activity_id), model, within)
        if model is Timer:
            stmt = stmt.where(Timer.instance_id.is_not(None))
        for activity_id, count in session.execute(stmt):
            found.setdefault(activity_id, ElementLoad()).waiting += count
    open_incidents = _scoped(sa.select(Incident.activity_id, Incident.incident_type, sa.func.count())
                             .where(Incident.element_definition_id == definition_id, Incident.resolved_at.is_(None))
                             .group_by(Incident.activity_id, Incident.incident_type), Incident, within)
    for activity_id, kind, count in session.execute(open_incidents):
        found.setdefault(activity_id, ElementLoad()).incidents[kind] = count
    return found


def _scoped(stmt: sa.Select, model: Any, within: sa.ColumnElement[bool] | None) -> sa.Select:
    if within is None:
        return stmt
    return stmt.join(ProcessInstance, ProcessInstance.id == model.instance_id).where(within)


def running_instances(session: so.Session, definition_id: str, within: sa.ColumnElement[bool] | None = None) -> int:
    stmt = sa.select(sa.func.count()).select_from(ProcessInstance).where(
        ProcessInstance.definition_id == definition_id, ProcessInstance.status == "running")
    return session.scalar(stmt if within is None else stmt.where(within))


def element_names(definition: ProcessDefinition) -> dict[str, str]:
    """Element id → name in the definition's own XML (stored and checked at deploy: read with the same
    hardened reader)."""
    tree = read_bpmn(definition.xml.encode("utf-8"), definition.resource_name, len(definition.xml.encode("utf-8")))
    return {e.get("id"): e.get("name") for e in tree.iter() if isinstance(e.tag, str) and e.get("id") and e.get("name")}
