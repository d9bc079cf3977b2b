"""What an instance did and is doing, element by element: the source of the supervisors' diagram.

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

from .models import Incident, ProcessDefinition, Timer
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
    """The deployed process whose file holds the task: climb embedded subprocesses to a process we know."""
    workflow = task.workflow
    while workflow.spec.name not in definitions and getattr(workflow, "parent_workflow", None) is not None:
        workflow = workflow.parent_workflow
    return workflow.spec.name if workflow.spec.name in definitions else root_key


def _owner(found: dict[str, DefinitionStates], activity_id: str, root: DefinitionStates) -> DefinitionStates:
    """Timers and incidents name only the element: the definition where that element already shows."""
    for states in found.values():
        if activity_id in states.elements:
            return states
    return root
