"""Message correlation: deliver a named message to the waiting catch event it is meant for,
or start a process whose start event waits for it.

Subscriptions are a projection of the waiting catch events (including the
branches of an event-based gateway), so correlation finds candidates with an
indexed query and loads only the instances that match.
"""
from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator
from uuid import UUID

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.util.task import TaskState

from . import markers
from .context import services
from .errors import BadUserRequest, Conflict, Forbidden, InvalidInput
from .models import MessageSubscription, ProcessInstance
from .properties import properties_of
from .values import check_business_key, check_variables

if TYPE_CHECKING:
    from .runtime import Loaded


@dataclass(frozen=True)
class Correlation:
    result_type: str  # "Execution" or "ProcessDefinition", as Camunda reports it
    instance_id: str
    definition_id: str


def message_definitions(task: Any) -> Iterator[MessageEventDefinition]:
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            if isinstance(inner, MessageEventDefinition):
                yield inner
    elif isinstance(definition, MessageEventDefinition):
        yield definition


def new_subscriptions(loaded: "Loaded", task: Any, now: datetime) -> list[MessageSubscription]:
    instance = loaded.instance
    return [MessageSubscription(message_name=d.name, instance_id=instance.id, definition_id=instance.definition_id,
                                activity_id=task.task_spec.bpmn_id or task.task_spec.name, task_id=str(task.id),
                                business_key=instance.business_key, created_at=now)
            for d in message_definitions(task)]


def waits_for(session: so.Session, business_key: str, message_name: str) -> bool:
    """Does the running case with this business key wait for the message (a supplement, a rating)?"""
    return session.scalar(sa.select(MessageSubscription.id).join(
        ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id).where(
        ProcessInstance.business_key == business_key, ProcessInstance.status == "running",
        MessageSubscription.message_name == message_name).limit(1)) is not None


def correlate(session: so.Session, message_name: str, *, business_key: str | None = None,
              instance_id: str | None = None, correlation_keys: dict[str, Any] | None = None,
              variables: dict[str, Any] | None = None, all_matches: bool = False,
              actor: str | None = None, actor_groups: Iterable[str] | None = None,
              within: sa.ColumnElement[bool] | None = None,
              may_start: Callable[[str | None], None] | None = None) -> list[Correlation]:
    """Deliver the message to one waiting catch event (or all, with ``all_matches``);
    failing that, start a process with a matching message start event.

    A catch event with a ``senders`` property takes the message only from those roles
    (``actor_groups``; engine-internal callers pass None), and one with a ``form`` only for one
    case at a time: an applicant's rating or supplement is never broadcast. ``within`` (SQL over
    ``process_instance``) limits the waiting instances to those the sender may see: one they may not see is
    no match, as if it did not wait. ``may_start`` is asked with the business key before a message start
    event starts a process (it raises to refuse)."""
    if not message_name:
        raise InvalidInput("messageName is required")
    check_business_key(business_key)
    check_variables(variables, "processVariables")
    check_variables(correlation_keys, "correlationKeys")
    variables = variables or {}
    candidates = _candidates(session, message_name, business_key, instance_id, correlation_keys, within)
    if len(candidates) > 1 and not all_matches:
        raise BadUserRequest(
            f"Cannot correlate message '{message_name}': {len(candidates)} waiting executions match; "
            "narrow it with businessKey, processInstanceId or correlationKeys, or set all=true")
    results = [_deliver(session, sub, variables, actor, actor_groups, len(candidates) > 1) for sub in candidates]
    if results:
        return results
    if instance_id is None:
        started = _start_by_message(session, message_name, business_key, variables, actor, may_start)
        if started is not None:
            return [started]
    raise BadUserRequest(f"Cannot correlate message '{message_name}': no process definition or "
                         "execution matches the parameters")


def _candidates(session: so.Session, message_name: str, business_key: str | None, instance_id: str | None,
                correlation_keys: dict[str, Any] | None, within: sa.ColumnElement[bool] | None
                ) -> list[MessageSubscription]:
    stmt = (sa.select(MessageSubscription).join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
            .where(MessageSubscription.message_name == message_name, ProcessInstance.status == "running")
            .order_by(MessageSubscription.id))
    if within is not None:
        stmt = stmt.where(within)
    if business_key is not None:
        stmt = stmt.where(ProcessInstance.business_key == business_key)
    if instance_id is not None:
        stmt = stmt.where(MessageSubscription.instance_id == instance_id)
    subs = list(session.scalars(stmt))
    if correlation_keys:
        subs = [s for s in subs if _matches_keys(session, s.instance_id, correlation_keys)]
    return subs


def _matches_keys(session: so.Session, instance_id: str, keys: dict[str, Any]) -> bool:
    from .runtime import instance_variables, load

    found = instance_variables(load(session, instance_id).workflow)
    return all(name in found and found[name] == value for name, value in keys.items())


def _deliver(session: so.Session, sub: MessageSubscription, variables: dict[str, Any], actor: str | None,
             actor_groups: Iterable[str] | None, broadcast: bool) -> Correlation:
    from .runtime import advance, load_running

    loaded = load_running(session, sub.instance_id)
    task = loaded.workflow.get_task_from_id(UUID(sub.task_id))
    if task is None or task.state != TaskState.WAITING:
        raise Conflict(f"Message '{sub.message_name}' arrived while instance '{sub.instance_id}' moved on; "
                       "nothing was written, try again")
    _check_sender(task, sub.message_name, actor_groups, broadcast)
    _validate_payload(session, task, sub.message_name, variables)
    definition = next(d for d in message_definitions(task) if d.name == sub.message_name)
    markers.acting(loaded.workflow, actor)
    # separate copies: SpiffWorkflow merges parent data into lists and dicts in place
    task.task_spec.catch(task, BpmnEvent(definition, payload=deepcopy(variables)))
    task.data.update(deepcopy(variables))  # behind an event-based gateway the chosen event inherits it from here
    task.task_spec._update(task)
    advance(session, loaded, actor, "message", {"messageName": sub.message_name, "activityId": sub.activity_id,
                                                "variables": sorted(variables)})
    return Correlation("Execution", loaded.instance.id, loaded.instance.definition_id)


def _event_properties(task: Any, message_name: str) -> dict[str, str]:
    """The properties of the catch event the message is for (behind an event-based gateway, its target)."""
    if not any(d.name == message_name for d in message_definitions(task)):
        return {}
    for spec in [task.task_spec, *getattr(task.task_spec, "outputs", [])]:
        props = properties_of(spec)
        if props.get("form") or props.get("senders"):
            return props
    return {}


def _check_sender(task: Any, message_name: str, actor_groups: Iterable[str] | None, broadcast: bool) -> None:
    props = _event_properties(task, message_name)
    if props.get("form") and broadcast:
        raise BadUserRequest(f"Message '{message_name}' carries an applicant's form: send it to one case "
                             "(businessKey or processInstanceId), not to all waiting cases")
    senders = {s.strip() for s in props.get("senders", "").split(",") if s.strip()}
    if senders and actor_groups is not None and not senders & {*actor_groups, "admin"}:
        raise Forbidden(f"Message '{message_name}' is accepted only from {', '.join(sorted(senders))}")


def _validate_payload(session: so.Session, task: Any, message_name: str, variables: dict[str, Any]) -> None:
    """A catch event with a ``form`` property accepts only payloads its JSON Schema allows."""
    form = _event_properties(task, message_name).get("form")
    if form:
        services(session).forms.validate(form, variables)


def _start_by_message(session: so.Session, message_name: str, business_key: str | None,
                      variables: dict[str, Any], actor: str | None,
                      may_start: Callable[[str | None], None] | None) -> Correlation | None:
    from .runtime import start_instance

    sub = session.scalar(sa.select(MessageSubscription).where(
        MessageSubscription.message_name == message_name, MessageSubscription.instance_id.is_(None))
        .order_by(MessageSubscription.id.desc()).limit(1))
    if sub is None:
        return None
    if may_start is not None:
        may_start(business_key)
    instance = start_instance(session, definition_id=sub.definition_id, business_key=business_key,
                              variables=variables, actor=actor, start_message=message_name)
    return Correlation("ProcessDefinition", instance.id, instance.definition_id)
