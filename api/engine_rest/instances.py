"""Process instances: list, get, delete (cancel), variables, suspension — each through the access policy
(``engine.access``): lists show the cases the caller may see, a case they may not see does not exist for them."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from engine import access, runtime
from engine.access import Action
from engine.errors import InvalidInput, NotFound
from engine.models import Incident, ProcessInstance

from .. import db
from ..auth import allowed, current
from ..variables import typed, typed_map
from . import bp, dto
from .common import count_response, json_body, page, param


def _instances_query(source) -> sa.Select:
    """The instances a list shows: the filters, of the cases the caller may see."""
    return selected_instances(source).where(access.case_visible(current()))


def selected_instances(source) -> sa.Select:
    """Camunda's instance filters, unscoped: a migration moves a definition's instances, whoever sees them."""
    statuses = None
    if param(source, "active", bool):
        statuses = ["running"]
    if param(source, "suspended", bool):
        statuses = ["suspended"]
    if param(source, "completed", bool):
        statuses = ["completed"]
    if param(source, "withIncident", bool):
        pass
    ids = param(source, "processInstanceIds", list)
    stmt = runtime.instances_query(
        business_key=param(source, "businessKey"), business_key_like=param(source, "businessKeyLike"),
        definition_key=param(source, "processDefinitionKey"), definition_id=param(source, "processDefinitionId"),
        ids=ids, statuses=statuses)
    if not param(source, "completed", bool) and statuses is None and not param(source, "includeEnded", bool, False):
        stmt = stmt.where(ProcessInstance.status.in_(["running", "suspended"]))
    if param(source, "withIncident", bool):
        stmt = stmt.where(ProcessInstance.id.in_(
            sa.select(Incident.instance_id).where(Incident.resolved_at.is_(None))))
    return stmt


@bp.get("/process-instance")
@allowed("read")
def list_instances():
    session = db()
    with session.begin():
        stmt = page(_instances_query(request.args).order_by(ProcessInstance.started_at.desc(), ProcessInstance.id))
        return jsonify([dto.instance(i) for i in session.scalars(stmt)])


@bp.post("/process-instance")
@allowed("read")
def query_instances():
    body = json_body(required=False)
    session = db()
    with session.begin():
        stmt = page(_instances_query(body).order_by(ProcessInstance.started_at.desc(), ProcessInstance.id))
        return jsonify([dto.instance(i) for i in session.scalars(stmt)])


@bp.get("/process-instance/count")
@allowed("read")
def count_instances():
    return count_response(lambda: _instances_query(request.args))


@bp.get("/process-instance/<instance_id>")
@allowed("read")
def get_instance(instance_id: str):
    session = db()
    with session.begin():
        return jsonify(dto.instance(access.visible_instance(session, current(), instance_id)))


@bp.delete("/process-instance/<instance_id>")
@allowed("operate")
def delete_instance(instance_id: str):
    reason = request.args.get("deleteReason") or request.args.get("reason")
    session = db()
    with session.begin():
        access.require(session, current(), instance_id, Action.OPERATE)
        runtime.cancel_instance(session, instance_id, actor=current().username, reason=reason)
    return "", 204


@bp.get("/process-instance/<instance_id>/variables")
@allowed("read")
def get_variables(instance_id: str):
    session = db()
    with session.begin():
        return jsonify(typed_map(_variables(session, instance_id)))


def _variables(session, instance_id: str) -> dict:
    """The case's variables as the caller may see them (secrets never: ``access.shown_variables``)."""
    access.visible_instance(session, current(), instance_id)
    return access.shown_variables(runtime.instance_variables(runtime.load(session, instance_id).workflow))


@bp.get("/process-instance/<instance_id>/variables/<name>")
@allowed("read")
def get_variable(instance_id: str, name: str):
    session = db()
    with session.begin():
        variables = _variables(session, instance_id)
        if name not in variables:
            raise NotFound(f"process instance variable with name {name} does not exist")
        return jsonify(typed(variables[name]))


@bp.put("/process-instance/<instance_id>/suspended")
@allowed("operate")
def suspend_instance(instance_id: str):
    body = json_body()
    session = db()
    with session.begin():
        access.require(session, current(), instance_id, Action.OPERATE)
        suspended = param(body, "suspended", bool)
        if suspended is None:
            raise InvalidInput("'suspended' (true or false) is required")
        runtime.set_suspended(session, instance_id, suspended, actor=current().username,
                              reason=param(body, "reason"))
    return "", 204
