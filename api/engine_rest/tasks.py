"""User tasks: list, get, claim, unclaim, complete, form variables. What a caller sees is the access policy's
(``engine.access.task_visible``); a task they may not see does not exist for them (404), one they see but may
not work on (a supervisor's) is refused (403) by the task command itself."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import jsonify, request

from engine import access, runtime, tasks
from engine.errors import InvalidInput
from engine.models import UserTask

from .. import db
from ..auth import current
from ..variables import parse_variables, typed_map
from . import bp, dto
from .common import count_response, json_body, page, param


def _tasks_query(source) -> sa.Select:
    me = current()
    stmt = tasks.tasks_query(
        instance_id=param(source, "processInstanceId"), assignee=param(source, "assignee"),
        candidate_group=param(source, "candidateGroup"), candidate_groups=param(source, "candidateGroups", list),
        candidate_user=param(source, "candidateUser"), activity_id=param(source, "taskDefinitionKey"),
        business_key=param(source, "processInstanceBusinessKey"),
        definition_key=param(source, "processDefinitionKey"), unassigned=param(source, "unassigned", bool),
        due_before=param(source, "dueBefore", datetime), due_after=param(source, "dueAfter", datetime))
    return stmt.where(access.task_visible(me))


@bp.get("/task")
def list_tasks():
    session = db()
    with session.begin():
        stmt = page(_tasks_query(request.args).order_by(UserTask.created_at, UserTask.id))
        return jsonify([dto.task(t) for t in session.scalars(stmt)])


@bp.post("/task")
def query_tasks():
    body = json_body(required=False)
    session = db()
    with session.begin():
        stmt = page(_tasks_query(body).order_by(UserTask.created_at, UserTask.id))
        return jsonify([dto.task(t) for t in session.scalars(stmt)])


@bp.get("/task/count")
def count_tasks():
    return count_response(lambda: _tasks_query(request.args))


def _visible_task(session, task_id: str):
    return access.visible_task(session, current(), task_id)


@bp.get("/task/<task_id>")
def get_task(task_id: str):
    session = db()
    with session.begin():
        return jsonify(dto.task(_visible_task(session, task_id)))


@bp.post("/task/<task_id>/claim")
def claim_task(task_id: str):
    body = json_body()
    me = current()
    session = db()
    with session.begin():
        _visible_task(session, task_id)
        user_id = param(body, "userId")
        if not user_id:
            raise InvalidInput("'userId' is required to claim a task")
        if user_id != me.username and not me.has_any(()):
            raise InvalidInput(f"You may only claim tasks for yourself ('{me.username}'), not for '{user_id}'")
        tasks.claim(session, task_id, user_id, me.groups if user_id == me.username else {"admin"},
                    actor=me.username)
    return "", 204


@bp.post("/task/<task_id>/unclaim")
def unclaim_task(task_id: str):
    me = current()
    session = db()
    with session.begin():
        _visible_task(session, task_id)
        tasks.unclaim(session, task_id, me.username, me.groups)
    return "", 204


@bp.post("/task/<task_id>/complete")
def complete_task(task_id: str):
    body = json_body(required=False)
    variables = parse_variables(body.get("variables"))
    with_variables = param(body, "withVariablesInReturn", bool, False)
    me = current()
    session = db()
    with session.begin():
        _visible_task(session, task_id)
        loaded = tasks.complete(session, task_id, variables, user=me.username, groups=me.groups)
        if with_variables:
            return jsonify(typed_map(access.shown_variables(runtime.instance_variables(loaded.workflow))))
    return "", 204


@bp.get("/task/<task_id>/form-variables")
def form_variables(task_id: str):
    names = param(request.args, "variableNames", list)
    session = db()
    with session.begin():
        _visible_task(session, task_id)
        data = access.shown_variables(tasks.task_data(session, task_id))
    if names:
        data = {k: v for k, v in data.items() if k in names}
    return jsonify(typed_map(data))


@bp.get("/task/<task_id>/form")
def task_form(task_id: str):
    session = db()
    with session.begin():
        row = _visible_task(session, task_id)
        return jsonify({"key": row.form_key, "contextPath": None, "camundaFormRef": None})
