"""External tasks: fetchAndLock (with long polling), complete, failure, bpmnError, locks, retries, and the
seal check a worker asks for right before it applies a department's approval seal and the rating link's token
the invitation's worker asks for (extensions)."""
from __future__ import annotations

import time

from flask import jsonify, request
from flask_babel import force_locale

from engine import access, external, ratings, seals
from engine.access import Action
from engine.authorizations import AuthorizationRefused, record_refusal
from engine.errors import InvalidInput, NotFound

from .. import db, state
from ..auth import allowed, current
from ..bilingual import CHINESE
from ..errors import error_response
from ..variables import parse_variables, typed_map
from . import bp, dto
from .common import json_body, page, param
from .openapi import _ID, _NO_CONTENT, OPERATIONS, SCHEMAS, _body, _error, _obj, _op, _s


def _topics(body: dict) -> list[external.TopicRequest]:
    raw = body.get("topics")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidInput("'topics' must be a list of {topicName, lockDuration}")
    topics = []
    longest = state().services.settings.max_lock_ms
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not param(item, "topicName"):
            raise InvalidInput(f"topics[{index}] needs a 'topicName'")
        duration = param(item, "lockDuration", int, low=1, high=longest)
        if duration is None:
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


@bp.post("/external-task/<task_id>/seal")
@allowed("work")
def seal(task_id: str):
    """204 when the case's decider may use the department's approval seal now; 403 with the refusal's
    ``code`` and, for the incident the worker then raises, the message in the center's language."""
    body = json_body()
    session = db()
    try:
        with session.begin():
            seals.check_seal(session, task_id, param(body, "workerId"), param(body, "department"))
    except AuthorizationRefused as refused:
        with session.begin():  # the check rolled back; the refusal is on record in a transaction of its own
            record_refusal(session, refused)
        from ..web.messages import describe

        with force_locale(CHINESE):
            localized = describe(refused)
        return error_response(refused.status, refused.message, refused.camunda_type, code=refused.code,
                              localizedMessage=localized)
    return "", 204


@bp.post("/external-task/<task_id>/rating-link")
@allowed("work")
def rating_link(task_id: str):
    """The token of the applicant's rating link (好差评), for the worker holding the task that mails the
    invitation: the token is never a process variable (``engine.ratings``)."""
    body = json_body()
    session = db()
    with session.begin():
        token = ratings.link_token(session, task_id, param(body, "workerId"))
    return jsonify({"token": token})


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
    session = db()
    with session.begin():
        access.require(session, current(), _visible_task(session, task_id).instance_id, Action.OPERATE)
        retries = param(body, "retries", int)
        if retries is None:
            raise InvalidInput("'retries' is required")
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
        stmt = stmt.where(access.by_visible_case(current(), external.ExternalTask.instance_id))
        rows = session.scalars(page(stmt.order_by(external.ExternalTask.created_at)))
        return jsonify([dto.external_task(r) for r in rows])


@bp.get("/external-task/<task_id>")
@allowed("read")
def get_external_task(task_id: str):
    session = db()
    with session.begin():
        return jsonify(dto.external_task(_visible_task(session, task_id)))


def _visible_task(session, task_id: str) -> external.ExternalTask:
    """The external task, if the caller sees its case; else as if it did not exist."""
    row = external.get_external_task(session, task_id)
    if not access.sees_instance(session, current(), row.instance_id):
        raise NotFound(f"Cannot find external task with id '{task_id}': it does not exist or was already completed")
    return row


# the seal check's documentation lives beside its route (openapi.py documents Camunda's own operations)
SCHEMAS["ExternalTaskSealDto"] = _obj({
    "workerId": _s("string", "The worker holding the lock."),
    "department": _s("string", "The department whose approval seal the worker is about to apply."),
}, "A seal check.", required=["workerId", "department"])
SCHEMAS["SealRefusedDto"] = {
    "description": "An ExceptionDto (`type` AuthorizationException) with the refusal's code and message in the "
                   "center's language.",
    "allOf": [{"$ref": "#/components/schemas/ExceptionDto"}, {"type": "object", "properties": {
        "code": _s("string", "seal.none, seal.revoked, seal.expired, seal.not-yet or seal.no-decision."),
        "localizedMessage": _s("string", "The refusal in Chinese, for the incident supervisors read."),
    }}],
}
_SEAL = _op("checkSeal", "External Task", "Check the approval seal (extension)",
            "Asked by a worker right before it seals a certificate or decision letter with a department's approval "
            "seal (审批专用章). The engine finds who took the case's decision for the department (the latest "
            "completed task with the `seal` authorization power) and checks that person's authorization letter at "
            "the engine's today. Allowed: 204 and a `seal-applied` audit entry. Refused: 403 and an "
            "`authorization-refused` audit entry; the worker signs nothing and reports a failure with retries 0 "
            "(an incident).", permission="work", parameters=[_ID["external"]],
            body=_body("ExternalTaskSealDto", "The worker and the department."), responses=dict(_NO_CONTENT),
            errors={"400": "`workerId` or `department` is missing, the task is not locked by this worker or its "
                           "lock has expired, or the instance is suspended or ended.",
                    "404": "No open external task with this id.",
                    "409": "The task is no longer active in its process instance."})
_SEAL["responses"]["403"] = _error("403", "The worker lacks the worker role, or the decider holds no valid "
                                          "authorization to use the seal (the body says why).", "SealRefusedDto")
OPERATIONS["/external-task/{id}/seal"] = {"post": _SEAL}

SCHEMAS["ExternalTaskWorkerDto"] = _obj({"workerId": _s("string", "The worker holding the lock.")},
                                        "The worker asking.", required=["workerId"])
SCHEMAS["RatingLinkDto"] = _obj({"token": _s("string", "The token of the applicant's rating link for the task's "
                                                       "case (`/rate/{caseNumber}?t={token}`).")},
                                "A rating link's token.")
_RATING_LINK = _op("ratingLink", "External Task", "Get the rating link's token (extension)",
                   "Asked by the worker that mails the applicant's rating invitation (好差评) while it holds the task: "
                   "the token is an HMAC of the case number under the server's secret key, never stored as a "
                   "process variable, so no variable view shows it.", permission="work", parameters=[_ID["external"]],
                   body=_body("ExternalTaskWorkerDto", "The worker."),
                   responses={"200": {"description": "The token.", "content": {"application/json": {
                       "schema": {"$ref": "#/components/schemas/RatingLinkDto"}}}}},
                   errors={"400": "`workerId` is missing, the task is not locked by this worker or its lock has "
                                  "expired, or it belongs to no case.",
                           "404": "No open external task with this id.",
                           "503": "The server has no secret key (ONEWINDOW_SECRET_KEY)."})
OPERATIONS["/external-task/{id}/rating-link"] = {"post": _RATING_LINK}
