"""Moving one SpiffWorkflow workflow onto another version of its specs, in memory.

The library's own machinery (``SpiffWorkflow/bpmn/util/diff.py``) does the alignment: ``SpecDiff``
pairs each task spec of the old version with one of the new (by BPMN id first, then by structure)
and ``WorkflowDiff`` maps each task of the workflow through it. Two parts of it do not fit this
engine and are replaced here, each for a reason that was tried:

* ``SpecDiff`` compares aligned specs through a serializer registry; ours stores no specs (they are
  parsed from the deployed XML) and its registry cannot convert our specs (``ExternalServiceTask``
  and the multi-instance subclasses raise). The comparison here needs no registry: class, inputs
  and outputs — which is what decides whether a waiting task can stay where it is.
* ``migrate_workflow`` swaps the specs (done here the same way) and then *resets* every READY and
  WAITING task: that clears their internal data — an armed timer would lose its due time and start
  counting again —, re-fires their ready hooks (the case clock markers), and leaves STARTED tasks
  (external tasks, call activities) alone, so their predicted successors keep pointing at the old
  path and a step added after a waiting service task would be skipped. Here nothing is reset: the
  predicted (not yet reached) tasks after every waiting task are dropped and predicted again from
  the new spec; waiting tasks keep their id, state, data and internal data.

A workflow is moved only when every task that is not a mere prediction has a counterpart: waiting
tasks one with the same id and type (and the same boundary events and called process), tasks
already done any aligned one (the history must still name a spec of the new version, or the
state could not be loaded again). ``check`` says what stands in the way; ``migrate`` moves.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity, SubWorkflowTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

from .messages import message_definitions
from .parser import ExternalServiceTask
from .projections import containing_process
from .timers import timer_definitions

WAITING_STATES = TaskState.READY | TaskState.STARTED | TaskState.WAITING
#: tasks the workflow expects to reach (SpiffWorkflow's predictions, FUTURE included): rebuilt, not moved
NOT_REACHED = TaskState.FUTURE | TaskState.PREDICTED_MASK


@dataclass(frozen=True)
class Blocker:
    """Why an instance cannot move: a stable ``code`` for pages, an English sentence, the element."""

    code: str
    message: str
    element_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "elementId": self.element_id}


@dataclass(frozen=True)
class WaitingTask:
    task: Any
    #: the key of the process whose diagram holds the element (a called process's, inside a call activity)
    process_key: str
    activity_id: str
    name: str | None
    kind: str


class SpecAlignment(SpecDiff):
    """SpiffWorkflow's alignment of two process specs, compared without a serializer registry."""

    def __init__(self, original: Any, new: Any) -> None:
        super().__init__(None, original, new)

    def _compare_task_specs(self, spec: Any, candidate: Any) -> list[str]:
        if type(spec) is not type(candidate):
            return ["typename"]
        changed = []
        for side in ("inputs", "outputs"):
            if sorted(s.name for s in getattr(spec, side)) != sorted(s.name for s in getattr(candidate, side)):
                changed.append(side)
        return changed


class Alignments:
    """One ``SpecAlignment`` per pair of spec objects: parsed specs are cached, so every instance
    of a version shares them and a plan over many instances aligns each pair once."""

    def __init__(self) -> None:
        self._found: dict[tuple[int, int], SpecAlignment] = {}

    def of(self, original: Any, new: Any) -> SpecAlignment:
        key = (id(original), id(new))
        if key not in self._found:
            self._found[key] = SpecAlignment(original, new)
        return self._found[key]


def workflows(workflow: Any) -> list[Any]:
    """The top workflow and every subworkflow (call activities, embedded subprocesses), done ones too."""
    return [workflow, *workflow.subprocesses.values()]


def target_spec(workflow: Any, top: Any, spec: Any, subprocess_specs: dict[str, Any]) -> Any | None:
    return spec if workflow is top else subprocess_specs.get(workflow.spec.name)


def waiting_tasks(workflow: Any, keys: Iterable[str]) -> list[WaitingTask]:
    """Every task a token waits in, with the process that holds it (``keys``: the instance's own
    and its called processes' keys)."""
    keys = set(keys)
    found = []
    for flow in workflows(workflow):
        for task in flow.get_tasks(state=WAITING_STATES, skip_subprocesses=True):
            spec = task.task_spec
            if not getattr(spec, "bpmn_id", None):
                continue
            found.append(WaitingTask(task, containing_process(task, keys), spec.bpmn_id,
                                     getattr(spec, "bpmn_name", None), kind_of(task)))
    return found


def kind_of(task: Any) -> str:
    """What a waiting task waits as, in BPMN words."""
    spec = task.task_spec
    if spec.manual:
        return "userTask"
    if isinstance(spec, ExternalServiceTask):
        return "externalTask"
    if isinstance(spec, CallActivity):
        return "callActivity"
    if isinstance(spec, SubWorkflowTask):
        return "subProcess"
    if isinstance(spec, LoopTask):
        return "multiInstance"
    if timer_definitions(task):
        return "timer"
    if any(message_definitions(task)):
        return "message"
    if isinstance(spec, CatchingEvent):
        return "event"
    if isinstance(spec, Join):
        return "gateway"
    return spec.__class__.__name__


def check(workflow: Any, spec: Any, subprocess_specs: dict[str, Any], alignments: Alignments,
          *, moving: Iterable[str] = (), activity_ids: set[str] | None = None,
          keys: Iterable[str] = ()) -> list[Blocker]:
    """What keeps ``workflow`` from moving onto ``spec`` (and ``subprocess_specs``); empty: it can.

    ``activity_ids``, when given, are the only elements of the ``moving`` processes a token may wait
    in (Camunda's migration instructions); ``keys`` are the instance's process keys."""
    blockers: list[Blocker] = []
    moving, keys = set(moving), set(keys) | set(moving)
    for flow in workflows(workflow):
        new = target_spec(flow, workflow, spec, subprocess_specs)
        if new is None:
            blockers.append(Blocker("subprocess-removed", f"The target version has no process '{flow.spec.name}', "
                                    "which this instance runs as a subprocess", flow.spec.name))
            continue
        diff = WorkflowDiff(flow, alignments.of(flow.spec, new))
        for task in flow.tasks.values():
            if task.has_state(NOT_REACHED):
                continue
            blocker = _task_blocker(task, diff.alignment.get(task), keys, moving, activity_ids)
            if blocker is not None and blocker not in blockers:
                blockers.append(blocker)
    return blockers


def _task_blocker(task: Any, aligned: Any, keys: set[str], moving: set[str],
                  activity_ids: set[str] | None) -> Blocker | None:
    spec = task.task_spec
    element = getattr(spec, "bpmn_id", None) or spec.name
    waiting = task.has_state(WAITING_STATES)
    if aligned is None or (waiting and aligned.name != spec.name):
        if waiting:
            return Blocker("element-removed", f"The instance waits at '{element}', which the target version "
                           "does not have", element)
        return Blocker("history-removed", f"The instance already passed '{element}', which the target version "
                       "does not have; its history could not be kept", element)
    if isinstance(spec, SubWorkflowTask) and getattr(aligned, "spec", None) != spec.spec:
        return Blocker("called-process-changed", f"'{element}' runs '{spec.spec}' here but "
                       f"'{getattr(aligned, 'spec', None)}' in the target version", element)
    if not waiting:
        return None
    if type(aligned) is not type(spec):
        return Blocker("type-changed", f"The instance waits at '{element}', which is a "
                       f"{_type_name(spec)} here and a {_type_name(aligned)} in the target version", element)
    old_events, new_events = boundary_events(spec), boundary_events(aligned)
    if old_events != new_events:
        return Blocker("boundary-events-changed", f"The instance waits at '{element}', whose boundary events "
                       f"differ in the target version ({', '.join(old_events) or 'none'} → "
                       f"{', '.join(new_events) or 'none'})", element)
    if activity_ids is not None and getattr(spec, "bpmn_id", None) and spec.bpmn_id not in activity_ids \
            and containing_process(task, keys) in moving:
        return Blocker("no-instruction", f"The migration plan has no instruction for '{element}', where the "
                       "instance waits", element)
    return None


def _type_name(spec: Any) -> str:
    return spec.__class__.__name__


def boundary_events(spec: Any) -> list[str]:
    """The ids of the boundary events attached to a task (or to the task a boundary event is on)."""
    for split in spec.inputs:
        if isinstance(split, BoundaryEventSplit):
            return sorted(o.name for o in split.outputs)
    return []


def migrate(workflow: Any, spec: Any, subprocess_specs: dict[str, Any], alignments: Alignments) -> None:
    """Put ``workflow`` on the new specs in place (call after ``check`` found nothing): every task
    gets its aligned spec, then the predicted tasks after each waiting one are predicted anew.
    Serialize and load the result before using it: SpiffWorkflow connects a running subworkflow
    to its call activity's spec when it loads one."""
    moves = []
    for flow in workflows(workflow):
        new = target_spec(flow, workflow, spec, subprocess_specs)
        moves.append((flow, new, WorkflowDiff(flow, alignments.of(flow.spec, new))))
    workflow.subprocess_specs = subprocess_specs
    for flow, new, diff in moves:
        flow.spec = new
        for task in flow.tasks.values():
            aligned = diff.alignment.get(task)
            if aligned is not None:
                task.task_spec = aligned
    for flow, _new, _diff in moves:
        _predict_again(flow)


def _predict_again(flow: Any) -> None:
    for task in list(_frontier(flow)):
        if task.id not in flow.tasks:
            continue
        for child in list(task.children):
            if child.has_state(NOT_REACHED) and not child.triggered:
                flow._remove_task(child.id)
        task.task_spec._predict(task, mask=NOT_REACHED | task.state)


def _frontier(flow: Any) -> Iterator[Any]:
    for task in flow.tasks.values():
        if task.has_state(WAITING_STATES):
            yield task
