"""User tasks: their projection for inboxes, and claim / unclaim / complete.

Who may act on a task is the access policy's rule (``engine.access.can_act``),
checked here, not in the UI: the assignee, or — for an unassigned task — a
user in one of its candidate groups or named as a candidate user;
administrators may act on any task.
"""
from __future__ import annotations

import re
from copy import deepcopy
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Iterable
from uuid import UUID

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.util.task import TaskState

from . import audit, authorizations, markers
from .clock import as_utc
from .context import services
from .access import can_act
from .errors import BadUserRequest, Conflict, Forbidden, InvalidInput, NotFound
from .involvement import involve
from .models import AuditEntry, TaskCandidate, TaskDraft, UserTask
from .parser import user_task_meta
from .properties import not_by, powers_required
from .values import check_data, check_variables

if TYPE_CHECKING:
    from .runtime import Loaded

ADMIN_GROUP = "admin"


def new_user_task(loaded: "Loaded", task: Any, now: datetime) -> UserTask:
    """Projection row for a READY user task; expressions in assignee/groups/due are evaluated now."""
    meta = user_task_meta(task.task_spec)
    instance = loaded.instance
    row = UserTask(
        id=str(task.id), instance_id=instance.id, definition_id=instance.definition_id,
        definition_key=instance.definition_key, business_key=instance.business_key,
        activity_id=task.task_spec.bpmn_id or task.task_spec.name,
        name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
        form_key=_text(task, meta.form_key), assignee=_text(task, meta.assignee),
        item_name=_short(task.data.get("itemName")), applicant_name=_applicant_name(task.data),
        priority=int(_text(task, meta.priority) or 50), created_at=now,
        due_at=_date(task, meta.due_date, now), follow_up_at=_date(task, meta.follow_up_date, now),
    )
    row.candidates = [TaskCandidate(group_id=g) for g in _names(task, meta.candidate_groups)]
    row.candidates += [TaskCandidate(user_id=u) for u in _names(task, meta.candidate_users)]
    return row


def _short(value: Any) -> str | None:
    return str(value)[:255] if value else None


def _applicant_name(data: dict[str, Any]) -> str | None:
    applicant = data.get("applicant")
    return _short(applicant.get("applicantName")) if isinstance(applicant, dict) else None


def _is_expression(value: str) -> bool:
    return "${" in value or "#{" in value


def _text(task: Any, value: str | None) -> str | None:
    if value is None or not _is_expression(value):
        return value
    result = task.workflow.script_engine.evaluate(task, value)
    return None if result is None else str(result)


def _names(task: Any, values: Iterable[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        result = _text(task, value)
        if result:
            names.extend(part.strip() for part in result.split(",") if part.strip())
    return sorted(set(names))


def _date(task: Any, value: str | None, now: datetime) -> datetime | None:
    """Due and follow-up dates: an ISO date/time, an ISO duration from now, or an expression
    (JUEL in Camunda models, Python in SpiffWorkflow models, e.g. ``end_of_working_day(...)``)."""
    if not value:
        return None
    result: Any = value
    if _is_expression(value) or not _looks_literal(value):
        result = task.workflow.script_engine.evaluate(task, value)
    if isinstance(result, datetime):
        return as_utc(result)
    if isinstance(result, str):
        text = result.strip()
        if text.startswith("P"):
            return now + parse_duration(text)
        try:
            return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise InvalidInput(f"Due date '{value}' of task '{task.task_spec.bpmn_id}' is not a date or duration")


def _looks_literal(value: str) -> bool:
    text = value.strip()
    return bool(re.fullmatch(r"P[0-9WDTHMS.]*|\d{4}-\d{2}-\d{2}[0-9T:.+\-Z ]*", text))


def parse_duration(text: str) -> timedelta:
    """ISO 8601 durations of days and times (PnDTnHnMnS, PnW)."""
    match = re.fullmatch(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", text)
    if not match or text in ("P", "PT"):
        raise InvalidInput(f"'{text}' is not an ISO 8601 duration like P3D or PT2H")
    weeks, days, hours, minutes, seconds = match.groups()
    return timedelta(weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0),
                     minutes=int(minutes or 0), seconds=float(seconds or 0))


# --- commands ---------------------------------------------------------------

def get_task(session: so.Session, task_id: str) -> UserTask:
    row = session.get(UserTask, task_id)
    if row is None:
        raise NotFound(f"Cannot find task with id '{task_id}': it does not exist or was already completed")
    return row


def _require_actor(row: UserTask, user: str | None, groups: Iterable[str], verb: str) -> None:
    if not can_act(row, user, groups):
        who = f"assigned to '{row.assignee}'" if row.assignee else \
            f"for groups {', '.join(row.candidate_groups) or '(none)'}"
        raise Forbidden(f"User '{user}' may not {verb} task '{row.id}' ({row.name}): it is {who}",
                        code="task.not-yours", task=row.name)


def claim(session: so.Session, task_id: str, user: str, groups: Iterable[str], *, actor: str | None = None) -> None:
    row = get_task(session, task_id)
    if row.suspended:
        raise BadUserRequest(f"Task '{task_id}' belongs to a suspended process instance")
    if row.assignee and row.assignee != user:
        raise BadUserRequest(f"Task '{task_id}' is already claimed by someone else ('{row.assignee}')",
                             code="task.claimed", user=row.assignee)
    if not can_act(row, user, groups) and ADMIN_GROUP not in set(groups):
        _require_actor(row, user, groups, "claim")
    row.assignee = user
    _involve_actor(session, row, user, groups)
    audit.record(session, "claim", actor=actor or user, instance_id=row.instance_id, entity_id=task_id)


def unclaim(session: so.Session, task_id: str, user: str, groups: Iterable[str]) -> None:
    """Hand a claimed task back to its groups: its assignee may, or an administrator. A task nobody claimed
    stays as it is (nothing to record)."""
    row = get_task(session, task_id)
    if row.assignee is None:
        return
    if row.assignee != user and ADMIN_GROUP not in set(groups):
        raise Forbidden(f"Task '{task_id}' is claimed by '{row.assignee}'; only they or an administrator may unclaim it",
                        code="task.not-yours", task=row.name)
    row.assignee = None
    audit.record(session, "unclaim", actor=user, instance_id=row.instance_id, entity_id=task_id)


def complete(session: so.Session, task_id: str, variables: dict[str, Any], *, user: str | None,
             groups: Iterable[str]) -> "Loaded":
    """Complete a user task with form data and run the process on to its next waits."""
    from .runtime import advance, load_running

    check_variables(variables)
    row = get_task(session, task_id)
    _require_actor(row, user, groups, "complete")
    loaded = load_running(session, row.instance_id)
    task = loaded.workflow.get_task_from_id(UUID(task_id))
    if task is None or task.state != TaskState.READY:
        raise Conflict(f"Task '{task_id}' is no longer waiting; it was completed or cancelled meanwhile")
    _validate_form(session, row, variables)
    _require_powers(session, row, task, user)
    _require_other_person(session, row, task, user)
    task.data.update(deepcopy(variables))  # SpiffWorkflow merges data into lists and dicts in place
    _involve_actor(session, row, user, groups)
    markers.acting(loaded.workflow, user)
    task.run()
    # the values too: each step of the approval chain is on record with its signer, opinion and time (rule 8)
    advance(session, loaded, user, "complete-task", {
        "taskId": task_id, "activityId": row.activity_id, "taskName": row.name, "groups": row.candidate_groups,
        "variables": sorted(variables), "values": deepcopy(variables)})
    return loaded


def _involve_actor(session: so.Session, row: UserTask, user: str | None, groups: Iterable[str]) -> None:
    """Whoever claims or completes a task takes part in its case: already so by a group of theirs the task was
    offered to (recorded when it was), or by name (recorded now). A clerk who leaves that group, and with it the
    department's work, stops seeing the case."""
    if user and user not in row.candidate_users and not set(groups) & set(row.candidate_groups):
        involve(session, row.instance_id, users=[user])


def _validate_form(session: so.Session, row: UserTask, variables: dict[str, Any]) -> None:
    """Form data is checked against the task's form on the server, whatever the client showed."""
    registry = services(session).forms
    if row.form_key and registry is not None and registry.has(row.form_key):
        registry.validate(row.form_key, variables)


def _require_powers(session: so.Session, row: UserTask, task: Any, user: str | None) -> None:
    """A decision task needs a valid authorization for the case's item, checked here (rule 9)."""
    powers = powers_required(task.task_spec)
    if not powers:
        return
    item_code, department = task.data.get("itemCode"), task.data.get("department")
    if not item_code or not department:
        raise BadUserRequest(f"Task '{row.name}' needs an authorization for the case's item, but the case "
                             "has no itemCode/department variables")
    for entry in powers:
        # "issue@center": a power held under another department's letters (the window's, for any item)
        power, _, held_in = entry.partition("@")
        authorizations.require(session, user, department=held_in or department, item_code=item_code, power=power,
                               instance_id=row.instance_id)


def _require_other_person(session: so.Session, row: UserTask, task: Any, user: str | None) -> None:
    """Four eyes: whoever completed one of the ``notBy`` activities in this case may not complete this one
    (the reviewer does not decide what they reviewed)."""
    activities = set(not_by(task.task_spec))
    if not activities:
        return
    done = session.scalars(sa.select(AuditEntry).where(AuditEntry.instance_id == row.instance_id,
                                                       AuditEntry.action == "complete-task",
                                                       AuditEntry.actor == user))
    earlier = sorted({e.details.get("activityId") for e in done} & activities)
    if earlier:
        raise Forbidden(f"User '{user}' completed {', '.join(earlier)} in this case and may not also complete "
                        f"'{row.name}': a decision needs a different person from the review",
                        code="four-eyes", task=row.name)


def tasks_query(*, instance_id: str | None = None, assignee: str | None = None,
                candidate_group: str | None = None, candidate_groups: Iterable[str] | None = None,
                candidate_user: str | None = None, activity_id: str | None = None,
                business_key: str | None = None, definition_key: str | None = None,
                unassigned: bool | None = None, due_before: datetime | None = None,
                due_after: datetime | None = None) -> sa.Select:
    stmt = sa.select(UserTask)
    if instance_id:
        stmt = stmt.where(UserTask.instance_id == instance_id)
    if assignee:
        stmt = stmt.where(UserTask.assignee == assignee)
    groups = list(candidate_groups or []) + ([candidate_group] if candidate_group else [])
    if groups:
        stmt = stmt.where(UserTask.id.in_(
            sa.select(TaskCandidate.task_id).where(TaskCandidate.group_id.in_(groups))))
    if candidate_user:
        stmt = stmt.where(UserTask.id.in_(
            sa.select(TaskCandidate.task_id).where(TaskCandidate.user_id == candidate_user)))
    if activity_id:
        stmt = stmt.where(UserTask.activity_id == activity_id)
    if business_key:
        stmt = stmt.where(UserTask.business_key == business_key)
    if definition_key:
        stmt = stmt.where(UserTask.definition_key == definition_key)
    if unassigned:
        stmt = stmt.where(UserTask.assignee.is_(None))
    if due_before:
        stmt = stmt.where(UserTask.due_at < due_before)
    if due_after:
        stmt = stmt.where(UserTask.due_at > due_after)
    return stmt


def save_draft(session: so.Session, task_id: str, data: dict[str, Any], *, user: str,
               groups: Iterable[str]) -> TaskDraft:
    """Keep what the clerk typed so far, unvalidated (validation happens when the task is completed)."""
    check_data(data, "draft")
    row = get_task(session, task_id)
    _require_actor(row, user, groups, "save a draft of")
    draft = session.get(TaskDraft, task_id) or TaskDraft(task_id=task_id)
    draft.saved_by, draft.saved_at, draft.data = user, services(session).clock.now(), dict(data)
    session.add(draft)
    audit.record(session, "save-draft", actor=user, instance_id=row.instance_id, entity_id=task_id,
                 details={"fields": sorted(data)})
    return draft


def draft_of(session: so.Session, task_id: str) -> dict[str, Any]:
    draft = session.get(TaskDraft, task_id)
    return dict(draft.data) if draft is not None else {}


def task_data(session: so.Session, task_id: str) -> dict[str, Any]:
    """Variables visible to a user task's form."""
    from .runtime import load

    row = get_task(session, task_id)
    loaded = load(session, row.instance_id)
    task = loaded.workflow.get_task_from_id(UUID(task_id))
    return dict(task.data) if task is not None else {}

