"""Moving running instances to another version of their process (Camunda's process instance migration).

A new deployment never moves a running instance: it stays on the version it started on (and on the
called processes' versions pinned then), and new instances start on the latest version. Moving is a
designer's deliberate act, in two steps: ``plan_migration`` is the dry run — for every running (or
suspended) instance of the source version it lists where the instance waits (user tasks, external
tasks, timers, message waits, call activities and what runs inside them) and whether each element
exists in the target with the same type, and says why an instance cannot move; it writes nothing.
``migrate_instances`` (or ``execute_plan``, for exactly the instances a dry run showed) moves them.

The source may also be a *called* process's version: instances of other processes that run it
inside a call activity (their pinned called definitions) count too, and only that part moves.

How an instance moves (``engine.workflow_migration``): its SpiffWorkflow state is put on the target's
specs, serialized and loaded again against them; tokens stay where they are. The projection rows of
what it waits for keep their ids, claims, locks, retries and due times and point at the target
(definition ids, element definitions); a value the target's element defines differently (a task's
name, form, candidate groups, a topic, a message name) is taken from the target unless people changed
it since (a claim stays). A waiting timer keeps its due time even if the target's expression differs.
Each moved instance gets an audit entry; its optimistic lock version is checked on flush.

All or nothing: everything happens in the caller's transaction, and an instance that cannot move
refuses the whole command (``MigrationRefused`` lists every blocked instance and why) unless the
caller asks to skip blocked instances (``skip_blocked=True``: what the dry run showed as blocked stays).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Collection, Sequence

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import runtime
from .context import services
from .definition_diff import FLOW_NODES, DefinitionDiff, diff_definitions, elements_of
from .deploy import latest_definition
from .errors import BadUserRequest, Conflict, InvalidInput, NotFound
from .messages import message_definitions, new_subscriptions
from .models import ExternalTask, Incident, MessageSubscription, ProcessDefinition, ProcessInstance, TaskCandidate, \
    Timer, UserTask
from .projections import element_definitions, waits_of
from .serializer import serializer_for
from .involvement import involve
from .tasks import new_user_task
from .external import new_external_task
from .workdays import script_engine_for
from .workflow_migration import Alignments, Blocker, WaitingTask, check, migrate, waiting_tasks

#: instances a migration considers: not ended
ACTIVE = (runtime.RUNNING, runtime.SUSPENDED)
_USER_FIELDS = ("name", "form_key", "assignee", "priority", "due_at", "follow_up_at")
_EXTERNAL_FIELDS = ("topic", "priority")


class MigrationRefused(BadUserRequest):
    """Some selected instances cannot move; nothing was written. ``blocked`` says which and why."""

    def __init__(self, message: str, blocked: Sequence["InstancePlan"]) -> None:
        super().__init__(message, code="migration.refused", count=len(blocked))
        self.blocked = list(blocked)


@dataclass(frozen=True)
class WaitingElement:
    """One element an instance waits in, as the dry run reports it (``count``: tokens there)."""

    activity_id: str
    name: str | None
    kind: str
    process_key: str
    in_target: bool
    #: aspects of the element that differ in the target (see engine.definition_diff)
    changes: tuple[str, ...] = ()
    count: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"activityId": self.activity_id, "name": self.name, "kind": self.kind,
                "processDefinitionKey": self.process_key, "inTarget": self.in_target,
                "changes": list(self.changes), "count": self.count}


@dataclass(frozen=True)
class InstancePlan:
    instance_id: str
    business_key: str | None
    status: str
    #: the instance's own definition (a called process's migration leaves it where it is)
    definition_id: str
    lock_version: int
    waiting: tuple[WaitingElement, ...]
    blockers: tuple[Blocker, ...]

    @property
    def migratable(self) -> bool:
        return not self.blockers

    def as_dict(self) -> dict[str, Any]:
        return {"processInstanceId": self.instance_id, "businessKey": self.business_key, "state": self.status.upper(),
                "processDefinitionId": self.definition_id, "migratable": self.migratable,
                "waiting": [w.as_dict() for w in self.waiting], "blockers": [b.as_dict() for b in self.blockers]}


@dataclass(frozen=True)
class MigrationPlan:
    """The dry run: every selected instance of the source version, movable or not and why."""

    source_definition_id: str
    target_definition_id: str
    key: str
    source_version: int
    target_version: int
    instances: tuple[InstancePlan, ...]
    #: the elements instances may wait in (Camunda's instructions); None: every element of the source
    activity_ids: frozenset[str] | None = None
    notes: tuple[str, ...] = ()

    @property
    def migratable(self) -> list[InstancePlan]:
        return [i for i in self.instances if i.migratable]

    @property
    def blocked(self) -> list[InstancePlan]:
        return [i for i in self.instances if not i.migratable]

    def counts(self) -> dict[str, int]:
        return {"instances": len(self.instances), "migratable": len(self.migratable), "blocked": len(self.blocked)}

    def as_dict(self) -> dict[str, Any]:
        return {"sourceProcessDefinitionId": self.source_definition_id,
                "targetProcessDefinitionId": self.target_definition_id, "key": self.key,
                "sourceVersion": self.source_version, "targetVersion": self.target_version,
                "counts": self.counts(), "notes": list(self.notes), "instances": [i.as_dict() for i in self.instances]}


@dataclass(frozen=True)
class MigrationResult:
    plan: MigrationPlan
    migrated: tuple[str, ...]
    #: instances left on the source (only with ``skip_blocked``)
    skipped: tuple[InstancePlan, ...] = ()


@dataclass
class _Trial:
    """One instance moved in memory: what the dry run reports and what the execution writes."""

    instance: ProcessInstance
    loaded: runtime.Loaded
    root: ProcessDefinition
    called_ids: list[str]
    waiting: list[WaitingTask]
    blockers: list[Blocker] = field(default_factory=list)
    workflow: Any = None


def plan_migration(session: so.Session, source_definition_id: str, target_definition_id: str, *,
                   instance_ids: Collection[str] | None = None,
                   activity_ids: Collection[str] | None = None) -> MigrationPlan:
    """The dry run (writes nothing): which instances of the source can move to the target, and why not.

    ``instance_ids`` narrows the selection (an id that is not an active instance of the source is
    reported blocked; an unknown id is ``NotFound``); ``activity_ids`` lists the only source elements
    instances may wait in (Camunda's migration instructions)."""
    source, target = _definitions(session, source_definition_id, target_definition_id)
    return _plan(source, target, _trials(session, source, target, instance_ids, activity_ids), activity_ids)


def migrate_instances(session: so.Session, source_definition_id: str, target_definition_id: str, *, actor: str,
                      instance_ids: Collection[str] | None = None, activity_ids: Collection[str] | None = None,
                      skip_blocked: bool = False) -> MigrationResult:
    """Move the selected instances (default: every active instance of the source) to the target.

    The plan is made again in this transaction, on the state being written. A blocked instance
    refuses the whole command (``MigrationRefused``) unless ``skip_blocked``."""
    source, target = _definitions(session, source_definition_id, target_definition_id)
    trials = _trials(session, source, target, instance_ids, activity_ids)
    plan = _plan(source, target, trials, activity_ids)
    if plan.blocked and not skip_blocked:
        raise MigrationRefused(_refusal(plan), plan.blocked)
    moved = []
    for trial in trials:
        if not trial.blockers:
            _write(session, trial, source, target, actor)
            moved.append(trial.instance.id)
    return MigrationResult(plan, tuple(moved), tuple(plan.blocked))


def execute_plan(session: so.Session, plan: MigrationPlan, *, actor: str) -> MigrationResult:
    """Move exactly the instances a dry run showed as movable, all or nothing (an instance that moved on
    to an element the target lacks since then refuses the command)."""
    ids = [i.instance_id for i in plan.migratable]
    if not ids:
        source, target = _definitions(session, plan.source_definition_id, plan.target_definition_id)
        return MigrationResult(_plan(source, target, [], plan.activity_ids), ())
    return migrate_instances(session, plan.source_definition_id, plan.target_definition_id, actor=actor,
                             instance_ids=ids, activity_ids=plan.activity_ids)


def same_activities(session: so.Session, source_definition_id: str, target_definition_id: str) -> list[str]:
    """The flow nodes both versions have with the same id and type: the instructions Camunda's
    ``/migration/generate`` proposes (this engine migrates only between equal ids)."""
    source, target = _definitions(session, source_definition_id, target_definition_id)
    before, after = elements_of(source.xml, source.key), elements_of(target.xml, target.key)
    return sorted(i for i in before.keys() & after.keys()
                  if before[i].kind in FLOW_NODES and before[i].kind == after[i].kind)


# --- selecting and trying -----------------------------------------------------------------------

def _definitions(session: so.Session, source_id: str, target_id: str) -> tuple[ProcessDefinition, ProcessDefinition]:
    found = []
    for definition_id in (source_id, target_id):
        definition = session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise NotFound(f"No process definition with id '{definition_id}' is deployed", code="definition.unknown",
                           definition=definition_id)
        found.append(definition)
    source, target = found
    if source.id == target.id:
        raise InvalidInput("Source and target are the same version; choose another target",
                           code="migration.same-version", definition=source.id)
    if source.key != target.key:
        raise InvalidInput(f"Instances move only between versions of one process: '{source.key}' and "
                           f"'{target.key}' differ", code="migration.other-key", source=source.key, target=target.key)
    if source.dialect != target.dialect:
        raise InvalidInput(f"Version {source.version} is a {source.dialect} model and version {target.version} a "
                           f"{target.dialect} one; their instance states differ", code="migration.other-dialect")
    return source, target


def _candidates(session: so.Session, source: ProcessDefinition,
                instance_ids: Collection[str] | None) -> list[ProcessInstance]:
    if instance_ids is not None:
        found = []
        for instance_id in dict.fromkeys(instance_ids):
            instance = session.get(ProcessInstance, instance_id)
            if instance is None:
                raise NotFound(f"Process instance with id '{instance_id}' does not exist")
            found.append(instance)
        return found
    # called definitions are a JSON list: a text match finds the candidates, the exact test below decides
    called = sa.cast(ProcessInstance.called_definition_ids, sa.Text).like(f'%"{source.id}"%')
    stmt = (sa.select(ProcessInstance).where(ProcessInstance.status.in_(ACTIVE))
            .where(sa.or_(ProcessInstance.definition_id == source.id, called))
            .order_by(ProcessInstance.started_at, ProcessInstance.id))
    return [i for i in session.scalars(stmt) if _runs(i, source)]


def _runs(instance: ProcessInstance, source: ProcessDefinition) -> bool:
    return instance.definition_id == source.id or source.id in (instance.called_definition_ids or [])


def _trials(session: so.Session, source: ProcessDefinition, target: ProcessDefinition,
            instance_ids: Collection[str] | None, activity_ids: Collection[str] | None) -> list[_Trial]:
    alignments = Alignments()
    wanted = set(activity_ids) if activity_ids is not None else None
    return [_trial(session, instance, source, target, alignments, wanted)
            for instance in _candidates(session, source, instance_ids)]


def _trial(session: so.Session, instance: ProcessInstance, source: ProcessDefinition, target: ProcessDefinition,
           alignments: Alignments, activity_ids: set[str] | None) -> _Trial:
    if instance.status not in ACTIVE or not _runs(instance, source):
        why = (f"The instance has ended ({instance.status})" if instance.status not in ACTIVE
               else f"The instance does not run version {source.version} of '{source.key}'")
        return _Trial(instance, None, None, [], [], [Blocker("not-of-source", why)])
    loaded = runtime.load(session, instance.id)
    root = target if instance.definition_id == source.id else loaded.definition
    trial = _Trial(instance, loaded, root, [], [])
    trial.called_ids, missing = _called_ids(session, instance, root, source, target)
    keys = [root.key, *(i.split(":", 1)[0] for i in trial.called_ids), *(
        i.split(":", 1)[0] for i in instance.called_definition_ids or [])]
    trial.waiting = waiting_tasks(loaded.workflow, keys)
    if missing:
        trial.blockers = [Blocker("called-process-missing", f"The target calls process '{m}', which is not deployed", m)
                          for m in missing]
        return trial
    spec, subprocess_specs = _bundle(session, root, trial.called_ids)
    trial.blockers = check(loaded.workflow, spec, subprocess_specs, alignments, moving=[source.key],
                           activity_ids=activity_ids, keys=keys)
    if not trial.blockers:
        _move(session, trial, spec, subprocess_specs, alignments)
    return trial


def _called_ids(session: so.Session, instance: ProcessInstance, root: ProcessDefinition, source: ProcessDefinition,
                target: ProcessDefinition) -> tuple[list[str], list[str]]:
    """The called definitions after the move: pinned versions stay, the source becomes the target, a
    process the new version calls for the first time comes at its latest version."""
    pinned = {i.split(":", 1)[0]: i for i in instance.called_definition_ids or []}
    if root.key != source.key:
        pinned[source.key] = target.id
    found: dict[str, ProcessDefinition] = {}
    missing: list[str] = []
    pending = list(root.called_keys or [])
    while pending:
        key = pending.pop(0)
        if key in found or key == root.key or key in missing:
            continue
        definition = session.get(ProcessDefinition, pinned[key]) if key in pinned else latest_definition(session, key)
        if definition is None:
            missing.append(key)
            continue
        found[key] = definition
        pending.extend(definition.called_keys or [])
    order = {i.split(":", 1)[0]: n for n, i in enumerate(instance.called_definition_ids or [])}
    ids = [d.id for d in sorted(found.values(), key=lambda d: (order.get(d.key, len(order)), d.key))]
    return ids, missing


def _bundle(session: so.Session, root: ProcessDefinition, called_ids: list[str]) -> tuple[Any, dict]:
    def load_definitions() -> list[ProcessDefinition]:
        return [root, *(session.get(ProcessDefinition, i) for i in called_ids)]

    return services(session).specs.get([root.id, *called_ids], load_definitions)


def _move(session: so.Session, trial: _Trial, spec: Any, subprocess_specs: dict, alignments: Alignments) -> None:
    """Move the state in memory and load it back against the target, as the next command would."""
    workflow, dialect = trial.loaded.workflow, trial.root.dialect
    try:
        migrate(workflow, spec, subprocess_specs, alignments)
        moved = serializer_for(dialect).loads(serializer_for(dialect).dumps(workflow), spec, subprocess_specs)
    except Exception as exc:  # SpiffWorkflow raises many types; every one means "cannot move"
        trial.blockers.append(Blocker("state-not-rebuilt", f"The instance's state could not be rebuilt on the target "
                                      f"version: {exc.__class__.__name__}: {exc}"))
        return
    moved.script_engine = script_engine_for(session)
    if set(_wait_ids(waits_of(moved))) != set(_wait_ids(trial.loaded.before)):
        trial.blockers.append(Blocker("waits-changed", "The instance would wait for other things on the target "
                                      "version than it does now"))
        return
    trial.workflow = moved


def _wait_ids(waits: Any) -> list[str]:
    return [*waits.users, *waits.externals, *(f"m{i}" for i in waits.messages), *(f"t{i}" for i in waits.timers)]


def _plan(source: ProcessDefinition, target: ProcessDefinition, trials: list[_Trial],
          activity_ids: Collection[str] | None) -> MigrationPlan:
    diff = diff_definitions(source, target, layout=False) if trials else None
    instances = tuple(InstancePlan(t.instance.id, t.instance.business_key, t.instance.status, t.instance.definition_id,
                                   t.instance.lock_version, _waiting(t, source, diff), tuple(t.blockers))
                      for t in trials)
    return MigrationPlan(source.id, target.id, source.key, source.version, target.version, instances,
                         frozenset(activity_ids) if activity_ids is not None else None, _notes(instances))


def _waiting(trial: _Trial, source: ProcessDefinition, diff: DefinitionDiff | None) -> tuple[WaitingElement, ...]:
    removed = {e.id for e in diff.removed} if diff else set()
    kinds = {b.element_id for b in trial.blockers if b.code in ("element-removed", "type-changed")}
    counted: dict[tuple[str, str, str], list[WaitingTask]] = {}
    for waiting in trial.waiting:
        counted.setdefault((waiting.process_key, waiting.activity_id, waiting.kind), []).append(waiting)
    found = []
    for (key, activity_id, kind), tasks in counted.items():
        moving = key == source.key
        change = diff.change_of(activity_id) if (diff and moving) else None
        in_target = not (moving and (activity_id in removed or activity_id in kinds))
        found.append(WaitingElement(activity_id, tasks[0].name, kind, key, in_target,
                                    change.aspects if change else (), len(tasks)))
    return tuple(found)


def _notes(instances: tuple[InstancePlan, ...]) -> tuple[str, ...]:
    timers = sorted({w.activity_id for i in instances for w in i.waiting if w.kind == "timer" and "event" in w.changes})
    return tuple(f"Timer '{t}' has another expression in the target version; timers already waiting keep their "
                 "due time" for t in timers)


def _refusal(plan: MigrationPlan) -> str:
    parts = [f"{i.business_key or i.instance_id}: {i.blockers[0].message}" for i in plan.blocked[:5]]
    more = f" (and {len(plan.blocked) - 5} more)" if len(plan.blocked) > 5 else ""
    return (f"{len(plan.blocked)} of {len(plan.instances)} instance(s) cannot move from version "
            f"{plan.source_version} to {plan.target_version} of '{plan.key}'; nothing was written: "
            + "; ".join(parts) + more)


# --- writing --------------------------------------------------------------------------------------

def _write(session: so.Session, trial: _Trial, source: ProcessDefinition, target: ProcessDefinition,
           actor: str) -> None:
    instance = trial.instance
    old = runtime.load(session, instance.id)  # trial.loaded's workflow has been moved in place
    rows = _Rows.of(session, instance.id)
    now = services(session).clock.now()
    before = _derived(old, rows, now)
    instance.definition_id = trial.root.id
    instance.called_definition_ids = list(trial.called_ids)
    moved = runtime.Loaded(instance, trial.workflow, trial.root, before=waits_of(trial.workflow))
    _update_rows(session, moved, rows, before, _derived(moved, rows, now))
    runtime.save(session, moved, actor, "migrate", {
        "fromDefinitionId": source.id, "toDefinitionId": target.id, "definitionId": trial.root.id,
        "calledDefinitionIds": list(trial.called_ids),
        "waiting": sorted({w.activity_id for w in trial.waiting})})


@dataclass
class _Rows:
    """The projection rows of one instance, loaded once."""

    users: dict[str, UserTask]
    externals: dict[str, ExternalTask]
    timers: dict[str, Timer]
    messages: dict[str, list[MessageSubscription]]
    incidents: list[Incident]

    @classmethod
    def of(cls, session: so.Session, instance_id: str) -> "_Rows":
        def by_id(model: Any) -> dict[str, Any]:
            return {r.id: r for r in session.scalars(sa.select(model).where(model.instance_id == instance_id))}

        messages: dict[str, list[MessageSubscription]] = {}
        for row in session.scalars(sa.select(MessageSubscription).where(MessageSubscription.instance_id == instance_id)):
            messages.setdefault(row.task_id, []).append(row)
        incidents = list(session.scalars(sa.select(Incident).where(
            Incident.instance_id == instance_id, Incident.resolved_at.is_(None))))
        return cls(by_id(UserTask), by_id(ExternalTask), by_id(Timer), messages, incidents)


def _derived(loaded: runtime.Loaded, rows: _Rows, now: datetime) -> dict[str, dict[str, Any]]:
    """What each waiting row would hold if this version created it now (at the row's creation time)."""
    waits = loaded.before
    found: dict[str, dict[str, Any]] = {}
    for task_id, task in waits.users.items():
        row = new_user_task(loaded, task, _created(rows.users.get(task_id), now))
        found[task_id] = {f: getattr(row, f) for f in _USER_FIELDS}
        found[task_id]["candidates"] = (tuple(row.candidate_groups), tuple(row.candidate_users))
    for task_id, task in waits.externals.items():
        row = new_external_task(loaded, task, _created(rows.externals.get(task_id), now))
        found[task_id] = {f: getattr(row, f) for f in _EXTERNAL_FIELDS}
    for task_id, task in waits.messages.items():
        found[f"m{task_id}"] = {"names": sorted(d.name for d in message_definitions(task))}
    return found


def _created(row: Any, now: datetime) -> datetime:
    return row.created_at if row is not None else now


def _update_rows(session: so.Session, moved: runtime.Loaded, rows: _Rows, before: dict, after: dict) -> None:
    """Rows point at the target; a value the target defines differently replaces one nobody changed."""
    owner = element_definitions(moved)
    definition_id = moved.instance.definition_id
    waits = moved.before
    _require_rows(rows, waits)
    for task_id, task in waits.users.items():
        row = rows.users[task_id]
        _repoint(row, definition_id, owner(task))
        _merge(row, before[task_id], after[task_id], _USER_FIELDS)
        if after[task_id]["candidates"] != before[task_id]["candidates"] \
                and (tuple(row.candidate_groups), tuple(row.candidate_users)) == before[task_id]["candidates"]:
            groups, users = after[task_id]["candidates"]
            row.candidates = [TaskCandidate(group_id=g) for g in groups] + [TaskCandidate(user_id=u) for u in users]
            involve(session, moved.instance.id, users=users, groups=groups)  # they take part from now on
    for task_id, task in waits.externals.items():
        row = rows.externals[task_id]
        _repoint(row, definition_id, owner(task))
        _merge(row, before[task_id], after[task_id], _EXTERNAL_FIELDS)
    for task_id, task in waits.timers.items():
        _repoint(rows.timers[task_id], definition_id, owner(task))
    for task_id, task in waits.messages.items():
        _move_subscriptions(session, moved, task, rows.messages.get(task_id, []), before, after, owner(task))
    tasks = {**waits.externals, **waits.timers}
    for incident in rows.incidents:
        incident.definition_id = definition_id
        if incident.configuration in tasks:
            incident.element_definition_id = owner(tasks[incident.configuration])


def _require_rows(rows: _Rows, waits: Any) -> None:
    """Rows and state always change together; rows that do not match the state this transaction read
    mean another command changed the instance since (its flush would fail on the lock version anyway)."""
    missing = [*(i for i in waits.users if i not in rows.users), *(i for i in waits.externals if i not in rows.externals),
               *(i for i in waits.timers if i not in rows.timers)]
    if missing:
        raise Conflict("The process instance was changed by another command at the same time; nothing was written, "
                       "reload and try again")


def _repoint(row: Any, definition_id: str, element_definition_id: str) -> None:
    row.definition_id = definition_id
    row.element_definition_id = element_definition_id


def _merge(row: Any, before: dict, after: dict, fields: Sequence[str]) -> None:
    for name in fields:
        if after[name] != before[name] and getattr(row, name) == before[name]:
            setattr(row, name, after[name])


def _move_subscriptions(session: so.Session, moved: runtime.Loaded, task: Any, rows: list[MessageSubscription],
                        before: dict, after: dict, owner: str) -> None:
    key = f"m{task.id}"
    if after[key] == before[key]:
        for row in rows:
            _repoint(row, moved.instance.definition_id, owner)
        return
    created = min((r.created_at for r in rows), default=services(session).clock.now())
    for row in rows:
        session.delete(row)
    for row in new_subscriptions(moved, task, created):
        row.element_definition_id = owner
        session.add(row)
