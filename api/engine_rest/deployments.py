"""POST /deployment/create and deployment reads."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from engine import deploy
from engine.errors import InvalidInput, NotFound
from engine.models import Deployment, ProcessDefinition

from .. import db
from ..auth import allowed, current
from . import bp, dto
from .common import param

#: multipart fields that are options, not resources (Camunda's names)
OPTION_FIELDS = {"deployment-name", "enable-duplicate-filtering", "deploy-changed-only", "deployment-source",
                 "deployment-activation-time", "tenant-id"}


@bp.post("/deployment/create")
@allowed("deploy")
def create_deployment():
    if not request.files:
        raise InvalidInput("Send the BPMN files as multipart/form-data file fields")
    resources = []
    for field, storage in request.files.items(multi=True):
        if field in OPTION_FIELDS:
            continue
        name = storage.filename or field
        if not name.lower().endswith((".bpmn", ".bpmn20.xml")):
            raise InvalidInput(f"Resource '{name}' is not a BPMN file (.bpmn or .bpmn20.xml)")
        resources.append((name, storage.read()))
    filtering = param(request.form, "enable-duplicate-filtering", bool, True)
    changed_only = param(request.form, "deploy-changed-only", bool, False)
    session = db()
    with session.begin():
        result = deploy.deploy(session, resources, name=param(request.form, "deployment-name"),
                               source=param(request.form, "deployment-source"), actor=current().username,
                               duplicate_filtering=filtering or changed_only)
        if result.deployment is not None:
            return jsonify(dto.deployment(result.deployment, result.new_definitions)), 200
        latest = result.unchanged_definitions[0]
        previous = session.get(Deployment, latest.deployment_id)
        return jsonify(dto.deployment(previous, None)), 200


@bp.get("/deployment/<deployment_id>")
@allowed("read")
def get_deployment(deployment_id: str):
    session = db()
    with session.begin():
        found = session.get(Deployment, deployment_id)
        if found is None:
            raise NotFound(f"Deployment with id '{deployment_id}' does not exist")
        definitions = list(session.scalars(sa.select(ProcessDefinition).where(
            ProcessDefinition.deployment_id == deployment_id)))
        return jsonify(dto.deployment(found, definitions))
