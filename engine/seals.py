"""The approval seal, checked when it is applied (rule 9 and the authorization letters).

A worker that signs a certificate or a decision letter under a department's approval seal asks the engine
first (``POST /engine-rest/external-task/{id}/seal``): the seal authenticates a decision, so whoever took it
must still hold a valid letter with the seal power at the moment the seal is applied. A letter revoked or
expired since the decision stops the seal; the refusal is an ``AuthorizationRefused`` whose audit entry the
caller records after its transaction rolled back, as a refused task completion is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.util.task import TaskState

from . import audit, authorizations
from .authorizations import AuthorizationRefused
from .context import services
from .errors import InvalidInput
from .external import get_external_task, require_live_lock, started_task
from .models import AuditEntry, Authorization, Department, User
from .properties import powers_required

if TYPE_CHECKING:
    from .runtime import Loaded


@dataclass(frozen=True)
class Decision:
    """Who took a case's decision for one department: the completed task, its item and the person."""

    actor: str | None
    task_id: str
    activity_id: str
    item_code: str
    item_name: str


SEAL = "seal"


def check_seal(session: so.Session, task_id: str, worker_id: str | None, department: str | None) -> Authorization:
    """Allow the worker holding ``task_id`` to apply ``department``'s approval seal now, or refuse.

    The seal is used in the name of whoever took the case's decision for the department (the latest
    completed task with the ``seal`` power, ``decision_for``), so that person's letter is checked at the
    engine's today, as a task completion is: a letter revoked or expired since the decision stops the
    seal. Allowed: a ``seal-applied`` audit entry (the worker signs right after; a redelivered task it
    already signed does not ask again). Refused: ``AuthorizationRefused`` (codes ``seal.none``,
    ``seal.revoked``, ``seal.expired``, ``seal.not-yet``, ``seal.no-decision``) whose entry the caller
    records after this transaction rolled back."""
    if not department:
        raise InvalidInput("'department' is required: the department whose approval seal is to be applied")
    row = get_external_task(session, task_id)
    require_live_lock(row, worker_id, "sealed", services(session).clock.now())
    from .runtime import load_running

    loaded = load_running(session, row.instance_id)
    started_task(loaded, task_id)
    actor = f"worker:{worker_id}"
    where = {"taskId": task_id, "activityId": row.activity_id, "topic": row.topic, "department": department}
    department_name = _department_name(session, department)
    decision = decision_for(session, loaded, department)
    if decision is None:
        raise AuthorizationRefused(
            f"The approval seal of department '{department}' was not applied to case '{row.business_key}': no "
            "completed task with the 'seal' power records a decision for that department",
            {"action": "authorization-refused", "actor": actor, "instance_id": row.instance_id,
             "details": {**where, "power": SEAL, "reason": "no-decision"}},
            code="seal.no-decision", department=department_name)
    try:
        letter = authorizations.require(session, decision.actor, department=department,
                                        item_code=decision.item_code, power=SEAL, instance_id=row.instance_id)
    except AuthorizationRefused as refused:
        raise AuthorizationRefused(
            f"The approval seal of department '{department}' was not applied to case '{row.business_key}': "
            f"{refused.message}",
            {"action": "authorization-refused", "actor": actor, "instance_id": row.instance_id,
             "details": {**where, "power": SEAL, "itemCode": decision.item_code, "decidedBy": decision.actor,
                         "decisionActivityId": decision.activity_id, "reason": refused.code}},
            code=f"seal.{(refused.code or 'authorization.none').partition('.')[2]}", department=department_name,
            user=_display_name(session, decision.actor), item=decision.item_name,
            date=refused.params.get("date", "")) from refused
    audit.record(session, "seal-applied", actor=actor, instance_id=row.instance_id, entity_id=task_id, details={
        **where, "itemCode": decision.item_code, "decidedBy": decision.actor,
        "decisionActivityId": decision.activity_id, "authorizationId": letter.id,
        "documentNumber": letter.document_number})
    return letter


def decision_for(session: so.Session, loaded: "Loaded", department: str) -> Decision | None:
    """The case's decision for ``department``: of the completed user tasks whose ``authorization`` property
    includes the seal power and whose data names the department (a 一件事 has one per department), the
    one completed last (a case moved back and decided again counts its new decision). The person is the
    completer in the audit log, the same record rule 8 keeps of every step."""
    decided = {str(t.id): t for t in loaded.workflow.get_tasks(state=TaskState.COMPLETED)
               if t.data.get("department") == department
               and any(p.partition("@")[0] == SEAL for p in powers_required(t.task_spec))}
    if not decided:
        return None
    completions = session.execute(sa.select(AuditEntry.id, AuditEntry.actor, AuditEntry.details).where(
        AuditEntry.instance_id == loaded.instance.id, AuditEntry.action == "complete-task").order_by(AuditEntry.id))
    last = None
    for _id, actor, details in completions:
        task = decided.get((details or {}).get("taskId"))
        if task is not None:
            last = Decision(actor, str(task.id), task.task_spec.bpmn_id, str(task.data.get("itemCode") or ""),
                            str(task.data.get("itemName") or task.data.get("itemCode") or ""))
    return last


def _department_name(session: so.Session, code: str) -> str:
    row = session.get(Department, code)
    return row.name if row is not None else code


def _display_name(session: so.Session, username: str | None) -> str:
    user = session.get(User, username) if username else None
    return user.display_name if user is not None else (username or "")
