"""Versions of a process and what changed between two (onewindow extensions beside Camunda's definitions)."""
from __future__ import annotations

from typing import Any

from flask import jsonify, request

from engine import versions
from engine.definition_diff import diff_definitions
from engine.errors import NotFound
from engine.models import ProcessDefinition

from .. import db
from ..auth import allowed
from ..variables import format_date
from . import bp
from .common import param


def version_dto(v: versions.VersionInfo) -> dict[str, Any]:
    return {"id": v.definition_id, "key": v.key, "version": v.version, "name": v.name,
            "deployedAt": format_date(v.deployed_at), "deployedBy": v.deployed_by, "deploymentId": v.deployment_id,
            "deploymentName": v.deployment_name, "deploymentSource": v.deployment_source, "resource": v.resource_name,
            "checksum": v.checksum, "dialect": v.dialect, "runningInstances": v.running,
            "runningAsCalledProcess": v.running_as_called, "latest": v.latest}


@bp.get("/process-definition/key/<key>/versions")
@allowed("read")
def definition_versions(key: str):
    session = db()
    with session.begin():
        return jsonify([version_dto(v) for v in versions.list_versions(session, key)])


@bp.get("/process-definition/<definition_id>/diff/<other_id>")
@allowed("read")
def definition_diff(definition_id: str, other_id: str):
    """From ``definition_id`` (old) to ``other_id`` (new)."""
    layout = param(request.args, "layout", bool, True)
    session = db()
    with session.begin():
        old, new = (_definition(session, i) for i in (definition_id, other_id))
        return jsonify(diff_definitions(old, new, layout=layout).as_dict())


def _definition(session, definition_id: str) -> ProcessDefinition:
    found = session.get(ProcessDefinition, definition_id)
    if found is None:
        raise NotFound(f"No matching definition with id {definition_id}")
    return found
