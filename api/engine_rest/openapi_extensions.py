"""OpenAPI operations and schemas of the onewindow extensions: timers as jobs, the case clock,
supervision notices and the working-day calendar. Merged into the document by ``openapi``."""
from __future__ import annotations

import copy
from typing import Any

from .openapi import (_BAD_PARAMS, _NO_CONTENT, PAGING, _array, _body, _date, _obj, _ok, _op, _path_param,
                      _query, _ref, _s)

TAGS = [
    {"name": "Job", "description": "Due timers (the only jobs this engine has)."},
    {"name": "Case Clock", "description": "Statutory time limits of a case (办件时限), in working days."},
    {"name": "Calendar", "description": "The working-day calendar: official arrangements and local rules."},
    {"name": "Case", "description": "Receiving applications (收件) for catalogue items, and the forms they use."},
    {"name": "Migration", "description": "Moving running instances to another version of their process "
                                         "(Camunda's process instance migration, plus a dry-run report)."},
]

_INSTANCE = _path_param("id", "The process instance id.")
_JOB_FILTERS = [
    _query("processInstanceId", "Only timers of this instance."),
    _query("processDefinitionId", "Only timers of this definition (start timers included)."),
    _query("activityId", "Only timers of this BPMN event."),
    _query("withException", "Only timers whose last firing failed.", "boolean"),
    _query("noRetriesLeft", "Only timers whose retries are spent (they have an incident).", "boolean"),
    _query("dueDatesBefore", "Only timers due before this date."),
]
_CASE_FILTERS = [
    _query("status", "running, suspended, completed or cancelled."),
    _query("processDefinitionKey", "The process."), _query("itemCode", "The catalogue item."),
    _query("department", "The implementing department."), _query("businessKey", "The case number."),
    _query("applicant", "The applicant's name, or its beginning."),
    _query("startedAfter", "Received at or after (Camunda date format)."),
    _query("startedBefore", "Received before."), _query("endedAfter", "Ended at or after."),
    _query("endedBefore", "Ended before."), _query("warningState", "normal, yellow or red."),
    _query("withIncident", "Only cases with (true) or without (false) an open incident.", "boolean"),
    _query("sort", "newest (default), oldest, or deadline: running cases, the nearest promised deadline first."),
]
_CLOCK_FILTERS = [
    _query("warningState", "normal, yellow or red."),
    _query("businessKey", "The case number."),
    _query("estimated", "Only clocks whose deadline is (or is not) an estimate.", "boolean"),
    _query("includeClosed", "Also ended cases.", "boolean"),
]
_CLOCK_ERRORS = {"400": "The command does not fit the clock's state, or a field is missing or invalid (the "
                        "message says which).", "404": "No such instance, or it has no case clock."}


def _clock_command(operation_id: str, summary: str, description: str, body: dict[str, Any] | None = None,
                   errors: dict[str, str | None] | None = None) -> dict[str, Any]:
    return _op(operation_id, "Case Clock", summary, description, permission="clock", parameters=[_INSTANCE],
               body=body, responses={"200": _ok("The clock after the command.", _ref("CaseClockDto"))},
               errors={**_CLOCK_ERRORS, **(errors or {})})



# --- versions, diffs and migration -----------------------------------------------------------------

_ELEMENT = _obj({"id": _s("string", "The BPMN id."), "kind": _s("string", "The BPMN tag, e.g. userTask, sequenceFlow."),
                 "name": _s("string", "The element's name.", nullable=True),
                 "scope": _s("string", "The process or subprocess holding it; empty for messages, errors, signals.")},
                "An element of a process.")
_MIGRATION_IDS = {
    "sourceProcessDefinitionId": _s("string", "The version instances move from."),
    "targetProcessDefinitionId": _s("string", "The version they move to (same key and dialect)."),
}
_MIGRATION_SCHEMAS: dict[str, Any] = {
    "ProcessDefinitionVersionDto": _obj({
        "id": _s("string", "The definition id."), "key": _s("string", "The key."),
        "version": _s("integer", "The version."), "name": _s("string", "The name.", nullable=True),
        "deployedAt": _date("When it was deployed.", nullable=False),
        "deployedBy": _s("string", "Who deployed it.", nullable=True),
        "deploymentId": _s("string", "Its deployment."),
        "deploymentName": _s("string", "The deployment's name.", nullable=True),
        "deploymentSource": _s("string", "The deployment's source (cli, web, ...).", nullable=True),
        "resource": _s("string", "The file name."), "checksum": _s("string", "SHA-256 of the file."),
        "dialect": _s("string", "camunda or spiff."),
        "runningInstances": _s("integer", "Instances of this version that have not ended."),
        "runningAsCalledProcess": _s("integer", "Instances of other processes running this version in a call "
                                                "activity."),
        "latest": _s("boolean", "The version new instances start on."),
    }, "One version of a process."),
    "DefinitionDiffDto": _obj({
        "oldDefinitionId": _s("string", "The old version."), "newDefinitionId": _s("string", "The new version."),
        "oldProcess": _s("string", "The old process id."), "newProcess": _s("string", "The new process id."),
        "added": {"type": "array", "items": _ELEMENT, "description": "Elements only the new version has."},
        "removed": {"type": "array", "items": _ELEMENT, "description": "Elements only the old version has."},
        "changed": {"type": "array", "description": "Elements in both whose aspects differ.", "items": _obj({
            **_ELEMENT["properties"],
            "changes": {"type": "array", "description": "Each differing aspect: name, type, incoming, outgoing, "
                        "condition, event (timer, message...), multiInstance, camunda:/spiffworkflow: attributes "
                        "and extension elements.", "items": _obj({
                            "aspect": _s("string", "What differs."), "old": _s("string", "Before.", nullable=True),
                            "new": _s("string", "After.", nullable=True)}, "One aspect.")}},
            "A changed element.")},
        "moved": {"type": "array", "items": {"type": "string"},
                  "description": "Ids of elements drawn differently (BPMN DI) and otherwise unchanged."},
        "layoutCompared": _s("boolean", "false when `layout=false` was asked."),
        "unchanged": _s("boolean", "Nothing but the drawing differs."),
    }, "What changed from one version to another, element by element."),
    "MigrationPlanGenerationDto": _obj(dict(_MIGRATION_IDS), "Which versions to plan a migration between.",
                                       ["sourceProcessDefinitionId", "targetProcessDefinitionId"]),
    "MigrationInstructionDto": _obj({
        "sourceActivityIds": {"type": "array", "items": {"type": "string"}, "description": "One source activity."},
        "targetActivityIds": {"type": "array", "items": {"type": "string"},
                              "description": "The same id: this engine maps an activity only to itself."},
        "updateEventTrigger": _s("boolean", "Accepted and ignored: waiting timers keep their due time."),
    }, "An activity instances may wait in while they move."),
    "MigrationPlanDto": _obj({
        **_MIGRATION_IDS,
        "instructions": {"type": "array", "items": _ref("MigrationInstructionDto"), "nullable": True,
                         "description": "The activities instances may wait in; null: any activity of the source."},
        "variables": _s("object", "Accepted and ignored; always null in a generated plan.", nullable=True),
    }, "A migration plan, as /migration/generate returns it.",
        ["sourceProcessDefinitionId", "targetProcessDefinitionId"]),
    "MigrationPlanReportDto": _obj({
        "instructionReports": {"type": "array", "description": "Instructions that cannot be followed.",
                               "items": _obj({"instruction": _ref("MigrationInstructionDto"),
                                              "failures": {"type": "array", "items": {"type": "string"},
                                                           "description": "Why."}}, "One instruction.")},
        "variableReports": {"type": "object", "description": "Always empty."},
    }, "Validation of a migration plan."),
    "MigrationExecutionDto": _obj({
        "migrationPlan": _ref("MigrationPlanDto"),
        "processInstanceIds": {"type": "array", "items": {"type": "string"}, "description": "Instances to move."},
        "processInstanceQuery": {"type": "object", "description": "The filters of POST /process-instance; the "
                                 "instances of the source it finds move (an empty object: all of them)."},
        "skipCustomListeners": _s("boolean", "Accepted and ignored."),
        "skipIoMappings": _s("boolean", "Accepted and ignored."),
    }, "What to move where.", ["migrationPlan"]),
    "MigrationDryRunDto": _obj({
        **_MIGRATION_IDS, "key": _s("string", "The process key."),
        "sourceVersion": _s("integer", "The source version."), "targetVersion": _s("integer", "The target version."),
        "counts": _obj({"instances": _s("integer", "Selected."), "migratable": _s("integer", "Can move."),
                        "blocked": _s("integer", "Cannot move.")}, "Counts."),
        "notes": {"type": "array", "items": {"type": "string"}, "description": "What moving does not change."},
        "instances": {"type": "array", "items": _ref("MigratingInstanceDto"),
                      "description": "Every selected instance."},
    }, "The dry run: which instances can move and why not."),
    "MigratingInstanceDto": _obj({
        "processInstanceId": _s("string", "The instance."),
        "businessKey": _s("string", "Its case number.", nullable=True),
        "state": _s("string", "RUNNING or SUSPENDED (ended ones are blocked)."),
        "processDefinitionId": _s("string", "Its own definition (a called process's migration leaves it)."),
        "migratable": _s("boolean", "Whether it can move."),
        "waiting": {"type": "array", "description": "Where it waits.", "items": _obj({
            "activityId": _s("string", "The element."), "name": _s("string", "Its name.", nullable=True),
            "kind": _s("string", "userTask, externalTask, timer, message, callActivity, subProcess, multiInstance, "
                                 "event or gateway."),
            "processDefinitionKey": _s("string", "The process holding the element (a called one inside a call "
                                                 "activity)."),
            "inTarget": _s("boolean", "The target has the element with the same type."),
            "changes": {"type": "array", "items": {"type": "string"},
                        "description": "Aspects that differ in the target."},
            "count": _s("integer", "Tokens there (multi-instance).")}, "A waiting element.")},
        "blockers": {"type": "array", "description": "Why it cannot move.", "items": _obj({
            "code": _s("string", "element-removed, type-changed, boundary-events-changed, history-removed, "
                                 "called-process-changed, no-instruction, not-of-source, state-not-rebuilt, ..."),
            "message": _s("string", "The reason, in English."),
            "elementId": _s("string", "The element concerned.", nullable=True)}, "A reason.")},
    }, "One instance in a migration dry run."),
}
_MIGRATION_ERRORS = {"400": "A field is missing, the versions belong to different keys or dialects, or an "
                            "instruction maps one activity to another (InvalidRequestException).",
                     "404": "No such process definition or instance."}
_MIGRATION_OPERATIONS: dict[str, Any] = {
    "/process-definition/key/{key}/versions": {"get": _op(
        "getProcessDefinitionVersions", "Process Definition", "Get versions",
        "Every version of the key, newest first, with who deployed it when and how many instances run on it "
        "(extension).", permission="read", parameters=[_path_param("key", "The process definition key.")],
        responses={"200": _ok("The versions.", _array("ProcessDefinitionVersionDto"))},
        errors={"404": "Nothing with this key is deployed."})},
    "/process-definition/{id}/diff/{otherId}": {"get": _op(
        "getProcessDefinitionDiff", "Process Definition", "Compare two versions",
        "What changed from `id` (old) to `otherId` (new), element by element by BPMN id, with the old and new "
        "value of each changed aspect; elements only drawn differently are listed in `moved` (extension).",
        permission="read", parameters=[_path_param("id", "The old version."),
                                       _path_param("otherId", "The new version."),
                                       _query("layout", "false: do not compare the diagram.", "boolean")],
        responses={"200": _ok("The differences.", _ref("DefinitionDiffDto"))},
        errors={"400": _BAD_PARAMS, "404": "No process definition with one of the ids."})},
    "/migration/generate": {"post": _op(
        "generateMigrationPlan", "Migration", "Generate a plan",
        "Instructions for every flow node both versions have with the same id and type (this engine migrates "
        "only between equal ids).", permission="deploy",
        body=_body("MigrationPlanGenerationDto", "The two versions."),
        responses={"200": _ok("The plan.", _ref("MigrationPlanDto"))}, errors=dict(_MIGRATION_ERRORS))},
    "/migration/validate": {"post": _op(
        "validateMigrationPlan", "Migration", "Validate a plan",
        "The instructions that cannot be followed, and why (an empty list: the plan is valid).",
        permission="deploy", body=_body("MigrationPlanDto", "The plan."),
        responses={"200": _ok("The report.", _ref("MigrationPlanReportDto"))}, errors=dict(_MIGRATION_ERRORS))},
    "/migration/execute": {"post": _op(
        "executeMigrationPlan", "Migration", "Execute a plan",
        "Moves the selected instances to the target version in one transaction, all or nothing: their state is "
        "rebuilt on the target, tokens stay where they are, claims, locks and timer due times are kept, and each "
        "instance gets an audit entry. If any selected instance cannot move, nothing moves and the 400 lists "
        "every blocked instance with its reasons (`instances`, as in the dry run).", permission="deploy",
        body=_body("MigrationExecutionDto", "The plan and the instances."), responses=dict(_NO_CONTENT),
        errors={**_MIGRATION_ERRORS, "409": None,
                "400": "Invalid plan or selection, or some instances cannot move "
                       "(MigratingProcessInstanceValidationException with `instances`); nothing was written."})},
    "/migration/dry-run": {"post": _op(
        "dryRunMigration", "Migration", "Dry run",
        "For every selected instance (default: every running instance of the source, including those running it "
        "as a called process): where it waits, whether each element exists in the target with the same type, "
        "and why it cannot move. Writes nothing (extension).", permission="deploy",
        body=_body("MigrationExecutionDto", "The plan; the instances are optional here."),
        responses={"200": _ok("The report.", _ref("MigrationDryRunDto"))}, errors=dict(_MIGRATION_ERRORS))},
}


_INDICATORS = {
    "received": _s("integer", "Cases received."), "completed": _s("integer", "Cases whose handling ended (办结)."),
    "decided": _s("integer", "Cases decided."), "onTimeRate": _s("number", "Ended within the deadline.", nullable=True),
    "instantShare": _s("number", "Share of instant items (即办件).", nullable=True),
    "onlineShare": _s("number", "Share received online (网办).", nullable=True),
    "averageWorkingDaysUsed": _s("number", "Working days from acceptance to decision.", nullable=True),
    "averagePromisedDays": _s("number", "Working days promised.", nullable=True),
    "ratings": _s("object", "Ratings by level (非常满意 … 非常不满意)."),
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "DashboardDto": _obj({
        "from": _s("string", "First day."), "to": _s("string", "Last day."),
        "department": _s("string", "The department, or null for all.", nullable=True),
        "total": _obj(dict(_INDICATORS), "The whole period."),
        "days": {"type": "array", "description": "Received and completed per day.", "items": _obj({
            "day": _s("string", "The day."), "received": _s("integer", "Received."),
            "completed": _s("integer", "Completed.")}, "One day.")},
        "departments": {"type": "array", "description": "Per department.", "items": _obj(
            {"department": _s("string", "Department code."), **_INDICATORS}, "One department.")},
        "items": {"type": "array", "description": "Per item.", "items": _obj(
            {"itemCode": _s("string", "Item code."), "department": _s("string", "Department code."), **_INDICATORS},
            "One item.")},
        "openCases": _s("object", "Open cases now by warning state: normal, yellow, red."),
    }, "The center's indicators over a period."),
    "ActivityStatisticsDto": _obj({
        "id": _s("string", "The element (activity) id."), "instances": _s("integer", "What waits there now."),
        "failedJobs": _s("integer", "Open incidents of failed timers."),
        "incidents": {"type": "array", "description": "Open incidents by type.", "items": _obj({
            "incidentType": _s("string", "failedExternalTask or failedJob."),
            "incidentCount": _s("integer", "How many.")}, "Incidents of one type.")}},
        "What waits at one element of a process definition."),
    "CaseInstancePageDto": _obj({
        "items": {"type": "array", "description": "The cases.", "items": _obj({
            "id": _s("string", "Process instance id."), "businessKey": _s("string", "Case number.", nullable=True),
            "itemCode": _s("string", "Item.", nullable=True), "itemName": _s("string", "Item name.", nullable=True),
            "department": _s("string", "Department.", nullable=True),
            "applicant": _s("string", "Applicant.", nullable=True), "status": _s("string", "Status."),
            "processDefinitionKey": _s("string", "Process."), "startTime": _s("string", "Received."),
            "endTime": _s("string", "Ended.", nullable=True),
            "warningState": _s("string", "normal, yellow or red.", nullable=True),
            "deadline": _s("string", "Promised deadline.", nullable=True),
            "openIncidents": _s("integer", "Open incidents."),
        }, "A case.")},
        "next": _s("string", "Cursor of the next page; null on the last.", nullable=True),
    }, "A page of cases."),
    "ReceiveCaseDto": _obj({
        "itemCode": _s("string", "The item's implementation code."),
        "channel": _s("string", "window (default) or online.", enum=["window", "online"]),
        "application": _obj({}, "The item's application form (see GET /form/{key})."),
        "materials": {"type": "array", "description": "Materials received: {code, fileName, sha256}.",
                      "items": _obj({"code": _s("string", "The material's code in the item's list.")}, "A material.")},
    }, "An application for one catalogue item.", required=["itemCode", "application"]),
    "CatalogueItemDto": _obj({
        "code": _s("string", "Implementation code."), "version": _s("integer", "Version of the item."),
        "name": _s("string", "Item name."), "department": _s("string", "Implementing department."),
        "itemType": _s("string", "行政许可 / 行政确认 / 其他行政权力 / 一件事."),
        "caseType": _s("string", "GB/T 39046-2020: 1 即办件, 2 承诺件, 9 其他."),
        "caseTypeName": _s("string", "The case type's name."),
        "legalLimitDays": _s("integer", "Legal limit in working days."),
        "promisedLimitDays": _s("integer", "Promised limit in working days."),
        "acceptedOnReceipt": _s("boolean", "收件即受理."), "writtenReviewOnly": _s("boolean", "Decided on written review."),
        "siteSurvey": _s("boolean", "May need a site survey."), "handling": _s("string", "standard, joint or escalated."),
        "processKey": _s("string", "The process that runs it."), "formKey": _s("string", "Its application form."),
        "status": _s("string", "active, suspended or cancelled."),
        "basicCode": _s("string", "Basic code (基本编码) of the national basic catalogue.", nullable=True),
        "effectiveFrom": _s("string", "First day it takes applications.", nullable=True, format="date"),
        "effectiveTo": _s("string", "Last day it takes applications.", nullable=True, format="date"),
        "details": _obj({}, "Materials, legal basis, fees, place, channels and the other catalogue fields "
                            "(engine/catalogue_fields.py; coded values as codes, engine/codesets.py)."),
    }, "One version of a catalogue item."),
    "JobDto": _obj({
        "id": _s("string", "The timer's id (for instance timers, the waiting event's task id)."),
        "dueDate": _date("When the timer is due.", nullable=False),
        "processInstanceId": _s("string", "The instance; null for a timer start event.", nullable=True),
        "processDefinitionId": _s("string", "The process definition."),
        "activityId": _s("string", "The BPMN timer event."),
        "eventKind": _s("string", "boundary, intermediate or start."),
        "timer": _s("string", "The timer's expression as modelled.", nullable=True),
        "retries": _s("integer", "Attempts left; 0 means an incident waits for an operator."),
        "exceptionMessage": _s("string", "Why the last firing failed.", nullable=True),
        "suspended": _s("boolean", "The instance is suspended; the timer waits."),
    }, "A due timer, shaped like Camunda's JobDto."),
    "RetriesDto": _obj({"retries": _s("integer", "New number of attempts.", minimum=0)}, "Retries.", ["retries"]),
    "SuspensionDto": _obj({
        "id": _s("integer", "The suspension's id."),
        "procedure": _s("string", "hearing, tendering, auction, inspection, testing, quarantine, appraisal, "
                                  "expert-review or site-survey."),
        "legalBasis": _s("string", "The legal basis recorded for the pause."),
        "requestedBy": _s("string", "Who stopped the clock."),
        "startedAt": _date("When the clock stopped.", nullable=False),
        "expectedDays": _s("integer", "Working days the applicant was told to expect."),
        "applicantNotice": _s("string", "The written notice to the applicant."),
        "endedAt": _date("When the clock resumed."),
        "endedBy": _s("string", "Who resumed it.", nullable=True),
        "result": _s("string", "What the procedure concluded.", nullable=True),
        "workingDays": _s("integer", "Working days the pause lasted (added to the deadlines).", nullable=True),
    }, "One pause of the case clock (挂起)."),
    "CaseClockDto": _obj({
        "processInstanceId": _s("string", "The case's process instance."),
        "businessKey": _s("string", "The case number.", nullable=True),
        "receivedAt": _date("Receipt (收件).", nullable=False),
        "acceptance": _s("string", "pending, supplement-requested or accepted."),
        "acceptedAt": _date("Acceptance (受理); the deadline counts from here."),
        "acceptanceDueAt": _date("Without a supplement notice by then the case counts as accepted on receipt."),
        "legalLimitDays": _s("integer", "Legal limit (法定时限) in working days.", nullable=True),
        "promisedLimitDays": _s("integer", "Promised limit (承诺时限) in working days.", nullable=True),
        "extensionDays": _s("integer", "Working days granted by the one extension."),
        "suspendedDays": _s("integer", "Working days of finished suspensions."),
        "suspended": _s("boolean", "The clock is stopped now."),
        "legalDeadline": _date("End of the legal limit."),
        "promisedDeadline": _date("End of the promised limit."),
        "estimated": _s("boolean", "A deadline reaches into a year whose arrangement is not loaded yet."),
        "warningState": _s("string", "normal, yellow or red (follows the promised deadline when there is one)."),
        "closedAt": _date("When the case ended."),
        "suspensions": {"type": "array", "items": _ref("SuspensionDto"), "description": "Every pause, oldest first."},
    }, "The statutory clock of one case."),
    "SupplementRequestDto": _obj({"missing": {"type": "array", "items": {"type": "string"},
                                              "description": "Every missing item, in one notice."}},
                                 "A supplement notice (补正).", ["missing"]),
    "SuspendDto": _obj({
        "procedure": _s("string", "The special procedure."), "legalBasis": _s("string", "Its legal basis."),
        "expectedDays": _s("integer", "Working days expected.", minimum=1),
        "applicantNotice": _s("string", "The written notice to the applicant."),
    }, "Stop the clock.", ["procedure", "legalBasis", "expectedDays", "applicantNotice"]),
    "ResumeDto": _obj({"result": _s("string", "What the procedure concluded.")}, "Resume the clock.", ["result"]),
    "ExtensionDto": _obj({"reason": _s("string", "Why more time is needed."),
                          "applicantNotice": _s("string", "The written notice to the applicant.")},
                         "The one extension.", ["reason", "applicantNotice"]),
    "SupervisionNoticeDto": _obj({
        "id": _s("integer", "The notice's id."), "processInstanceId": _s("string", "The case."),
        "businessKey": _s("string", "The case number.", nullable=True), "kind": _s("string", "yellow or red."),
        "createdAt": _date("When the case entered the state.", nullable=False),
        "payload": {"type": "object", "description": "Deadline and state details."},
        "deliveredAt": _date("When a worker passed it on."),
    }, "A supervision notice (督办提醒) from the outbox."),
    "CalendarDto": _obj({
        "officialYears": {"type": "array", "items": {"type": "integer"}, "description": "Years with official data."},
        "loadedYears": {"type": "array", "items": {"type": "object"}, "description": "Years loaded by an admin."},
        "rules": {"type": "array", "items": {"type": "object"}, "description": "Local rules."},
        "timezone": _s("string", "The center's time zone."),
    }, "The calendar's inputs."),
    "ArrangementDto": _obj({
        "year": _s("integer", "The year."),
        "holidays": {"type": "array", "items": {"type": "object"}, "description": "{name, from, to} ranges."},
        "workdays": {"type": "array", "items": {"type": "string"}, "description": "Make-up workdays (调休上班)."},
    }, "A year's official arrangement.", ["year", "holidays", "workdays"]),
    "CalendarRuleDto": _obj({"workday": _s("boolean", "true: a special working day; false: a closure."),
                             "note": _s("string", "Why.")}, "A local rule.", ["workday", "note"]),
    "DeadlineDto": _obj({"day": _s("string", "The last working day."), "at": _date("Its close.", nullable=False),
                         "estimated": _s("boolean", "Rests on an estimated year.")}, "A computed deadline."),
    **_MIGRATION_SCHEMAS,
}

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    **_MIGRATION_OPERATIONS,
    "/job": {"get": _op("getJobs", "Job", "Get list", "Due timers, earliest first.", permission="read",
                        parameters=_JOB_FILTERS + copy.deepcopy(PAGING),
                        responses={"200": _ok("The timers.", _array("JobDto"))}, errors={"400": _BAD_PARAMS})},
    "/job/count": {"get": _op("getJobsCount", "Job", "Get list count", "The number of matching timers.",
                              permission="read", parameters=copy.deepcopy(_JOB_FILTERS),
                              responses={"200": _ok("The count.", _ref("CountResultDto"))},
                              errors={"400": _BAD_PARAMS})},
    "/job/{id}/retries": {"put": _op(
        "setJobRetries", "Job", "Set retries", "Give a failed timer new attempts; its incident is resolved.",
        permission="operate", parameters=[_path_param("id", "The timer id.")], body=_body("RetriesDto", "Retries."),
        responses=_NO_CONTENT, errors={"400": "retries missing or negative.", "404": "No such timer."})},
    "/case-clock": {"get": _op("getCaseClocks", "Case Clock", "Get list",
                               "Open case clocks, earliest legal deadline first.", permission="read",
                               parameters=_CLOCK_FILTERS + copy.deepcopy(PAGING),
                               responses={"200": _ok("The clocks.", _array("CaseClockDto"))},
                               errors={"400": _BAD_PARAMS})},
    "/case-clock/count": {"get": _op("getCaseClocksCount", "Case Clock", "Get list count",
                                     "The number of matching clocks.", permission="read",
                                     parameters=copy.deepcopy(_CLOCK_FILTERS),
                                     responses={"200": _ok("The count.", _ref("CountResultDto"))},
                                     errors={"400": _BAD_PARAMS})},
    "/process-instance/{id}/case-clock": {"get": _op(
        "getCaseClock", "Case Clock", "Get", "A case's clock with every suspension.", permission="read",
        parameters=[_INSTANCE], responses={"200": _ok("The clock.", _ref("CaseClockDto"))},
        errors={"404": "No such instance, or it has no case clock."})},
    "/process-instance/{id}/case-clock/accept": {"post": _clock_command(
        "acceptCase", "Accept", "受理: the materials are complete; the deadline counts from now.")},
    "/process-instance/{id}/case-clock/supplement-request": {"post": _clock_command(
        "requestSupplement", "Request a supplement",
        "补正: one notice listing every missing item, within 5 working days of receipt (art. 32).",
        _body("SupplementRequestDto", "The missing items."))},
    "/process-instance/{id}/case-clock/supplement-complete": {"post": _clock_command(
        "completeSupplement", "Supplement complete", "The last correction arrived: today is the acceptance date.")},
    "/process-instance/{id}/case-clock/suspension": {"post": _clock_command(
        "suspendCaseClock", "Suspend",
        "Stop the clock for a special procedure (art. 45); a site survey only where the item allows it.",
        _body("SuspendDto", "The procedure, its basis and the notice to the applicant."))},
    "/process-instance/{id}/case-clock/resume": {"post": _clock_command(
        "resumeCaseClock", "Resume", "The procedure ended; its working days are added to the deadlines.",
        _body("ResumeDto", "The result."))},
    "/process-instance/{id}/case-clock/extension": {"post": _clock_command(
        "extendCaseClock", "Extend", "The one extension (art. 42): +10 working days, +15 on the 45-day track; "
        "only a section head, only before the deadline.", _body("ExtensionDto", "Reason and notice."),
        {"403": "The caller is not a section head."})},
    "/case": {"post": _op(
        "receiveCase", "Case", "Receive an application",
        "收件: validate the application against the item's form, take a case number (the business key) and "
        "start the item's process with the item version copied into the case. Window clerks and the portal only.",
        permission="receive", body=_body("ReceiveCaseDto", "Item, channel, application form and materials."),
        responses={"200": _ok("The started case.", _ref("ProcessInstanceDto"))},
        errors={"400": "Unknown item, an item taking no applications, or a form error (fieldErrors per field).",
                "404": "No such item."})},
    "/catalogue-item": {"get": _op(
        "getCatalogueItems", "Case", "Get catalogue items", "The current version of every item (事项清单).",
        permission="catalogue", parameters=[_query("department", "Only this department's items.")],
        responses={"200": _ok("The items.", _array("CatalogueItemDto"))}, errors={"400": _BAD_PARAMS})},
    "/catalogue-item/{code}": {"get": _op(
        "getCatalogueItem", "Case", "Get a catalogue item", "The item's current version.", permission="catalogue",
        parameters=[_path_param("code", "The implementation code.")],
        responses={"200": _ok("The item.", _ref("CatalogueItemDto"))}, errors={"404": "No such item."})},
    "/form/{key}": {"get": _op(
        "getForm", "Case", "Get a form", "The JSON Schema (draft 2020-12, zh-CN texts, x-layout hints) the "
        "server validates the form's submissions against.", permission="catalogue",
        parameters=[_path_param("key", "The form key (a user task's formKey, an item's form).")],
        responses={"200": _ok("The schema.", _obj({}, "A JSON Schema document."))}, errors={"404": "No such form."})},
    "/case-instance": {"get": _op(
        "getCaseInstances", "Case", "Supervise cases",
        "Cases newest first, one page, with the filters of the supervisors' console; a department's supervisors "
        "see their department only. Pass `next` back as `after` for the next page.", permission="supervise",
        parameters=_CASE_FILTERS + [_query("after", "The previous page's `next`."),
                                    _query("maxResults", "Page size (default 50, at most 1000).", "integer")],
        responses={"200": _ok("A page of cases.", _ref("CaseInstancePageDto"))}, errors={"400": _BAD_PARAMS})},
    "/case-instance/export.csv": {"get": _op(
        "exportCaseInstances", "Case", "Export cases as CSV",
        "The filtered list as CSV (UTF-8 with BOM), streamed.", permission="supervise",
        parameters=copy.deepcopy(_CASE_FILTERS),
        responses={"200": _ok("CSV.", None, content={"text/csv": {"schema": {"type": "string"}}})},
        errors={"400": _BAD_PARAMS})},
    "/supervision-notice": {"get": _op(
        "getSupervisionNotices", "Case Clock", "Get notices", "Yellow and red notices not yet delivered.",
        permission="read", parameters=[_query("includeDelivered", "Also delivered ones.", "boolean")]
        + copy.deepcopy(PAGING), responses={"200": _ok("The notices.", _array("SupervisionNoticeDto"))},
        errors={"400": _BAD_PARAMS})},
    "/supervision-notice/{id}/delivered": {"post": _op(
        "markNoticeDelivered", "Case Clock", "Mark delivered", "A worker passed the notice on (idempotent).",
        permission="work", parameters=[_path_param("id", "The notice id.")], responses=_NO_CONTENT,
        errors={"404": "No such notice."})},
    "/calendar": {"get": _op("getCalendar", "Calendar", "Get", "Official years, loaded years and local rules.",
                             permission="read", responses={"200": _ok("The calendar.", _ref("CalendarDto"))})},
    "/calendar/year/{year}": {"put": _op(
        "loadCalendarYear", "Calendar", "Load a year",
        "Load or replace a year's official arrangement; estimated deadlines are recomputed.", permission="calendar",
        parameters=[_path_param("year", "The year.")], body=_body("ArrangementDto", "The arrangement."),
        responses={"200": _ok("Counts of what was loaded.", {"type": "object"})},
        errors={"400": "The arrangement is invalid (the message names the field)."})},
    "/calendar/rule/{day}": {
        "put": _op("setCalendarRule", "Calendar", "Set a local rule",
                   "A closure or a special working day; open deadlines it moves are recomputed.",
                   permission="calendar", parameters=[_path_param("day", "YYYY-MM-DD.")],
                   body=_body("CalendarRuleDto", "The rule."), responses=_NO_CONTENT,
                   errors={"400": "Bad day, or workday/note missing."}),
        "delete": _op("deleteCalendarRule", "Calendar", "Delete a local rule", "Back to the official calendar.",
                      permission="calendar", parameters=[_path_param("day", "YYYY-MM-DD.")], responses=_NO_CONTENT,
                      errors={"400": "Bad day.", "404": "No rule for that day."}),
    },
    "/calendar/deadline": {"get": _op(
        "getDeadline", "Calendar", "Compute a deadline", "`from` plus `days` working days, as the engine counts.",
        permission="read", parameters=[_query("from", "A date or date-time."),
                                       _query("days", "Working days.", "integer")],
        responses={"200": _ok("The deadline.", _ref("DeadlineDto"))}, errors={"400": "Missing or bad parameters."})},
    "/process-definition/{id}/statistics": {"get": _op(
        "getActivityStatistics", "Process Definition", "Where cases wait",
        "Per element of this version: what waits there now (tasks, service tasks, timers, messages) and open "
        "incidents by type — the heat map of the supervisors' process view.", permission="read",
        parameters=[_path_param("id", "The process definition id.")],
        responses={"200": _ok("One entry per element with something waiting.", _array("ActivityStatisticsDto"))},
        errors={"404": "No process definition with this id."})},
    "/dashboard": {"get": _op(
        "getDashboard", "Case", "The center's indicators",
        "Cases received and completed per day, on-time rate, working days used against the promised limit, "
        "shares of instant items and of online applications and the 好差评 ratings, in total, per department and "
        "per item, and the open cases by warning state now. A department's supervisors get their department's.",
        permission="supervise", parameters=[
            _query("from", "First day (YYYY-MM-DD); by default 29 days before `to`."),
            _query("to", "Last day (YYYY-MM-DD); by default today."),
            _query("department", "One department only.")],
        responses={"200": _ok("The figures.", _ref("DashboardDto"))},
        errors={"400": "A date is not a date, or the period is reversed.",
                "403": "A department's supervisor asked for another department."})},
}
