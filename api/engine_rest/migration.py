"""Process instance migration, as Camunda 7's REST API has it (/migration/generate, /validate, /execute),
plus a dry-run report that says for each instance why it can or cannot move (extension).

This engine migrates only between activities with the same id (engine.instance_migration): a plan's
instructions name the source activities instances may wait in; an instruction that maps one id to
another is a validation failure. ``skipCustomListeners``, ``skipIoMappings`` and ``updateEventTrigger``
are accepted and ignored (there are no listeners or mappings to skip; waiting timers keep their due time).
"""
from __future__ import annotations

from typing import Any

from flask import jsonify

from engine import instance_migration
from engine.errors import InvalidInput
from engine.models import ProcessInstance

from .. import db
from ..auth import allowed, current
from . import bp
from .common import json_body, param
from .instances import selected_instances

VALIDATION_EXCEPTION = "MigratingProcessInstanceValidationException"


def _ids(body: dict[str, Any]) -> tuple[str, str]:
    source = param(body, "sourceProcessDefinitionId")
    target = param(body, "targetProcessDefinitionId")
    if not source or not target:
        raise InvalidInput("sourceProcessDefinitionId and targetProcessDefinitionId are required")
    return source, target


def _instruction(activity_id: str) -> dict[str, Any]:
    return {"sourceActivityIds": [activity_id], "targetActivityIds": [activity_id], "updateEventTrigger": False}


@bp.post("/migration/generate")
@allowed("deploy")
def generate_migration():
    source, target = _ids(json_body())
    session = db()
    with session.begin():
        same = instance_migration.same_activities(session, source, target)
    return jsonify({"sourceProcessDefinitionId": source, "targetProcessDefinitionId": target,
                    "instructions": [_instruction(a) for a in same], "variables": None})


def _instruction_failures(plan: dict[str, Any], same: set[str]) -> list[dict[str, Any]]:
    reports = []
    for instruction in plan.get("instructions") or []:
        if not isinstance(instruction, dict):
            raise InvalidInput("Each instruction must be an object with sourceActivityIds and targetActivityIds")
        sources, targets = instruction.get("sourceActivityIds") or [], instruction.get("targetActivityIds") or []
        failures = []
        if len(sources) != 1 or sources != targets:
            failures.append("This engine migrates an activity only to the activity with the same id in the target")
        elif sources[0] not in same:
            failures.append(f"Activity '{sources[0]}' is not in both versions with the same type")
        reports.append({"instruction": instruction, "failures": failures})
    return reports


def _activities(session, plan: dict[str, Any]) -> tuple[str, str, list[str] | None]:
    """The plan's definitions and the activities its instructions allow (None: no instructions sent)."""
    source, target = _ids(plan)
    same = set(instance_migration.same_activities(session, source, target))
    if plan.get("instructions") is None:
        return source, target, None
    failed = [r for r in _instruction_failures(plan, same) if r["failures"]]
    if failed:
        raise InvalidInput("The migration plan is not valid: " + "; ".join(
            f"{r['instruction'].get('sourceActivityIds')}: {r['failures'][0]}" for r in failed))
    return source, target, sorted({i["sourceActivityIds"][0] for i in plan["instructions"]})


@bp.post("/migration/validate")
@allowed("deploy")
def validate_migration():
    plan = json_body()
    source, target = _ids(plan)
    session = db()
    with session.begin():
        same = set(instance_migration.same_activities(session, source, target))
    return jsonify({"instructionReports": [r for r in _instruction_failures(plan, same) if r["failures"]],
                    "variableReports": {}})


def _selected(session, body: dict[str, Any], source: str) -> list[str]:
    """``processInstanceIds`` plus the instances of the source that ``processInstanceQuery`` finds (the
    filters of POST /process-instance)."""
    ids = param(body, "processInstanceIds", list, None)
    query = body.get("processInstanceQuery")
    if ids is None and query is None:
        raise InvalidInput("Send processInstanceIds or a processInstanceQuery (an empty one selects every "
                           "running instance of the source)")
    found = list(ids or [])
    if query is not None:
        if not isinstance(query, dict):
            raise InvalidInput("processInstanceQuery must be an object")
        for instance in session.scalars(selected_instances(query).order_by(ProcessInstance.started_at)):
            if instance.definition_id == source or source in (instance.called_definition_ids or []):
                found.append(instance.id)
    return list(dict.fromkeys(found))


def _migration_body() -> tuple[dict[str, Any], dict[str, Any]]:
    body = json_body()
    plan = body.get("migrationPlan")
    if not isinstance(plan, dict):
        raise InvalidInput("migrationPlan is required (as POST /migration/generate returns it)")
    return body, plan


@bp.post("/migration/execute")
@allowed("deploy")
def execute_migration():
    body, plan = _migration_body()
    session = db()
    try:
        with session.begin():
            source, target, activities = _activities(session, plan)
            instance_migration.migrate_instances(session, source, target, actor=current().username,
                                                 instance_ids=_selected(session, body, source),
                                                 activity_ids=activities)
    except instance_migration.MigrationRefused as refused:
        response = jsonify({"type": VALIDATION_EXCEPTION, "message": refused.message,
                            "instances": [i.as_dict() for i in refused.blocked]})
        return response, 400
    return "", 204


@bp.post("/migration/dry-run")
@allowed("deploy")
def dry_run_migration():
    body, plan = _migration_body()
    session = db()
    with session.begin():
        source, target, activities = _activities(session, plan)
        selected = None if body.get("processInstanceIds") is None and body.get("processInstanceQuery") is None \
            else _selected(session, body, source)
        found = instance_migration.plan_migration(session, source, target, instance_ids=selected,
                                                  activity_ids=activities)
        return jsonify(found.as_dict())
