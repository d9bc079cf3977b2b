"""Camunda-shaped JSON for engine rows."""
from __future__ import annotations

from typing import Any

from engine.models import (CaseClock, ClockSuspension, Deployment, ExternalTask, Incident, ProcessDefinition,
                           ProcessInstance, SupervisionNotice, Timer, UserTask)

from ..variables import format_date


def definition(d: ProcessDefinition) -> dict[str, Any]:
    return {"id": d.id, "key": d.key, "category": "http://bpmn.io/schema/bpmn", "description": None,
            "name": d.name, "version": d.version, "resource": d.resource_name, "deploymentId": d.deployment_id,
            "diagram": None, "suspended": False, "tenantId": None, "versionTag": None,
            "historyTimeToLive": None, "startableInTasklist": True,
            # extensions: who deployed this version and when
            "deployedAt": format_date(d.deployed_at), "deployedBy": d.deployed_by}


def deployment(d: Deployment, definitions: list[ProcessDefinition] | None) -> dict[str, Any]:
    return {"id": d.id, "name": d.name, "source": d.source, "deploymentTime": format_date(d.deployed_at),
            "tenantId": None, "links": [],
            "deployedProcessDefinitions": {x.id: definition(x) for x in definitions} if definitions else None,
            "deployedCaseDefinitions": None, "deployedDecisionDefinitions": None,
            "deployedDecisionRequirementsDefinitions": None}


def instance(i: ProcessInstance) -> dict[str, Any]:
    return {"id": i.id, "definitionId": i.definition_id, "definitionKey": i.definition_key,
            "businessKey": i.business_key, "caseInstanceId": None,
            "ended": i.status in ("completed", "cancelled"), "suspended": i.status == "suspended",
            "tenantId": None, "links": [], "state": i.status.upper()}


def task(t: UserTask) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "assignee": t.assignee, "owner": None,
            "created": format_date(t.created_at), "due": format_date(t.due_at),
            "followUp": format_date(t.follow_up_at), "lastUpdated": None, "delegationState": None,
            "description": None, "executionId": t.instance_id, "parentTaskId": None, "priority": t.priority,
            "processDefinitionId": t.definition_id, "processInstanceId": t.instance_id,
            "taskDefinitionKey": t.activity_id, "caseExecutionId": None, "caseInstanceId": None,
            "caseDefinitionId": None, "suspended": t.suspended, "formKey": t.form_key, "camundaFormRef": None,
            "tenantId": None, "businessKey": t.business_key, "candidateGroups": t.candidate_groups}


def external_task(t: ExternalTask) -> dict[str, Any]:
    return {"id": t.id, "activityId": t.activity_id, "activityInstanceId": t.id, "errorMessage": t.error_message,
            "executionId": t.instance_id, "lockExpirationTime": format_date(t.lock_expires_at),
            "processDefinitionId": t.definition_id, "processDefinitionKey": t.definition_key,
            "processDefinitionVersionTag": None, "processInstanceId": t.instance_id, "retries": t.retries,
            "suspended": t.suspended, "workerId": t.worker_id, "topicName": t.topic, "tenantId": None,
            "priority": t.priority, "businessKey": t.business_key}


def incident(i: Incident) -> dict[str, Any]:
    return {"id": i.id, "processDefinitionId": i.definition_id, "processInstanceId": i.instance_id,
            "executionId": i.instance_id, "incidentTimestamp": format_date(i.created_at),
            "incidentType": i.incident_type, "activityId": i.activity_id, "failedActivityId": i.activity_id,
            "causeIncidentId": i.id, "rootCauseIncidentId": i.id, "configuration": i.configuration,
            "tenantId": None, "incidentMessage": i.message, "jobDefinitionId": None, "annotation": None,
            "resolved": i.resolved_at is not None}


def job(t: Timer) -> dict[str, Any]:
    """A timer, shaped like Camunda's JobDto (timers are the only jobs this engine has)."""
    return {"id": t.id, "jobDefinitionId": None, "dueDate": format_date(t.due_at), "processInstanceId": t.instance_id,
            "executionId": t.instance_id, "processDefinitionId": t.definition_id, "processDefinitionKey": None,
            "retries": t.retries, "exceptionMessage": t.last_error, "failedActivityId": t.activity_id if t.last_error
            else None, "suspended": t.suspended, "priority": 0, "tenantId": None, "createTime": format_date(t.created_at),
            "activityId": t.activity_id, "eventKind": t.event_kind, "timer": t.description}


def case_clock(c: CaseClock, suspensions: list[ClockSuspension]) -> dict[str, Any]:
    return {"processInstanceId": c.instance_id, "businessKey": c.business_key, "itemCode": c.item_code,
            "receivedAt": format_date(c.received_at), "acceptance": c.acceptance,
            "acceptedAt": format_date(c.accepted_at), "acceptanceDueAt": format_date(c.acceptance_due_at),
            "supplementRequestedAt": format_date(c.supplement_requested_at),
            "legalLimitDays": c.legal_limit_days, "promisedLimitDays": c.promised_limit_days,
            "extensionDays": c.extension_days, "extensionReason": c.extension_reason,
            "extendedBy": c.extended_by, "suspendedDays": c.suspended_days, "suspended": c.suspended_since is not None,
            "legalDeadline": format_date(c.legal_deadline_at), "promisedDeadline": format_date(c.promised_deadline_at),
            "estimated": c.estimated, "warningState": c.warning_state, "closedAt": format_date(c.closed_at),
            "suspensions": [suspension(s) for s in suspensions]}


def suspension(s: ClockSuspension) -> dict[str, Any]:
    return {"id": s.id, "procedure": s.procedure, "legalBasis": s.legal_basis, "requestedBy": s.requested_by,
            "startedAt": format_date(s.started_at), "expectedDays": s.expected_days,
            "applicantNotice": s.applicant_notice, "endedAt": format_date(s.ended_at), "endedBy": s.ended_by,
            "result": s.result, "workingDays": s.working_days}


def notice(n: SupervisionNotice) -> dict[str, Any]:
    return {"id": n.id, "processInstanceId": n.instance_id, "businessKey": n.business_key, "kind": n.kind,
            "createdAt": format_date(n.created_at), "payload": n.payload, "deliveredAt": format_date(n.delivered_at)}
