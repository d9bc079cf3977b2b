"""The pages' side of the access policy (``engine.access``): a case, task or file the signed-in user may not see
is answered as a missing one (404, so a case number confirms nothing), and the attempt on an existing case is
in the audit log (who tried to open which case, where), for its supervisors."""
from __future__ import annotations

from typing import NoReturn

import sqlalchemy as sa
from flask import abort, request
from flask_babel import gettext as _

from engine import access, audit
from engine.errors import NotFound
from engine.models import ProcessInstance, UserTask

from .. import db
from .session_auth import me


def refuse(business_key: str | None = None, *, instance_id: str | None = None, entity: str | None = None,
           message: str | None = None) -> NoReturn:
    """Call outside a transaction: the attempt is recorded in a transaction of its own — on a hidden case and
    on a missing one alike, so neither the answer nor the time it takes tells which — then the page is a 404
    (with ``message``, if the page has a kinder word for it)."""
    with db().begin():
        audit.record(db(), "access-refused", actor=me().username, instance_id=_instance(business_key, instance_id),
                     entity_id=entity or business_key or instance_id, details={"path": request.path})
    abort(404, message)


def require_case(business_key: str) -> ProcessInstance:
    """Call outside a transaction: the instance of the case, which the user may see — the page reads that very
    instance afterwards — or the page is a 404 (the attempt on record)."""
    try:
        with db().begin():
            return access.visible_case(db(), me(), business_key)
    except NotFound:
        refuse(business_key)


def require_task(task_id: str) -> None:
    """Call outside a transaction: the user may see the task, or the page is ``refuse_task``'s 404."""
    try:
        with db().begin():
            access.visible_task(db(), me(), task_id)
    except NotFound:
        refuse_task(task_id)


def refuse_task(task_id: str) -> NoReturn:
    """A task the user may not see is answered as one that no longer waits: a 404 page saying so, with the
    attempt on a hidden task on record."""
    message = _("This task is no longer waiting: someone completed it or the case moved on.")
    with db().begin():
        hidden = db().get(UserTask, task_id)
        instance_id = hidden.instance_id if hidden is not None else None
    refuse(instance_id=instance_id, entity=task_id, message=message)


def _instance(business_key: str | None, instance_id: str | None) -> str | None:
    if instance_id:
        return db().scalar(sa.select(ProcessInstance.id).where(ProcessInstance.id == instance_id))
    if business_key:
        return db().scalar(sa.select(ProcessInstance.id).where(ProcessInstance.business_key == business_key)
                           .order_by(ProcessInstance.started_at.desc()).limit(1))
    return None
