"""Timers as Camunda "jobs": list them, see failures, give a failed timer new retries."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import jsonify, request

from engine import access, scheduler
from engine.access import Action
from engine.errors import InvalidInput, NotFound
from engine.models import Timer

from .. import db
from ..auth import allowed, current
from . import bp, dto
from .common import count_response, json_body, page, param


def _jobs_query(source) -> sa.Select:
    stmt = sa.select(Timer)
    if param(source, "processInstanceId"):
        stmt = stmt.where(Timer.instance_id == param(source, "processInstanceId"))
    if param(source, "processDefinitionId"):
        stmt = stmt.where(Timer.definition_id == param(source, "processDefinitionId"))
    if param(source, "activityId"):
        stmt = stmt.where(Timer.activity_id == param(source, "activityId"))
    if param(source, "withException", bool):
        stmt = stmt.where(Timer.last_error.is_not(None))
    if param(source, "noRetriesLeft", bool):
        stmt = stmt.where(Timer.retries == 0)
    due_before = param(source, "dueDatesBefore", datetime)
    if due_before is not None:
        stmt = stmt.where(Timer.due_at < due_before)
    return stmt.where(_visible(Timer.instance_id))


def _visible(instance_id) -> sa.ColumnElement[bool]:
    """Timers of the cases the caller sees; start timers (no instance) only for those who see every case."""
    if access.sees_every_case(current()):
        return sa.true()
    return sa.and_(instance_id.is_not(None), access.by_visible_case(current(), instance_id))


@bp.get("/job")
@allowed("read")
def list_jobs():
    session = db()
    with session.begin():
        stmt = page(_jobs_query(request.args).order_by(Timer.due_at, Timer.id))
        return jsonify([dto.job(t) for t in session.scalars(stmt)])


@bp.get("/job/count")
@allowed("read")
def count_jobs():
    return count_response(lambda: _jobs_query(request.args))


@bp.put("/job/<job_id>/retries")
@allowed("operate")
def set_job_retries(job_id: str):
    body = json_body()
    session = db()
    with session.begin():
        _require_operator(session, job_id)
        retries = param(body, "retries", int)
        if retries is None or retries < 0:
            raise InvalidInput("'retries' is required and must be 0 or more")
        scheduler.set_timer_retries(session, job_id, retries, actor=current().username)
    return "", 204


def _require_operator(session, job_id: str) -> None:
    """A timer of a case: its supervisors (``access.Action.OPERATE``); a start timer: who sees every case."""
    timer = session.get(Timer, job_id)
    if timer is not None and timer.instance_id is not None:
        access.require(session, current(), timer.instance_id, Action.OPERATE)
    elif timer is None or not access.sees_every_case(current()):
        raise NotFound(f"Job with id '{job_id}' does not exist")
