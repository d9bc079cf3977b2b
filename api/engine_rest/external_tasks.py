"""External tasks: fetchAndLock (with long polling), complete, failure, bpmnError, locks, retries."""
from __future__ import annotations

import time

from flask import jsonify, request

from engine import external
from engine.errors import InvalidInput

from .. import db, state
from ..auth import allowed, current
from ..variables import parse_variables, typed_map
from . import bp, dto
from .common import json_body, page, param


def _topics(body: dict) -> list[external.TopicRequest]:
    raw = body.get("topics")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput("'topics' must be a list of {topicName, lockDuration}")
    topics = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not param(item, "topicName"):
            raise InvalidInput(f"topics[{index}] needs a 'topicName'")
        duration = param(item, "lockDuration", int)
        if duration is None or duration <= 0:
            raise InvalidInput(f"topics[{index}] ('{item['topicName']}') needs a positive 'lockDuration' in ms")
        names = item.get("variables")
        if names is not None and not isinstance(names, list):
            raise InvalidInput(f"topics[{index}].variables must be a list of names")
        topics.append(external.TopicRequest(
            name=item["topicName"], lock_duration_ms=duration, variables=names,
            business_key=param(item, "businessKey"), definition_key=param(item, "processDefinitionKey")))
    return topics


@bp.post("/external-task/fetchAndLock")
@allowed("work")
def fetch_and_lock():
    body = json_body()
    worker_id = param(body, "workerId")
    if not worker_id:
        raise InvalidInput("'workerId' is required")
    max_tasks = param(body, "maxTasks", int, 10)
    use_priority = param(body, "usePriority", bool, False)
    topics = _topics(body)
    settings = state().services.settings
    timeout_ms = min(max(param(body, "asyncResponseTimeout", int, 0), 0), settings.long_poll_max_ms)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        session = db()
        with session.begin():
            locked = external.fetch_and_lock(session, worker_id, topics, max_tasks=max_tasks,
                                             use_priority=use_priority)
            result = [_locked(t) for t in locked]
        if result or time.monotonic() >= deadline:
            return jsonify(result)
        time.sleep(min(settings.long_poll_interval_ms / 1000, max(deadline - time.monotonic(), 0)))


def _locked(task: external.LockedTask) -> dict:
    out = dto.external_task(task.row)
    out.update({"errorDetails": task.row.error_details, "variables": typed_map(task.variables),
                "extensionProperties": {}})
    return out


@bp.post("/external-task/<task_id>/complete")
@allowed("work")
def complete(task_id: str):
    body = json_body()
    session = db()
    with session.begin():
        external.complete(session, task_id, param(body, "workerId"), parse_variables(body.get("variables")),
                          parse_variables(body.get("localVariables"), field="localVariables"))
    return "", 204


@bp.post("/external-task/<task_id>/failure")
@allowed("work")
def failure(task_id: str):
    body = json_body()
    session = db()
    with session.begin():
        external.failure(session, task_id, param(body, "workerId"), error_message=param(body, "errorMessage"),
                         error_details=param(body, "errorDetails"), retries=param(body, "retries", int),
                         retry_timeout_ms=param(body, "retryTimeout", int))
    return "", 204


@bp.post("/external-task/<task_id>/bpmnError")
@allowed("work")
def bpmn_error(task_id: str):
    body = json_body()
    session = db()
    with session.begin():
        external.bpmn_error(session, task_id, param(body, "workerId"), error_code=param(body, "errorCode"),
                            error_message=param(body, "errorMessage"),
                            variables=parse_variables(body.get("variables")))
    return "", 204


@bp.post("/external-task/<task_id>/extendLock")
@allowed("work")
def extend_lock(task_id: str):
    body = json_body()
    duration = param(body, "newDuration", int)
    if duration is None:
        raise InvalidInput("'newDuration' (ms) is required")
    session = db()
    with session.begin():
        external.extend_lock(session, task_id, param(body, "workerId"), duration)
    return "", 204


@bp.post("/external-task/<task_id>/unlock")
@allowed("work")
def unlock(task_id: str):
    session = db()
    with session.begin():
        external.unlock(session, task_id, current().username)
    return "", 204


@bp.put("/external-task/<task_id>/retries")
@allowed("operate")
def set_retries(task_id: str):
    body = json_body()
    retries = param(body, "retries", int)
    if retries is None:
        raise InvalidInput("'retries' is required")
    session = db()
    with session.begin():
        external.set_retries(session, task_id, retries, current().username)
    return "", 204


@bp.get("/external-task")
@allowed("read")
def list_external_tasks():
    args = request.args
    session = db()
    with session.begin():
        stmt = external.external_tasks_query(
            topic=param(args, "topicName"), worker_id=param(args, "workerId"),
            instance_id=param(args, "processInstanceId"), locked=param(args, "locked", bool),
            with_retries_left=param(args, "withRetriesLeft", bool), no_retries_left=param(args, "noRetriesLeft", bool),
            now=state().services.clock.now())
        rows = session.scalars(page(stmt.order_by(external.ExternalTask.created_at)))
        return jsonify([dto.external_task(r) for r in rows])


@bp.get("/external-task/<task_id>")
@allowed("read")
def get_external_task(task_id: str):
    session = db()
    with session.begin():
        return jsonify(dto.external_task(external.get_external_task(session, task_id)))
