"""Camunda-shaped JSON for engine rows."""
from __future__ import annotations

from typing import Any

from engine.models import (Deployment, ExternalTask, Incident, ProcessDefinition, ProcessInstance,
                           UserTask)

from ..variables import format_date


def definition(d: ProcessDefinition) -> dict[str, Any]:
    return {"id": d.id, "key": d.key, "category": "http://bpmn.io/schema/bpmn", "description": None,
            "name": d.name, "version": d.version, "resource": d.resource_name, "deploymentId": d.deployment_id,
            "diagram": None, "suspended": False, "tenantId": None, "versionTag": None,
            "historyTimeToLive": None, "startableInTasklist": True}


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
