"""Process definitions: list, XML, start."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, jsonify, request

from engine import access, activities, cases, catalogue_adjustments, deploy, runtime
from engine.errors import InvalidInput, NotFound
from engine.models import ProcessDefinition

from .. import db
from ..auth import allowed, current
from ..variables import parse_variables, typed_map
from . import bp, dto
from .common import INT_MAX, count_response, json_body, page, param


def _definitions_query():
    args = request.args
    stmt = sa.select(ProcessDefinition)
    if param(args, "key"):
        stmt = stmt.where(ProcessDefinition.key == args["key"])
    if param(args, "keyLike"):
        stmt = stmt.where(ProcessDefinition.key.like(args["keyLike"]))
    if param(args, "name"):
        stmt = stmt.where(ProcessDefinition.name == args["name"])
    if param(args, "deploymentId"):
        stmt = stmt.where(ProcessDefinition.deployment_id == args["deploymentId"])
    version = param(args, "version", int, low=1, high=INT_MAX)
    if version:
        stmt = stmt.where(ProcessDefinition.version == version)
    if param(args, "latestVersion", bool):
        latest = (sa.select(ProcessDefinition.key, sa.func.max(ProcessDefinition.version).label("v"))
                  .group_by(ProcessDefinition.key).subquery())
        stmt = stmt.join(latest, sa.and_(latest.c.key == ProcessDefinition.key, latest.c.v == ProcessDefinition.version))
    return stmt


#: Camunda's sortBy values this engine sorts by
SORT_COLUMNS = {"key": ProcessDefinition.key, "id": ProcessDefinition.id, "name": ProcessDefinition.name,
                "version": ProcessDefinition.version, "deploymentId": ProcessDefinition.deployment_id,
                "deployTime": ProcessDefinition.deployed_at}


def _definitions_order() -> list:
    """Key and version unless ``sortBy`` (with ``sortOrder`` asc or desc) says otherwise."""
    sort_by = param(request.args, "sortBy")
    if sort_by is None:
        return [ProcessDefinition.key, ProcessDefinition.version]
    if sort_by not in SORT_COLUMNS:
        raise InvalidInput(f"sortBy must be one of {', '.join(SORT_COLUMNS)}, got {sort_by!r}")
    order = param(request.args, "sortOrder", str, "asc")
    if order not in ("asc", "desc"):
        raise InvalidInput(f"sortOrder must be asc or desc, got {order!r}")
    column = SORT_COLUMNS[sort_by]
    return [column.desc() if order == "desc" else column.asc(), ProcessDefinition.key, ProcessDefinition.version]


@bp.get("/process-definition")
@allowed("read")
def list_definitions():
    session = db()
    with session.begin():
        stmt = page(_definitions_query().order_by(*_definitions_order()))
        return jsonify([dto.definition(d) for d in session.scalars(stmt)])


@bp.get("/process-definition/count")
@allowed("read")
def count_definitions():
    return count_response(_definitions_query)


def _by_key(session, key: str) -> ProcessDefinition:
    found = deploy.latest_definition(session, key)
    if found is None:
        raise NotFound(f"No matching process definition with key: {key}")
    return found


def _by_id(session, definition_id: str) -> ProcessDefinition:
    found = session.get(ProcessDefinition, definition_id)
    if found is None:
        raise NotFound(f"No matching definition with id {definition_id}")
    return found


@bp.get("/process-definition/key/<key>")
@allowed("read")
def get_definition_by_key(key: str):
    session = db()
    with session.begin():
        return jsonify(dto.definition(_by_key(session, key)))


@bp.get("/process-definition/<definition_id>")
@allowed("read")
def get_definition(definition_id: str):
    session = db()
    with session.begin():
        return jsonify(dto.definition(_by_id(session, definition_id)))


@bp.get("/process-definition/key/<key>/xml")
@allowed("read")
def definition_xml_by_key(key: str):
    session = db()
    with session.begin():
        found = _by_key(session, key)
        return jsonify({"id": found.id, "bpmn20Xml": found.xml})


@bp.get("/process-definition/<definition_id>/xml")
@allowed("read")
def definition_xml(definition_id: str):
    session = db()
    with session.begin():
        found = _by_id(session, definition_id)
        return jsonify({"id": found.id, "bpmn20Xml": found.xml})


def _start(key: str | None, definition_id: str | None) -> Response:
    body = json_body(required=False)
    variables = parse_variables(body.get("variables"))
    business_key = param(body, "businessKey")
    with_variables = param(body, "withVariablesInReturn", bool, False)
    session = db()
    with session.begin():
        definition = _by_key(session, key) if key is not None else session.get(ProcessDefinition, definition_id)
        if definition is not None:
            cases.refuse_direct_start(session, definition.key, business_key)
            catalogue_adjustments.refuse_direct_start(definition.key)
        instance = runtime.start_instance(session, key, definition_id=definition_id, business_key=business_key,
                                          variables=variables, actor=current().username)
        out = dto.instance(instance)
        if with_variables:
            out["variables"] = typed_map(access.shown_variables(
                runtime.instance_variables(runtime.load(session, instance.id).workflow)))
    response = jsonify(out)
    response.headers["Location"] = f"{request.host_url}engine-rest/process-instance/{instance.id}"
    return response


@bp.post("/process-definition/key/<key>/start")
@allowed("start")
def start_by_key(key: str):
    return _start(key, None)


@bp.post("/process-definition/<definition_id>/start")
@allowed("start")
def start_by_id(definition_id: str):
    return _start(None, definition_id)


@bp.get("/process-definition/<definition_id>/statistics")
@allowed("read")
def definition_statistics(definition_id: str):
    """Where this version's cases wait now, per element (Camunda's activity statistics)."""
    session = db()
    with session.begin():
        _by_id(session, definition_id)
        found = activities.definition_statistics(session, definition_id, access.counted_cases(current()))
        return jsonify([{"id": activity_id, "instances": load.waiting,
                         "failedJobs": load.incidents.get("failedJob", 0),
                         "incidents": [{"incidentType": kind, "incidentCount": n} for kind, n in sorted(load.incidents.items())]}
                        for activity_id, load in sorted(found.items())])
