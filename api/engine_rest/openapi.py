"""GET /engine-rest/openapi.json: the OpenAPI 3.0.3 document of what is implemented, and GET /engine.

The document is plain Python data: ``SCHEMAS`` (components/schemas) and ``OPERATIONS`` (one entry per
path and method). ``build_document(app.url_map)`` also checks that every Flask route under
/engine-rest has a documented operation and every documented operation a route, so an endpoint added
without documentation (or documentation without an endpoint) fails loudly in the tests.
Names follow Camunda 7's own OpenAPI document (operationIds, ``...Dto`` schemas) where they fit.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Iterable

from flask import jsonify

from ..auth import PERMISSIONS
from . import bp

OPENAPI_VERSION = "3.0.3"
API_VERSION = "0.1.0"
DATE_EXAMPLE = "2026-01-05T09:00:00.000+0800"

DESCRIPTION = """\
A Camunda 7 compatible subset of the engine REST API of **onewindow**, the BPMN workflow engine of the
Qingpu district government service center. Existing Camunda 7 clients and external-task workers (for
example `camunda-external-task-client-python3`) work against it unchanged for the operations listed here;
everything not listed is not implemented and answers 404 (unknown path) or 405 (unknown method).

**Implemented:** deployment (create, get); process definitions (list, count, get by id or key, BPMN XML,
start by id or key); process instances (list, query, count, get, delete, variables, suspend/activate);
user tasks (list, query, count, get, claim, unclaim, complete, form, form variables); external tasks
(fetchAndLock with long polling, complete, failure, bpmnError, extendLock, unlock, retries, list, get);
message correlation; incidents (list, count, get); the engine list and this document.

**Authentication:** every operation except `GET /openapi.json` and `GET /engine` needs HTTP Basic
credentials or a Bearer token (`onewindow token create USER`); a missing or wrong one is a 401.
Each operation names the roles it needs (`admin` may call everything); a missing role is a 403.

**Errors** use Camunda's body `{"type": ..., "message": ...}` (`ExceptionDto`): 400 for invalid input or
a request not allowed in the current state, 401, 403, 404 for unknown ids, 409
(`OptimisticLockingException`) when another command changed the same process instance at the same
time (nothing was written; retry), 413 for bodies over the size limit, 500 for unexpected errors.

**Dates** are written and accepted in Camunda's format `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, e.g.
`2026-01-05T09:00:00.000+0800`; ISO 8601 with `Z` or `+08:00` is accepted too.
**Variables** are Camunda typed values `{"value": ..., "type": ..., "valueInfo": {}}`; supported types are
String, Integer, Long, Short, Double, Boolean, Json, Object, Date and Null (a missing type is inferred from
the JSON value). Variable names must not be empty or start with `_`.

**Differences from Camunda 7, on purpose:**
- A called process (call activity) runs inside the calling process instance, not as a separate
  process instance; its user and external tasks report the calling instance's id.
- A BPMN error reported by an external task (`POST /external-task/{id}/bpmnError`) that no error boundary
  event catches raises an incident of type `unhandledBpmnError` and leaves the activity waiting, instead
  of silently ending the activity: a case must not move on because of an error nobody modelled.
- Duplicate filtering on `POST /deployment/create` is on unless `enable-duplicate-filtering=false` is sent.
- Users without the `supervisor` or `designer` role see only tasks assigned to them, or unassigned tasks
  offered to them (as candidate user or through a candidate group), in `GET/POST /task` and `/task/count`.
- There is no tenant, case, decision, history, job or authorization API; `tenantId`, `caseInstanceId` and
  similar fields are always `null`. Process definitions are never suspended.
- List endpoints return at most 1000 rows when `maxResults` is not given, and never more than 10000.
- Extensions: process instances carry `state`, incidents `resolved`, tasks `candidateGroups`, process
  definitions `deployedAt` and `deployedBy`;
  `GET /process-instance` also takes `completed` and `includeEnded`, `GET /incident` takes
  `includeResolved`, `PUT /process-instance/{id}/suspended` takes a `reason`.
"""

TAGS = [
    {"name": "Deployment", "description": "Deploy BPMN files."},
    {"name": "Process Definition", "description": "Deployed process versions; starting instances."},
    {"name": "Process Instance", "description": "Running and ended process instances."},
    {"name": "Task", "description": "User tasks."},
    {"name": "External Task", "description": "Service tasks done by external workers."},
    {"name": "Message", "description": "Message correlation."},
    {"name": "Incident", "description": "Incidents from failed external tasks and uncaught BPMN errors."},
    {"name": "Engine", "description": "Engine names and this document."},
]


# --------------------------------------------------------------------------- schema helpers

def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable_ref(name: str, description: str) -> dict[str, Any]:
    return {"allOf": [_ref(name)], "nullable": True, "description": description}


def _s(kind: str, description: str, *, nullable: bool = False, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "description": description}
    if nullable:
        out["nullable"] = True
    out.update(extra)
    return out


def _null(description: str, kind: str = "string") -> dict[str, Any]:
    """A Camunda field that this engine always reports as null."""
    return _s(kind, description + " Always null in this engine.", nullable=True)


def _date(description: str, *, nullable: bool = True) -> dict[str, Any]:
    return _s("string", description + f" Camunda date format, e.g. `{DATE_EXAMPLE}`.", nullable=nullable,
              example=DATE_EXAMPLE)


def _var_map(description: str, *, nullable: bool = True) -> dict[str, Any]:
    return {"type": "object", "description": description, "nullable": nullable,
            "additionalProperties": _ref("VariableValueDto")}


def _obj(properties: dict[str, Any], description: str, required: Iterable[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "description": description, "properties": properties}
    if required:
        out["required"] = list(required)
    return out


def _links() -> dict[str, Any]:
    return {"type": "array", "description": "Always empty in this engine.", "items": _ref("LinkDto")}


_EXTERNAL_TASK_PROPERTIES: dict[str, Any] = {
    "id": _s("string", "The external task's id (also its activity instance id)."),
    "activityId": _s("string", "The id of the BPMN service task."),
    "activityInstanceId": _s("string", "Same as `id`."),
    "errorMessage": _s("string", "The message of the last failure, if any.", nullable=True),
    "executionId": _s("string", "The process instance id (no separate executions in this engine)."),
    "lockExpirationTime": _date("When the current lock expires; null if never locked or unlocked."),
    "processDefinitionId": _s("string", "The process definition's id."),
    "processDefinitionKey": _s("string", "The process definition's key."),
    "processDefinitionVersionTag": _null("The version tag."),
    "processInstanceId": _s("string", "The process instance's id."),
    "retries": _s("integer", "Retries left; null until a failure sets it. 0 means an incident was raised.",
                  nullable=True, format="int32"),
    "suspended": _s("boolean", "Whether the process instance is suspended."),
    "workerId": _s("string", "The worker holding (or last holding) the lock.", nullable=True),
    "topicName": _s("string", "The topic."),
    "tenantId": _null("The tenant id."),
    "priority": _s("integer", "The priority (camunda:taskPriority); higher is fetched first with usePriority.",
                   format="int64"),
    "businessKey": _s("string", "The process instance's business key.", nullable=True),
}

_PROCESS_INSTANCE_QUERY_PROPERTIES: dict[str, Any] = {
    "processInstanceIds": {"type": "array", "items": {"type": "string"},
                           "description": "Only these instances (a comma-separated string is accepted too)."},
    "businessKey": _s("string", "Exact business key."),
    "businessKeyLike": _s("string", "Business key SQL LIKE pattern (`%` wildcard)."),
    "processDefinitionId": _s("string", "Only instances of this definition version."),
    "processDefinitionKey": _s("string", "Only instances of any version of this definition key."),
    "active": _s("boolean", "true: only running (not suspended) instances."),
    "suspended": _s("boolean", "true: only suspended instances."),
    "completed": _s("boolean", "true: only completed instances (extension)."),
    "withIncident": _s("boolean", "true: only instances with an open incident."),
    "includeEnded": _s("boolean", "true: include completed and cancelled instances; by default only running "
                       "and suspended instances are returned (extension).", default=False),
}

_TASK_QUERY_PROPERTIES: dict[str, Any] = {
    "processInstanceId": _s("string", "Only tasks of this process instance."),
    "assignee": _s("string", "Only tasks assigned to this user."),
    "candidateGroup": _s("string", "Only tasks offered to this group."),
    "candidateGroups": {"type": "array", "items": {"type": "string"},
                        "description": "Only tasks offered to one of these groups (a comma-separated string is "
                                       "accepted too)."},
    "candidateUser": _s("string", "Only tasks offered to this user as a candidate user."),
    "taskDefinitionKey": _s("string", "Only tasks of this BPMN user task id."),
    "processInstanceBusinessKey": _s("string", "Only tasks of instances with this business key."),
    "processDefinitionKey": _s("string", "Only tasks of this process definition key."),
    "unassigned": _s("boolean", "true: only tasks without assignee."),
    "dueBefore": _date("Only tasks due before this date.", nullable=False),
    "dueAfter": _date("Only tasks due after this date.", nullable=False),
}


SCHEMAS: dict[str, dict[str, Any]] = {
    "ExceptionDto": _obj({
        "type": _s("string", "The Camunda exception type, e.g. InvalidRequestException, BadUserRequestException, "
                             "AuthenticationException, AuthorizationException, OptimisticLockingException, "
                             "ParseException, ProcessEngineException."),
        "message": _s("string", "What went wrong, in plain English, naming the offending field or id."),
    }, "The error body of every failed request.", required=["type", "message"]),
    "DeploymentProblemDto": _obj({
        "resource": _s("string", "The resource (file) name."),
        "line": _s("integer", "The line in the resource, if known.", nullable=True, format="int32"),
        "elementId": _s("string", "The BPMN element id, if known.", nullable=True),
        "message": _s("string", "What is wrong."),
    }, "One problem found while parsing or validating a BPMN resource.", required=["resource", "message"]),
    "ParseExceptionDto": {
        "description": "An ExceptionDto; when a BPMN resource is rejected (`type` ParseException) it also lists "
                       "each problem in `problems` (Camunda reports them in `details` instead).",
        "allOf": [_ref("ExceptionDto"), {"type": "object", "properties": {
            "problems": {"type": "array", "items": _ref("DeploymentProblemDto"),
                         "description": "The problems, for ParseException errors."}}}],
    },
    "CountResultDto": _obj({"count": _s("integer", "The number of matching rows.", format="int64")},
                           "A count.", required=["count"]),
    "VariableValueDto": _obj({
        "value": {"description": "The value: a JSON value matching `type`. Json and Object values are written "
                                "as JSON text; dates as Camunda date strings."},
        "type": _s("string", "The value type: String, Integer, Long, Short, Double, Boolean, Json, Object, Date "
                             "or Null (case-insensitive on input). When missing on input it is inferred from the "
                             "JSON value. Responses use Null, Boolean, Integer, Long, Double, String, Date or Json.",
                   nullable=True),
        "valueInfo": {"type": "object", "additionalProperties": True, "nullable": True,
                      "description": "Accepted and ignored on input; always empty in responses."},
    }, "A Camunda typed variable value."),
    "LinkDto": _obj({"method": _s("string", "HTTP method."), "href": _s("string", "URL."),
                     "rel": _s("string", "Relation.")}, "A link (Camunda's HATEOAS links; unused here)."),
    "ProcessEngineDto": _obj({"name": _s("string", "The engine name; always `default`.")},
                             "A process engine.", required=["name"]),
    "ProcessDefinitionDto": _obj({
        "id": _s("string", "The definition id, `key:version:uuid`."),
        "key": _s("string", "The BPMN process id."),
        "category": _s("string", "The BPMN target namespace category; always `http://bpmn.io/schema/bpmn`."),
        "description": _null("The description."),
        "name": _s("string", "The BPMN process name.", nullable=True),
        "version": _s("integer", "The version within the key, starting at 1.", format="int32"),
        "resource": _s("string", "The deployed file name."),
        "deploymentId": _s("string", "The deployment that created this version."),
        "diagram": _null("The diagram resource."),
        "suspended": _s("boolean", "Always false: definitions cannot be suspended in this engine."),
        "tenantId": _null("The tenant id."),
        "versionTag": _null("The version tag."),
        "historyTimeToLive": _null("The history time to live.", "integer"),
        "startableInTasklist": _s("boolean", "Always true."),
        "deployedAt": _date("When this version was deployed (extension).", nullable=False),
        "deployedBy": _s("string", "Who deployed it (extension).", nullable=True),
    }, "A deployed process definition version."),
    "ProcessDefinitionDiagramDto": _obj({
        "id": _s("string", "The definition id."),
        "bpmn20Xml": _s("string", "The BPMN 2.0 XML of the deployed file."),
    }, "A process definition's BPMN XML."),
    "DeploymentDto": _obj({
        "id": _s("string", "The deployment id."),
        "name": _s("string", "The deployment-name sent at deployment.", nullable=True),
        "source": _s("string", "The deployment-source sent at deployment.", nullable=True),
        "deploymentTime": _date("When it was deployed.", nullable=False),
        "tenantId": _null("The tenant id."),
        "links": _links(),
    }, "A deployment."),
    "DeploymentWithDefinitionsDto": {
        "description": "A deployment with the process definitions it contains.",
        "allOf": [_ref("DeploymentDto"), {"type": "object", "properties": {
            "deployedProcessDefinitions": {
                "type": "object", "nullable": True, "additionalProperties": _ref("ProcessDefinitionDto"),
                "description": "The process definitions by id. On `POST /deployment/create`: only the versions "
                               "created by this request, and null when duplicate filtering found nothing new "
                               "(the response is then the earlier deployment). On `GET /deployment/{id}`: all "
                               "versions of the deployment (null if none)."},
            "deployedCaseDefinitions": _null("Case definitions.", "object"),
            "deployedDecisionDefinitions": _null("Decision definitions.", "object"),
            "deployedDecisionRequirementsDefinitions": _null("Decision requirements definitions.", "object"),
        }}],
    },
    "ProcessInstanceDto": _obj({
        "id": _s("string", "The process instance id."),
        "definitionId": _s("string", "The process definition version it runs (it keeps its version)."),
        "definitionKey": _s("string", "The process definition key."),
        "businessKey": _s("string", "The business key.", nullable=True),
        "caseInstanceId": _null("The case instance id."),
        "ended": _s("boolean", "Whether it completed or was cancelled."),
        "suspended": _s("boolean", "Whether it is suspended."),
        "tenantId": _null("The tenant id."),
        "links": _links(),
        "state": _s("string", "The state (extension).", enum=["RUNNING", "SUSPENDED", "COMPLETED", "CANCELLED"]),
    }, "A process instance."),
    "ProcessInstanceWithVariablesDto": {
        "description": "A started process instance; `variables` only when `withVariablesInReturn` was true.",
        "allOf": [_ref("ProcessInstanceDto"), {"type": "object", "properties": {
            "variables": _var_map("The instance's variables after the start ran to its first wait states.",
                                  nullable=False)}}],
    },
    "ProcessInstanceQueryDto": _obj(_PROCESS_INSTANCE_QUERY_PROPERTIES,
                                    "Process instance filters; all are optional and combined with AND. When "
                                    "several of active, suspended and completed are true, the last one in that "
                                    "order wins."),
    "StartProcessInstanceDto": _obj({
        "businessKey": _s("string", "The business key of the new instance.", nullable=True),
        "variables": _var_map("Initial process variables."),
        "withVariablesInReturn": _s("boolean", "Return the variables in the response.", default=False),
    }, "How to start a process instance. The whole body is optional."),
    "SuspensionStateDto": _obj({
        "suspended": _s("boolean", "true suspends, false activates (resumes) the instance."),
        "reason": _s("string", "Why, recorded in the audit log (extension).", nullable=True),
    }, "The wanted suspension state.", required=["suspended"]),
    "TaskDto": _obj({
        "id": _s("string", "The task id."),
        "name": _s("string", "The task name.", nullable=True),
        "assignee": _s("string", "The user it is assigned to (claimed by).", nullable=True),
        "owner": _null("The owner."),
        "created": _date("When the task was created.", nullable=False),
        "due": _date("The due date (camunda:dueDate)."),
        "followUp": _date("The follow-up date (camunda:followUpDate)."),
        "lastUpdated": _null("When it was last updated."),
        "delegationState": _null("The delegation state."),
        "description": _null("The description."),
        "executionId": _s("string", "The process instance id (no separate executions in this engine)."),
        "parentTaskId": _null("The parent task."),
        "priority": _s("integer", "The priority.", format="int32"),
        "processDefinitionId": _s("string", "The process definition id."),
        "processInstanceId": _s("string", "The process instance id."),
        "taskDefinitionKey": _s("string", "The BPMN user task id."),
        "caseExecutionId": _null("The case execution id."),
        "caseInstanceId": _null("The case instance id."),
        "caseDefinitionId": _null("The case definition id."),
        "suspended": _s("boolean", "Whether its process instance is suspended."),
        "formKey": _s("string", "The form key (camunda:formKey); a JSON Schema under forms/.", nullable=True),
        "camundaFormRef": _null("The Camunda form reference.", "object"),
        "tenantId": _null("The tenant id."),
        "businessKey": _s("string", "The process instance's business key (extension).", nullable=True),
        "candidateGroups": {"type": "array", "items": {"type": "string"},
                            "description": "The groups it is offered to (extension)."},
    }, "A user task."),
    "TaskQueryDto": _obj(_TASK_QUERY_PROPERTIES, "User task filters; all are optional and combined with AND."),
    "UserIdDto": _obj({"userId": _s("string", "The user claiming the task; must be the caller unless the caller "
                                              "is an admin.")}, "A user id.", required=["userId"]),
    "CompleteTaskDto": _obj({
        "variables": _var_map("Variables to set (form data)."),
        "withVariablesInReturn": _s("boolean", "Return the process variables in the response.", default=False),
    }, "How to complete a user task. The whole body is optional."),
    "FormDto": _obj({
        "key": _s("string", "The form key.", nullable=True),
        "contextPath": _null("The context path."),
        "camundaFormRef": _null("The Camunda form reference.", "object"),
    }, "A user task's form."),
    "ExternalTaskDto": _obj(copy.deepcopy(_EXTERNAL_TASK_PROPERTIES), "An external task."),
    "LockedExternalTaskDto": _obj({
        **copy.deepcopy(_EXTERNAL_TASK_PROPERTIES),
        "errorDetails": _s("string", "The details of the last failure, if any.", nullable=True),
        "variables": _var_map("The requested variables (all when the topic named none).", nullable=False),
        "extensionProperties": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "Always empty in this engine."},
    }, "An external task locked for the calling worker."),
    "FetchExternalTaskTopicDto": _obj({
        "topicName": _s("string", "The topic to fetch from."),
        "lockDuration": _s("integer", "How long to lock each task, in milliseconds; must be positive.",
                           format="int64", minimum=1),
        "variables": {"type": "array", "items": {"type": "string"}, "nullable": True,
                      "description": "The variables to return; null or absent returns all, [] returns none."},
        "businessKey": _s("string", "Only tasks of instances with this business key.", nullable=True),
        "processDefinitionKey": _s("string", "Only tasks of this process definition key.", nullable=True),
    }, "A topic to fetch; other Camunda topic options are ignored.", required=["topicName", "lockDuration"]),
    "FetchExternalTasksDto": _obj({
        "workerId": _s("string", "The worker's id; locks are held in its name."),
        "maxTasks": _s("integer", "The most tasks to lock, 1 to 1000.", format="int32", default=10,
                       minimum=1, maximum=1000),
        "usePriority": _s("boolean", "Fetch higher priorities first.", default=False),
        "asyncResponseTimeout": _s("integer", "Long polling: wait up to this many milliseconds for a task when "
                                              "none is available (capped by the server, 60000 by default).",
                                   format="int64", default=0),
        "topics": {"type": "array", "items": _ref("FetchExternalTaskTopicDto"),
                   "description": "The topics; an empty or missing list locks nothing."},
    }, "A fetch-and-lock request.", required=["workerId"]),
    "CompleteExternalTaskDto": _obj({
        "workerId": _s("string", "The worker holding the lock."),
        "variables": _var_map("Variables to set on the process."),
        "localVariables": _var_map("Variables to set; merged with `variables` (there is no separate local "
                                   "scope in this engine)."),
    }, "How to complete an external task.", required=["workerId"]),
    "ExternalTaskFailureDto": _obj({
        "workerId": _s("string", "The worker holding the lock."),
        "errorMessage": _s("string", "A short error message (at most 4000 characters are kept).", nullable=True),
        "errorDetails": _s("string", "The full error details, e.g. a stack trace.", nullable=True),
        "retries": _s("integer", "Retries left, 0 or more; 0 raises a `failedExternalTask` incident.",
                      nullable=True, format="int32", minimum=0),
        "retryTimeout": _s("integer", "Milliseconds until the task may be fetched again, 0 or more.",
                           nullable=True, format="int64", minimum=0),
    }, "A failure report.", required=["workerId"]),
    "ExternalTaskBpmnErrorDto": _obj({
        "workerId": _s("string", "The worker holding the lock."),
        "errorCode": _s("string", "The BPMN error code, matched against error boundary events."),
        "errorMessage": _s("string", "A message.", nullable=True),
        "variables": _var_map("Variables passed to the catching boundary event's path."),
    }, "A BPMN error report.", required=["workerId", "errorCode"]),
    "ExtendLockOnExternalTaskDto": _obj({
        "workerId": _s("string", "The worker holding the lock."),
        "newDuration": _s("integer", "The new lock duration from now, in milliseconds; must be positive.",
                          format="int64", minimum=1),
    }, "A lock extension.", required=["workerId", "newDuration"]),
    "RetriesDto": _obj({"retries": _s("integer", "Retries, 0 or more.", format="int32", minimum=0)},
                       "A retries count.", required=["retries"]),
    "CorrelationMessageDto": _obj({
        "messageName": _s("string", "The message name."),
        "businessKey": _s("string", "Only instances with this business key; also the business key of an "
                                    "instance started by the message.", nullable=True),
        "processInstanceId": _s("string", "Only this instance; with it, no instance is started.", nullable=True),
        "correlationKeys": _var_map("Only instances whose variables have these values."),
        "processVariables": _var_map("Variables to set on the correlated or started instance."),
        "processVariablesLocal": _var_map("Merged into `processVariables` (no local scope in this engine)."),
        "all": _s("boolean", "Correlate to every waiting instance that matches; without it more than one match "
                             "is a 400.", default=False),
        "resultEnabled": _s("boolean", "Return the correlation results (200) instead of 204.", default=False),
    }, "A message to correlate. Other Camunda fields (tenantId, variablesInResultEnabled, ...) are ignored.",
        required=["messageName"]),
    "ExecutionDto": _obj({
        "id": _s("string", "The execution id; the process instance id in this engine."),
        "processInstanceId": _s("string", "The process instance id."),
        "ended": _s("boolean", "Whether the instance has ended."),
        "tenantId": _null("The tenant id."),
    }, "An execution."),
    "MessageCorrelationResultWithVariableDto": _obj({
        "resultType": _s("string", "What the message reached.", enum=["Execution", "ProcessDefinition"]),
        "processInstance": _nullable_ref("ProcessInstanceDto", "The started instance, for ProcessDefinition."),
        "execution": _nullable_ref("ExecutionDto", "The reached instance, for Execution."),
    }, "One correlation result. `variables` is never returned."),
    "IncidentDto": _obj({
        "id": _s("string", "The incident id."),
        "processDefinitionId": _s("string", "The process definition id."),
        "processInstanceId": _s("string", "The process instance id."),
        "executionId": _s("string", "The process instance id."),
        "incidentTimestamp": _date("When it was raised.", nullable=False),
        "incidentType": _s("string", "`failedExternalTask` (retries reached 0) or `unhandledBpmnError` (a BPMN "
                                     "error no boundary event caught)."),
        "activityId": _s("string", "The BPMN activity id."),
        "failedActivityId": _s("string", "Same as activityId."),
        "causeIncidentId": _s("string", "Same as id."),
        "rootCauseIncidentId": _s("string", "Same as id."),
        "configuration": _s("string", "The external task id; set its retries to retry.", nullable=True),
        "tenantId": _null("The tenant id."),
        "incidentMessage": _s("string", "The message.", nullable=True),
        "jobDefinitionId": _null("The job definition id."),
        "annotation": _null("The annotation."),
        "resolved": _s("boolean", "Whether it was resolved by setting retries (extension)."),
    }, "An incident."),
}


# --------------------------------------------------------------------------- operation helpers

def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ok(description: str, schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = _json(schema)
    out.update(extra)
    return out


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


_ERROR_DEFAULTS = {
    "400": "Invalid input (InvalidRequestException) or a request not allowed in the current state "
           "(BadUserRequestException).",
    "401": "No valid HTTP Basic credentials or Bearer token (AuthenticationException).",
    "403": "The user lacks a role for this operation (AuthorizationException).",
    "404": "Not found (InvalidRequestException).",
    "409": "Another command changed the same process instance at the same time (OptimisticLockingException); "
           "nothing was written, retry.",
    "413": "The request body is larger than the server's limit.",
}


def _error(code: str, description: str | None = None, schema: str = "ExceptionDto") -> dict[str, Any]:
    return {"description": description or _ERROR_DEFAULTS[code], "content": _json(_ref(schema))}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _query(name: str, description: str, kind: str = "string", **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": kind, **schema}}


def _query_list(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description + " (comma-separated)",
            "style": "form", "explode": False, "schema": {"type": "array", "items": {"type": "string"}}}


def _query_date(name: str, description: str) -> dict[str, Any]:
    return _query(name, description + f" Camunda date format, e.g. `{DATE_EXAMPLE}`.", example=DATE_EXAMPLE)


PAGING = [
    _query("firstResult", "Skip this many rows.", "integer", minimum=0, default=0),
    _query("maxResults", "Return at most this many rows (default 1000, capped at 10000).", "integer", minimum=0),
]


def _body(schema_name: str, description: str, *, required: bool = True) -> dict[str, Any]:
    return {"description": description, "required": required, "content": _json(_ref(schema_name))}


def _op(operation_id: str, tag: str, summary: str, description: str, *, responses: dict[str, Any],
        errors: dict[str, str | None] | None = None, parameters: list[dict[str, Any]] | None = None,
        body: dict[str, Any] | None = None, permission: str | None = None, public: bool = False) -> dict[str, Any]:
    """One operation. ``errors`` maps status codes to descriptions (None: the default one); 401 is added
    for every authenticated operation and 403 for every role-checked one."""
    if permission is not None:
        roles = ", ".join(("admin",) + PERMISSIONS[permission])
        description = f"{description}\n\nRoles: {roles}."
    elif not public:
        description = f"{description}\n\nAny authenticated user."
    out: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": summary,
                           "description": description}
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    all_errors = dict(errors or {})
    if not public:
        all_errors.setdefault("401", None)
    if permission is not None:
        all_errors.setdefault("403", None)
    out["responses"] = dict(responses)
    for code in sorted(all_errors):
        out["responses"][code] = _error(code, all_errors[code],
                                        "ParseExceptionDto" if operation_id == "createDeployment" and code == "400"
                                        else "ExceptionDto")
    if public:
        out["security"] = []
    return out


_NO_CONTENT = {"204": _ok("Request successful; no content.")}
_BAD_PARAMS = "A filter or paging parameter has the wrong type (e.g. a non-number for maxResults)."

# --------------------------------------------------------------------------- operations

_ID = {
    "definition": _path_param("id", "The process definition id."),
    "key": _path_param("key", "The process definition key; the latest version is used."),
    "deployment": _path_param("id", "The deployment id."),
    "instance": _path_param("id", "The process instance id."),
    "task": _path_param("id", "The user task id."),
    "external": _path_param("id", "The external task id."),
    "incident": _path_param("id", "The incident id."),
}

_DEFINITION_FILTERS = [
    _query("key", "Only this key."),
    _query("keyLike", "Key SQL LIKE pattern (`%` wildcard)."),
    _query("name", "Only this name."),
    _query("deploymentId", "Only definitions of this deployment."),
    _query("version", "Only this version.", "integer", format="int32"),
    _query("latestVersion", "true: only the latest version of each key.", "boolean"),
]

_DEFINITION_SORTING = [
    _query("sortBy", "Sort by `key`, `id`, `name`, `version`, `deploymentId` or `deployTime` (default: key, "
                     "then version).", enum=["key", "id", "name", "version", "deploymentId", "deployTime"]),
    _query("sortOrder", "`asc` (default) or `desc`.", enum=["asc", "desc"]),
]

_INSTANCE_FILTERS = [
    _query_list("processInstanceIds", "Only these instances"),
    _query("businessKey", "Exact business key."),
    _query("businessKeyLike", "Business key SQL LIKE pattern (`%` wildcard)."),
    _query("processDefinitionId", "Only instances of this definition version."),
    _query("processDefinitionKey", "Only instances of any version of this key."),
    _query("active", "true: only running (not suspended) instances.", "boolean"),
    _query("suspended", "true: only suspended instances.", "boolean"),
    _query("completed", "true: only completed instances (extension).", "boolean"),
    _query("withIncident", "true: only instances with an open incident.", "boolean"),
    _query("includeEnded", "true: include completed and cancelled instances; by default only running and "
                           "suspended instances are returned (extension).", "boolean"),
]

_TASK_FILTERS = [
    _query("processInstanceId", "Only tasks of this process instance."),
    _query("assignee", "Only tasks assigned to this user."),
    _query("candidateGroup", "Only tasks offered to this group."),
    _query_list("candidateGroups", "Only tasks offered to one of these groups"),
    _query("candidateUser", "Only tasks offered to this user as a candidate user."),
    _query("taskDefinitionKey", "Only tasks of this BPMN user task id."),
    _query("processInstanceBusinessKey", "Only tasks of instances with this business key."),
    _query("processDefinitionKey", "Only tasks of this process definition key."),
    _query("unassigned", "true: only tasks without assignee.", "boolean"),
    _query_date("dueBefore", "Only tasks due before this date."),
    _query_date("dueAfter", "Only tasks due after this date."),
]

_INCIDENT_FILTERS = [
    _query("includeResolved", "true: include resolved incidents (extension; default false).", "boolean"),
    _query("processInstanceId", "Only incidents of this process instance."),
    _query("incidentType", "`failedExternalTask` or `unhandledBpmnError`."),
    _query("activityId", "Only incidents at this BPMN activity."),
    _query("configuration", "Only incidents of this external task id."),
]

_TASK_VISIBILITY = ("Users without the supervisor, designer or admin role see only tasks assigned to them or "
                    "unassigned tasks offered to them (difference from Camunda 7).")

_START_DESCRIPTION = ("Starts a process instance and runs it to its first wait states (user tasks, external "
                      "tasks, message events) in one transaction. Called processes (call activities) run inside "
                      "this instance (difference from Camunda 7). The `Location` header points at the new "
                      "instance.")

_START_RESPONSES = {"200": _ok("The started instance.", _ref("ProcessInstanceWithVariablesDto"), headers={
    "Location": {"description": "URL of the new process instance.", "schema": {"type": "string"}}})}

_START_ERRORS = {"400": "Invalid variables, a called process that is not deployed, or a script or expression "
                        "of the model failed (ProcessEngineException); nothing was written.",
                 "404": "No process definition with this key or id.", "409": None}

_EXTERNAL_HOLDER_400 = ("`workerId` is missing, the task is not locked by this worker "
                        "(BadUserRequestException), or invalid input.")

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "/openapi.json": {
        "get": _op("getOpenApiDocument", "Engine", "OpenAPI document",
                   "This document. No authentication needed.", public=True,
                   responses={"200": _ok("The OpenAPI 3.0.3 document.", {"type": "object"})}),
    },
    "/engine": {
        "get": _op("getProcessEngineNames", "Engine", "Get list",
                   "The names of the process engines: always the one engine `default`. No authentication needed.",
                   public=True, responses={"200": _ok("The engines.", _array("ProcessEngineDto"))}),
    },
    "/deployment/create": {
        "post": _op(
            "createDeployment", "Deployment", "Create",
            "Deploys BPMN files sent as multipart/form-data file fields (any field name other than the option "
            "fields; file names must end in .bpmn or .bpmn20.xml). Every file is hardened-parsed, validated "
            "against the BPMN 2.0 XSD and parsed; one bad file rejects the whole deployment. Each process gets "
            "the next version of its key. Duplicate filtering is on unless `enable-duplicate-filtering=false` "
            "is sent (difference from Camunda 7): when nothing changed, no deployment is created and the "
            "earlier deployment is returned with `deployedProcessDefinitions: null`.",
            permission="deploy",
            body={"required": True, "description": "BPMN files plus optional text fields.",
                  "content": {"multipart/form-data": {"schema": {
                      "type": "object",
                      "properties": {
                          "deployment-name": _s("string", "The deployment name."),
                          "deployment-source": _s("string", "Where the deployment comes from."),
                          "enable-duplicate-filtering": _s("boolean", "Skip unchanged files; default true here.",
                                                           default=True),
                          "deploy-changed-only": _s("boolean", "Also turns duplicate filtering on.",
                                                    default=False),
                          "deployment-activation-time": _s("string", "Accepted and ignored."),
                          "tenant-id": _s("string", "Accepted and ignored."),
                          "data": _s("string", "A BPMN file (any other field name works too).", format="binary"),
                      },
                      "additionalProperties": {"type": "string", "format": "binary",
                                               "description": "A BPMN file."},
                  }}}},
            responses={"200": _ok("The new deployment, or the earlier one if nothing changed.",
                                  _ref("DeploymentWithDefinitionsDto"))},
            errors={"400": "No file sent, a file that is not .bpmn, or a BPMN file that failed parsing or "
                           "validation (ParseException, with `problems`).",
                    "413": None}),
    },
    "/deployment/{id}": {
        "get": _op("getDeployment", "Deployment", "Get", "A deployment and its process definitions.",
                   permission="read", parameters=[_ID["deployment"]],
                   responses={"200": _ok("The deployment.", _ref("DeploymentWithDefinitionsDto"))},
                   errors={"404": "No deployment with this id."}),
    },
    "/process-definition": {
        "get": _op("getProcessDefinitions", "Process Definition", "Get list",
                   "Process definitions matching the filters, ordered by key and version unless `sortBy` says "
                   "otherwise (e.g. `key=K&sortBy=version&sortOrder=desc`: the versions of K, newest first).",
                   permission="read", parameters=_DEFINITION_FILTERS + _DEFINITION_SORTING + PAGING,
                   responses={"200": _ok("The definitions.", _array("ProcessDefinitionDto"))},
                   errors={"400": _BAD_PARAMS + " Also an unknown `sortBy` or `sortOrder`."}),
    },
    "/process-definition/count": {
        "get": _op("getProcessDefinitionsCount", "Process Definition", "Get list count",
                   "The number of process definitions matching the filters.", permission="read",
                   parameters=copy.deepcopy(_DEFINITION_FILTERS),
                   responses={"200": _ok("The count.", _ref("CountResultDto"))}, errors={"400": _BAD_PARAMS}),
    },
    "/process-definition/key/{key}": {
        "get": _op("getProcessDefinitionByKey", "Process Definition", "Get by key",
                   "The latest version of the process definition with this key.", permission="read",
                   parameters=[_ID["key"]],
                   responses={"200": _ok("The definition.", _ref("ProcessDefinitionDto"))},
                   errors={"404": "No process definition with this key."}),
    },
    "/process-definition/{id}": {
        "get": _op("getProcessDefinition", "Process Definition", "Get", "A process definition version.",
                   permission="read", parameters=[_ID["definition"]],
                   responses={"200": _ok("The definition.", _ref("ProcessDefinitionDto"))},
                   errors={"404": "No process definition with this id."}),
    },
    "/process-definition/key/{key}/xml": {
        "get": _op("getProcessDefinitionBpmn20XmlByKey", "Process Definition", "Get XML by key",
                   "The BPMN XML of the latest version with this key.", permission="read",
                   parameters=[_ID["key"]],
                   responses={"200": _ok("The XML.", _ref("ProcessDefinitionDiagramDto"))},
                   errors={"404": "No process definition with this key."}),
    },
    "/process-definition/{id}/xml": {
        "get": _op("getProcessDefinitionBpmn20Xml", "Process Definition", "Get XML",
                   "The BPMN XML of a process definition version.", permission="read",
                   parameters=[_ID["definition"]],
                   responses={"200": _ok("The XML.", _ref("ProcessDefinitionDiagramDto"))},
                   errors={"404": "No process definition with this id."}),
    },
    "/process-definition/key/{key}/start": {
        "post": _op("startProcessInstanceByKey", "Process Definition", "Start instance by key",
                    _START_DESCRIPTION + " Uses the latest version of the key.", permission="start",
                    parameters=[_ID["key"]],
                    body=_body("StartProcessInstanceDto", "Business key and variables.", required=False),
                    responses=copy.deepcopy(_START_RESPONSES), errors=dict(_START_ERRORS)),
    },
    "/process-definition/{id}/start": {
        "post": _op("startProcessInstance", "Process Definition", "Start instance", _START_DESCRIPTION,
                    permission="start", parameters=[_ID["definition"]],
                    body=_body("StartProcessInstanceDto", "Business key and variables.", required=False),
                    responses=copy.deepcopy(_START_RESPONSES), errors=dict(_START_ERRORS)),
    },
    "/process-instance": {
        "get": _op("getProcessInstances", "Process Instance", "Get list",
                   "Process instances matching the filters, newest first. By default only running and suspended "
                   "instances.", permission="read", parameters=_INSTANCE_FILTERS + PAGING,
                   responses={"200": _ok("The instances.", _array("ProcessInstanceDto"))},
                   errors={"400": _BAD_PARAMS}),
        "post": _op("queryProcessInstances", "Process Instance", "Get list (POST)",
                    "Like `GET /process-instance` with the filters in the body; paging stays in the query string.",
                    permission="read", parameters=copy.deepcopy(PAGING),
                    body=_body("ProcessInstanceQueryDto", "The filters.", required=False),
                    responses={"200": _ok("The instances.", _array("ProcessInstanceDto"))},
                    errors={"400": "The body is not a JSON object or a filter has the wrong type."}),
    },
    "/process-instance/count": {
        "get": _op("getProcessInstancesCount", "Process Instance", "Get list count",
                   "The number of process instances matching the filters.", permission="read",
                   parameters=copy.deepcopy(_INSTANCE_FILTERS),
                   responses={"200": _ok("The count.", _ref("CountResultDto"))}, errors={"400": _BAD_PARAMS}),
    },
    "/process-instance/{id}": {
        "get": _op("getProcessInstance", "Process Instance", "Get", "A process instance, running or ended.",
                   permission="read", parameters=[_ID["instance"]],
                   responses={"200": _ok("The instance.", _ref("ProcessInstanceDto"))},
                   errors={"404": "No process instance with this id."}),
        "delete": _op("deleteProcessInstance", "Process Instance", "Delete",
                      "Cancels a running or suspended process instance: its tasks are removed and it ends with "
                      "state CANCELLED. The instance and its audit trail are kept.", permission="operate",
                      parameters=[_ID["instance"],
                                  _query("deleteReason", "Why; recorded in the audit log (`reason` works too).")],
                      responses=dict(_NO_CONTENT),
                      errors={"400": "The instance has already ended (BadUserRequestException).",
                              "404": "No process instance with this id.", "409": None}),
    },
    "/process-instance/{id}/variables": {
        "get": _op("getProcessInstanceVariables", "Process Instance", "Get process variables",
                   "The instance's current variables as typed values.", permission="read",
                   parameters=[_ID["instance"]],
                   responses={"200": _ok("The variables by name.", _var_map("The variables.", nullable=False))},
                   errors={"404": "No process instance with this id."}),
    },
    "/process-instance/{id}/variables/{varName}": {
        "get": _op("getProcessInstanceVariable", "Process Instance", "Get process variable",
                   "One variable of the instance.", permission="read",
                   parameters=[_ID["instance"], _path_param("varName", "The variable name.")],
                   responses={"200": _ok("The variable.", _ref("VariableValueDto"))},
                   errors={"404": "No process instance with this id, or no variable with this name."}),
    },
    "/process-instance/{id}/suspended": {
        "put": _op("updateSuspensionStateById", "Process Instance", "Activate/suspend",
                   "Suspends or activates a process instance. While suspended, its tasks cannot be claimed or "
                   "completed and its external tasks are not fetched.", permission="operate",
                   parameters=[_ID["instance"]], body=_body("SuspensionStateDto", "The wanted state."),
                   responses=dict(_NO_CONTENT),
                   errors={"400": "`suspended` is missing, or the instance has ended (BadUserRequestException).",
                           "404": "No process instance with this id.", "409": None}),
    },
    "/task": {
        "get": _op("getTasks", "Task", "Get list",
                   "User tasks matching the filters, oldest first. " + _TASK_VISIBILITY,
                   parameters=_TASK_FILTERS + PAGING,
                   responses={"200": _ok("The tasks.", _array("TaskDto"))}, errors={"400": _BAD_PARAMS}),
        "post": _op("queryTasks", "Task", "Get list (POST)",
                    "Like `GET /task` with the filters in the body; paging stays in the query string. "
                    + _TASK_VISIBILITY,
                    parameters=copy.deepcopy(PAGING), body=_body("TaskQueryDto", "The filters.", required=False),
                    responses={"200": _ok("The tasks.", _array("TaskDto"))},
                    errors={"400": "The body is not a JSON object or a filter has the wrong type."}),
    },
    "/task/count": {
        "get": _op("getTasksCount", "Task", "Get list count",
                   "The number of user tasks matching the filters. " + _TASK_VISIBILITY,
                   parameters=copy.deepcopy(_TASK_FILTERS),
                   responses={"200": _ok("The count.", _ref("CountResultDto"))}, errors={"400": _BAD_PARAMS}),
    },
    "/task/{id}": {
        "get": _op("getTask", "Task", "Get", "A user task.", parameters=[_ID["task"]],
                   responses={"200": _ok("The task.", _ref("TaskDto"))},
                   errors={"404": "No open task with this id."}),
    },
    "/task/{id}/claim": {
        "post": _op("claim", "Task", "Claim",
                    "Assigns the task to the user. Users may claim only for themselves and only tasks offered to "
                    "them; admins may claim for anyone.", parameters=[_ID["task"]],
                    body=_body("UserIdDto", "Who claims."), responses=dict(_NO_CONTENT),
                    errors={"400": "`userId` is missing or not the caller, the task is already claimed by someone "
                                   "else, or its instance is suspended (BadUserRequestException).",
                            "403": "The task is not offered to the user (AuthorizationException).",
                            "404": "No open task with this id."}),
    },
    "/task/{id}/unclaim": {
        "post": _op("unclaim", "Task", "Unclaim",
                    "Removes the assignee. Only the assignee or an admin may unclaim.", parameters=[_ID["task"]],
                    responses=dict(_NO_CONTENT),
                    errors={"403": "The task is claimed by someone else (AuthorizationException).",
                            "404": "No open task with this id."}),
    },
    "/task/{id}/complete": {
        "post": _op("complete", "Task", "Complete",
                    "Completes the task with the given variables and runs the process on to its next wait "
                    "states in one transaction. Only the assignee, or (if unassigned) a user it is offered to, "
                    "or an admin may complete it.", parameters=[_ID["task"]],
                    body=_body("CompleteTaskDto", "The form data.", required=False),
                    responses={"200": _ok("`withVariablesInReturn` was true: the process variables.",
                                          _var_map("The variables.", nullable=False)),
                               "204": _ok("`withVariablesInReturn` was false (default); no content.")},
                    errors={"400": "Invalid variables, the instance is suspended or ended "
                                   "(BadUserRequestException), or a script or expression of the model failed "
                                   "(ProcessEngineException); nothing was written.",
                            "403": "The task is assigned to someone else or not offered to the user "
                                   "(AuthorizationException).",
                            "404": "No open task with this id.",
                            "409": "The task was completed or cancelled meanwhile, or the instance was changed "
                                   "at the same time (OptimisticLockingException); nothing was written."}),
    },
    "/task/{id}/form-variables": {
        "get": _op("getFormVariables", "Task", "Get task form variables",
                   "The variables visible to the task's form.",
                   parameters=[_ID["task"], _query_list("variableNames", "Only these variables")],
                   responses={"200": _ok("The variables by name.", _var_map("The variables.", nullable=False))},
                   errors={"404": "No open task with this id."}),
    },
    "/task/{id}/form": {
        "get": _op("getForm", "Task", "Get form key", "The task's form key.", parameters=[_ID["task"]],
                   responses={"200": _ok("The form.", _ref("FormDto"))},
                   errors={"404": "No open task with this id."}),
    },
    "/external-task/fetchAndLock": {
        "post": _op("fetchAndLock", "External Task", "Fetch and lock",
                    "Locks up to `maxTasks` available external tasks of the topics for the worker and returns them "
                    "with their variables. Tasks of suspended instances, locked tasks and tasks without retries "
                    "left are not fetched. With `asyncResponseTimeout` the request waits (long polling) until a "
                    "task is available or the timeout passes, then returns what it has (possibly []).",
                    permission="work",
                    body=_body("FetchExternalTasksDto", "The worker and topics."),
                    responses={"200": _ok("The locked tasks.", _array("LockedExternalTaskDto"))},
                    errors={"400": "The body is missing or not JSON, `workerId` is missing, `maxTasks` is not "
                                   "1..1000, or a topic lacks `topicName` or a positive `lockDuration`."}),
    },
    "/external-task/{id}/complete": {
        "post": _op("completeExternalTaskResource", "External Task", "Complete",
                    "Completes the external task with the given variables and runs the process on to its next "
                    "wait states in one transaction.", permission="work", parameters=[_ID["external"]],
                    body=_body("CompleteExternalTaskDto", "The worker and variables."),
                    responses=dict(_NO_CONTENT),
                    errors={"400": _EXTERNAL_HOLDER_400 + " Also when the instance is suspended or ended, or a "
                                   "script or expression of the model failed; nothing was written.",
                            "404": "No open external task with this id.",
                            "409": "The task is no longer active, or the instance was changed at the same time "
                                   "(OptimisticLockingException); nothing was written."}),
    },
    "/external-task/{id}/failure": {
        "post": _op("handleFailure", "External Task", "Handle failure",
                    "Reports a failure. With `retries` > 0 the task can be fetched again after `retryTimeout` ms; "
                    "with `retries` 0 a `failedExternalTask` incident is raised. The lock is released.",
                    permission="work", parameters=[_ID["external"]],
                    body=_body("ExternalTaskFailureDto", "The failure."), responses=dict(_NO_CONTENT),
                    errors={"400": _EXTERNAL_HOLDER_400 + " Also negative `retries` or `retryTimeout`.",
                            "404": "No open external task with this id."}),
    },
    "/external-task/{id}/bpmnError": {
        "post": _op("handleExternalTaskBpmnError", "External Task", "Handle BPMN error",
                    "Reports a business error. The nearest error boundary event catching `errorCode` (on the task, "
                    "an enclosing subprocess or call activity) takes over with the given variables. If none "
                    "catches it, an `unhandledBpmnError` incident is raised and the activity stays waiting "
                    "(difference from Camunda 7, which would end the activity); set retries to retry.",
                    permission="work", parameters=[_ID["external"]],
                    body=_body("ExternalTaskBpmnErrorDto", "The error."), responses=dict(_NO_CONTENT),
                    errors={"400": _EXTERNAL_HOLDER_400 + " Also a missing `errorCode`, a suspended or ended "
                                   "instance, or a failing script or expression of the model.",
                            "404": "No open external task with this id.",
                            "409": "The task is no longer active, or the instance was changed at the same time "
                                   "(OptimisticLockingException); nothing was written."}),
    },
    "/external-task/{id}/extendLock": {
        "post": _op("extendLock", "External Task", "Extend lock",
                    "Sets the lock to expire `newDuration` ms from now.", permission="work",
                    parameters=[_ID["external"]],
                    body=_body("ExtendLockOnExternalTaskDto", "The new duration."), responses=dict(_NO_CONTENT),
                    errors={"400": _EXTERNAL_HOLDER_400 + " Also a missing or non-positive `newDuration`, or a "
                                   "lock that has already expired.",
                            "404": "No open external task with this id."}),
    },
    "/external-task/{id}/unlock": {
        "post": _op("unlock", "External Task", "Unlock",
                    "Releases the lock so any worker can fetch the task again.", permission="work",
                    parameters=[_ID["external"]], responses=dict(_NO_CONTENT),
                    errors={"404": "No open external task with this id."}),
    },
    "/external-task/{id}/retries": {
        "put": _op("setExternalTaskResourceRetries", "External Task", "Set retries",
                   "Sets the retries. A positive count releases the lock and resolves the task's open incident, "
                   "so the task is fetched again (this is how incidents are retried).", permission="operate",
                   parameters=[_ID["external"]], body=_body("RetriesDto", "The retries."),
                   responses=dict(_NO_CONTENT),
                   errors={"400": "`retries` is missing or negative.", "404": "No open external task with this id."}),
    },
    "/external-task": {
        "get": _op("getExternalTasks", "External Task", "Get list",
                   "Open external tasks matching the filters, oldest first.", permission="read",
                   parameters=[
                       _query("topicName", "Only this topic."),
                       _query("workerId", "Only tasks locked by (or last locked by) this worker."),
                       _query("processInstanceId", "Only tasks of this process instance."),
                       _query("locked", "true: only tasks with an unexpired lock.", "boolean"),
                       _query("withRetriesLeft", "true: only tasks whose retries are unset or above 0.", "boolean"),
                       _query("noRetriesLeft", "true: only tasks with 0 retries (they have an incident).",
                              "boolean"),
                   ] + copy.deepcopy(PAGING),
                   responses={"200": _ok("The external tasks.", _array("ExternalTaskDto"))},
                   errors={"400": _BAD_PARAMS}),
    },
    "/external-task/{id}": {
        "get": _op("getExternalTask", "External Task", "Get", "An open external task.", permission="read",
                   parameters=[_ID["external"]],
                   responses={"200": _ok("The external task.", _ref("ExternalTaskDto"))},
                   errors={"404": "No open external task with this id."}),
    },
    "/message": {
        "post": _op("deliverMessage", "Message", "Correlate",
                    "Delivers the message to the running instance waiting for it (filtered by businessKey, "
                    "processInstanceId and correlationKeys), or to every such instance with `all`; if none waits "
                    "and no processInstanceId was given, starts the latest process definition with a message "
                    "start event of this name.", permission="message",
                    body=_body("CorrelationMessageDto", "The message."),
                    responses={"200": _ok("`resultEnabled` was true: what the message reached.",
                                          _array("MessageCorrelationResultWithVariableDto")),
                               "204": _ok("`resultEnabled` was false (default); no content.")},
                    errors={"400": "`messageName` is missing, invalid variables, no execution or process "
                                   "definition matches, or more than one execution matches without `all` "
                                   "(BadUserRequestException), or a script or expression of the model failed.",
                            "409": "A matching instance moved on or was changed at the same time "
                                   "(OptimisticLockingException); nothing was written."}),
    },
    "/incident": {
        "get": _op("getIncidents", "Incident", "Get list",
                   "Incidents matching the filters, oldest first; by default only open ones.", permission="read",
                   parameters=_INCIDENT_FILTERS + copy.deepcopy(PAGING),
                   responses={"200": _ok("The incidents.", _array("IncidentDto"))}, errors={"400": _BAD_PARAMS}),
    },
    "/incident/count": {
        "get": _op("getIncidentsCount", "Incident", "Get list count",
                   "The number of incidents matching the filters.", permission="read",
                   parameters=copy.deepcopy(_INCIDENT_FILTERS),
                   responses={"200": _ok("The count.", _ref("CountResultDto"))}, errors={"400": _BAD_PARAMS}),
    },
    "/incident/{id}": {
        "get": _op("getIncident", "Incident", "Get", "An incident, open or resolved.", permission="read",
                   parameters=[_ID["incident"]],
                   responses={"200": _ok("The incident.", _ref("IncidentDto"))},
                   errors={"404": "No incident with this id."}),
    },
}


# --------------------------------------------------------------------------- extensions

def _merge_extensions() -> None:
    """The onewindow extensions live in their own module; the document is one."""
    from . import openapi_extensions

    OPERATIONS.update(openapi_extensions.OPERATIONS)
    SCHEMAS.update(openapi_extensions.SCHEMAS)
    TAGS.extend(openapi_extensions.TAGS)
    from . import openapi_catalogue

    for path, methods in openapi_catalogue.OPERATIONS.items():  # a path may have its other methods elsewhere
        OPERATIONS.setdefault(path, {}).update(methods)
    SCHEMAS.update(openapi_catalogue.SCHEMAS)
    TAGS.extend(openapi_catalogue.TAGS)


_merge_extensions()

# --------------------------------------------------------------------------- the document

_IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _shape(path: str) -> str:
    """A path with its parameter names erased: ``/task/<task_id>`` and ``/task/{id}`` → ``/task/{}``."""
    return re.sub(r"\{[^}]*\}", "{}", re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{}", path))


def check_routes(url_map: Any, prefix: str | None = None) -> None:
    """Raise ValueError unless the Flask routes under ``prefix`` and ``OPERATIONS`` match method by method."""
    prefix = prefix if prefix is not None else (bp.url_prefix or "")
    routed: dict[tuple[str, str], str] = {}
    for rule in url_map.iter_rules():
        if not rule.rule.startswith(prefix + "/"):
            continue
        path = rule.rule[len(prefix):]
        for method in sorted((rule.methods or set()) - _IGNORED_METHODS):
            routed[(_shape(path), method.lower())] = f"{method} {rule.rule} ({rule.endpoint})"
    documented = {(_shape(path), method): f"{method.upper()} {prefix}{path}"
                  for path, methods in OPERATIONS.items() for method in methods}
    undocumented = sorted(routed[k] for k in routed.keys() - documented.keys())
    unrouted = sorted(documented[k] for k in documented.keys() - routed.keys())
    problems = []
    if undocumented:
        problems.append("Flask routes without a documented operation in api/engine_rest/openapi.py: "
                        + "; ".join(undocumented))
    if unrouted:
        problems.append("documented operations without a Flask route: " + "; ".join(unrouted))
    if problems:
        raise ValueError(". ".join(problems))


def build_document(url_map: Any = None) -> dict[str, Any]:
    """The OpenAPI 3.0.3 document (a fresh copy). With ``url_map``, first check that it documents
    exactly the routes registered under /engine-rest (ValueError naming the mismatches otherwise)."""
    if url_map is not None:
        check_routes(url_map)
    return copy.deepcopy({
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "onewindow engine-rest",
            "version": API_VERSION,
            "description": DESCRIPTION,
        },
        "servers": [{"url": bp.url_prefix or "/engine-rest",
                     "description": "This server (relative to the host serving this document)."}],
        "tags": TAGS,
        "security": [{"basicAuth": []}, {"bearerAuth": []}],
        "paths": OPERATIONS,
        "components": {
            "securitySchemes": {
                "basicAuth": {"type": "http", "scheme": "basic",
                              "description": "A onewindow user name and password."},
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API token from `onewindow token create USER`."},
            },
            "schemas": SCHEMAS,
        },
    })


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_document())


@bp.get("/engine")
def engine_info():
    return jsonify([{"name": "default"}])
