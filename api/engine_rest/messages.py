"""POST /message: correlate a message to a waiting instance or start one."""
from __future__ import annotations

from flask import jsonify

from engine import access, cases, messages
from engine.errors import InvalidInput
from engine.models import ProcessInstance

from .. import db
from ..auth import allowed, current
from ..variables import parse_variables
from . import bp, dto
from .common import json_body, param


@bp.post("/message")
@allowed("message")
def correlate_message():
    body = json_body()
    name = param(body, "messageName")
    if not name:
        raise InvalidInput("'messageName' is required")
    variables = parse_variables(body.get("processVariables"), field="processVariables")
    variables.update(parse_variables(body.get("processVariablesLocal"), field="processVariablesLocal"))
    keys = parse_variables(body.get("correlationKeys"), field="correlationKeys")
    session = db()
    with session.begin():
        results = messages.correlate(
            session, name, business_key=param(body, "businessKey"), instance_id=param(body, "processInstanceId"),
            correlation_keys=keys, variables=variables, all_matches=param(body, "all", bool, False),
            actor=current().username, actor_groups=current().groups, within=access.case_visible(current()),
            may_start=lambda key: cases.refuse_case_number(session, key))
        if not param(body, "resultEnabled", bool, False):
            return "", 204
        out = []
        for result in results:
            instance = dto.instance(session.get(ProcessInstance, result.instance_id))
            if result.result_type == "Execution":
                out.append({"resultType": "Execution", "processInstance": None,
                            "execution": {"id": result.instance_id, "processInstanceId": result.instance_id,
                                          "ended": instance["ended"], "tenantId": None}})
            else:
                out.append({"resultType": "ProcessDefinition", "processInstance": instance, "execution": None})
        return jsonify(out)
