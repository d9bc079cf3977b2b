"""Incidents: list and get. Retrying is PUT /external-task/{id}/retries, as in Camunda."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from engine import access
from engine.errors import NotFound
from engine.models import Incident

from .. import db
from ..auth import allowed, current
from . import bp, dto
from .common import count_response, page, param


def _incidents_query() -> sa.Select:
    args = request.args
    stmt = sa.select(Incident)
    if not param(args, "includeResolved", bool, False):
        stmt = stmt.where(Incident.resolved_at.is_(None))
    if param(args, "processInstanceId"):
        stmt = stmt.where(Incident.instance_id == args["processInstanceId"])
    if param(args, "incidentType"):
        stmt = stmt.where(Incident.incident_type == args["incidentType"])
    if param(args, "activityId"):
        stmt = stmt.where(Incident.activity_id == args["activityId"])
    if param(args, "configuration"):
        stmt = stmt.where(Incident.configuration == args["configuration"])
    return stmt.where(access.by_visible_case(current(), Incident.instance_id))


@bp.get("/incident")
@allowed("read")
def list_incidents():
    session = db()
    with session.begin():
        return jsonify([dto.incident(i) for i in session.scalars(page(_incidents_query().order_by(Incident.created_at)))])


@bp.get("/incident/count")
@allowed("read")
def count_incidents():
    return count_response(_incidents_query)


@bp.get("/incident/<incident_id>")
@allowed("read")
def get_incident(incident_id: str):
    session = db()
    with session.begin():
        found = session.get(Incident, incident_id)
        if found is None or not access.sees_instance(session, current(), found.instance_id):
            raise NotFound(f"Incident with id {incident_id} does not exist")
        return jsonify(dto.incident(found))
