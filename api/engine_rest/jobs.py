"""Timers as Camunda "jobs": list them, see failures, give a failed timer new retries."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import jsonify, request

from engine import scheduler
from engine.errors import InvalidInput
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
    return stmt


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
    retries = param(json_body(), "retries", int)
    if retries is None or retries < 0:
        raise InvalidInput("'retries' is required and must be 0 or more")
    session = db()
    with session.begin():
        scheduler.set_timer_retries(session, job_id, retries, actor=current().username)
    return "", 204
