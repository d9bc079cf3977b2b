"""The Camunda 7 REST subset: paths, JSON shapes, status codes, error bodies."""
from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from api import state
from engine.models import Deployment, ProcessInstance

from .conftest import PASSWORD


def deploy_five(api, dialect: str = "camunda") -> dict:
    response = api.deploy(f"{dialect}/five_step.bpmn")
    assert response.status_code == 200, response.json
    return response.json


def start_five(api, **body) -> dict:
    response = api.post("/process-definition/key/five_step/start", json=body or {"businessKey": "QP-1"},
                        user="clerk")
    assert response.status_code == 200, response.json
    return response.json


def fetch(api, topic: str = "score", worker: str = "w1", **extra) -> list:
    body = {"workerId": worker, "maxTasks": 5, "topics": [{"topicName": topic, "lockDuration": 10000}], **extra}
    response = api.post("/external-task/fetchAndLock", json=body, user="worker")
    assert response.status_code == 200, response.json
    return response.json


def test_deployment_and_definition_reads(api):
    body = deploy_five(api)
    assert body["name"] == "test" and body["deploymentTime"]
    [definition] = body["deployedProcessDefinitions"].values()
    assert definition["key"] == "five_step" and definition["version"] == 1
    again = api.deploy("camunda/five_step.bpmn")
    assert again.status_code == 200 and again.json["deployedProcessDefinitions"] is None
    listed = api.get("/process-definition?key=five_step").json
    assert [d["version"] for d in listed] == [1]
    xml = api.get("/process-definition/key/five_step/xml").json
    assert xml["id"] == definition["id"] and "five_step" in xml["bpmn20Xml"]
    assert api.get("/process-definition/count").json == {"count": 1}


def test_full_case_over_rest(api):
    deploy_five(api)
    instance = start_five(api, businessKey="QP-2", variables={"amount": {"value": 12, "type": "Integer"}},
                          withVariablesInReturn=True)
    assert instance["businessKey"] == "QP-2" and instance["ended"] is False
    assert instance["variables"]["amount"] == {"type": "Integer", "value": 12, "valueInfo": {}}
    [locked] = fetch(api)
    assert locked["topicName"] == "score" and locked["workerId"] == "w1"
    assert locked["variables"]["amount"]["value"] == 12 and locked["processInstanceId"] == instance["id"]
    done = api.post(f"/external-task/{locked['id']}/complete", user="worker",
                    json={"workerId": "w1", "variables": {"score": {"value": 0.75, "type": "Double"}}})
    assert done.status_code == 204
    [task] = api.get(f"/task?processInstanceId={instance['id']}").json
    assert task["taskDefinitionKey"] == "review" and task["formKey"] == "review"
    assert api.post(f"/task/{task['id']}/claim", json={"userId": "approver"}, user="approver").status_code == 204
    assert api.get("/task?assignee=approver").json[0]["id"] == task["id"]
    form = api.get(f"/task/{task['id']}/form-variables").json
    assert form["score"] == {"type": "Double", "value": 0.75, "valueInfo": {}}
    completed = api.post(f"/task/{task['id']}/complete", user="approver",
                         json={"variables": {"approved": {"value": True}}, "withVariablesInReturn": True})
    assert completed.status_code == 200 and completed.json["approved"]["value"] is True
    got = api.get(f"/process-instance/{instance['id']}").json
    assert got["ended"] is True
    assert api.get(f"/process-instance/{instance['id']}/variables/score").json["value"] == 0.75


def test_failure_retries_incident_and_retry(api, clock):
    from datetime import timedelta

    deploy_five(api)
    start_five(api)
    [locked] = fetch(api)
    failed = api.post(f"/external-task/{locked['id']}/failure", user="worker", json={
        "workerId": "w1", "errorMessage": "registry down", "retries": 1, "retryTimeout": 5000})
    assert failed.status_code == 204
    assert fetch(api) == []
    clock.advance(timedelta(seconds=6))
    [again] = fetch(api)
    assert again["retries"] == 1 and again["errorMessage"] == "registry down"
    api.post(f"/external-task/{again['id']}/failure", user="worker",
             json={"workerId": "w1", "errorMessage": "still down", "errorDetails": "trace", "retries": 0})
    [incident] = api.get("/incident").json
    assert incident["incidentType"] == "failedExternalTask" and incident["configuration"] == again["id"]
    assert incident["incidentMessage"] == "still down"
    clock.advance(timedelta(minutes=5))
    assert fetch(api) == []
    assert api.put(f"/external-task/{again['id']}/retries", json={"retries": 2}, user="supervisor").status_code == 204
    assert api.get("/incident").json == []
    assert len(fetch(api)) == 1


def test_lock_rules(api, clock):
    from datetime import timedelta

    deploy_five(api)
    start_five(api)
    [locked] = fetch(api)
    wrong = api.post(f"/external-task/{locked['id']}/complete", json={"workerId": "w2"}, user="worker")
    assert wrong.status_code == 400 and "locked by worker 'w1'" in wrong.json["message"]
    assert wrong.json["type"] == "BadUserRequestException"
    assert api.post(f"/external-task/{locked['id']}/extendLock", json={"workerId": "w1", "newDuration": 60000},
                    user="worker").status_code == 204
    clock.advance(timedelta(seconds=30))
    assert fetch(api, worker="w2") == []
    clock.advance(timedelta(seconds=31))
    [stolen] = fetch(api, worker="w2")
    assert stolen["id"] == locked["id"]
    late = api.post(f"/external-task/{locked['id']}/complete", json={"workerId": "w1"}, user="worker")
    assert late.status_code == 400


def test_bpmn_error_over_rest(api):
    assert api.deploy("camunda/error_boundary.bpmn").status_code == 200
    api.post("/process-definition/key/error_boundary/start", json={}, user="clerk")
    [locked] = fetch(api, topic="fetch_license")
    response = api.post(f"/external-task/{locked['id']}/bpmnError", user="worker",
                        json={"workerId": "w1", "errorCode": "NOT_FOUND", "errorMessage": "no record"})
    assert response.status_code == 204
    [task] = api.get("/task").json
    assert task["taskDefinitionKey"] == "manual_entry"


def test_message_and_results(api):
    assert api.deploy("camunda/message_catch.bpmn").status_code == 200
    started = api.post("/process-definition/key/message_catch/start", json={"businessKey": "M-1"}, user="clerk").json
    response = api.post("/message", user="worker", json={
        "messageName": "supplement_received", "businessKey": "M-1", "resultEnabled": True,
        "processVariables": {"note": {"value": "ok", "type": "String"}}})
    assert response.status_code == 200, response.json
    assert response.json[0]["resultType"] == "Execution"
    assert response.json[0]["execution"]["processInstanceId"] == started["id"]
    missing = api.post("/message", user="worker", json={"messageName": "supplement_received", "businessKey": "M-1"})
    assert missing.status_code == 400 and "Cannot correlate" in missing.json["message"]


def test_suspend_and_delete(api):
    deploy_five(api)
    instance = start_five(api)
    assert api.put(f"/process-instance/{instance['id']}/suspended", json={"suspended": True},
                   user="supervisor").status_code == 204
    assert api.get(f"/process-instance/{instance['id']}").json["suspended"] is True
    maybe = api.put(f"/process-instance/{instance['id']}/suspended", json={"suspended": "maybe"}, user="supervisor")
    assert maybe.status_code == 400 and "'suspended' must be true or false" in maybe.json["message"]
    assert fetch(api) == []
    assert api.put(f"/process-instance/{instance['id']}/suspended", json={"suspended": False},
                   user="supervisor").status_code == 204
    assert api.delete(f"/process-instance/{instance['id']}?deleteReason=withdrawn", user="supervisor").status_code == 204
    assert api.get("/process-instance").json == []
    assert api.get("/process-instance?completed=false&includeEnded=true").json[0]["state"] == "CANCELLED"


def test_camunda_client_quirks_are_accepted(api):
    """Untyped variables, nulls for optional fields and unknown fields, as real clients send them."""
    deploy_five(api)
    response = api.post("/process-definition/key/five_step/start", user="clerk", json={
        "businessKey": None, "variables": {"n": {"value": 3}, "s": {"value": "x", "type": None},
                                           "o": {"value": {"a": 1}}},
        "skipCustomListeners": None, "caseInstanceId": None})
    assert response.status_code == 200, response.json
    body = {"workerId": "w1", "maxTasks": 1, "usePriority": None, "sorting": [{"sortBy": "createTime"}],
            "includeExtensionProperties": True, "asyncResponseTimeout": None,
            "topics": [{"topicName": "score", "lockDuration": 1000, "variables": None, "deserializeValues": True,
                        "processVariables": {}, "localVariables": False}]}
    fetched = api.post("/external-task/fetchAndLock", json=body, user="worker")
    assert fetched.status_code == 200 and fetched.json[0]["variables"]["o"]["type"] == "Json"


BAD_REQUESTS = [
    ("post", "/process-definition/key/nope/start", {}, 404, "nope"),
    ("post", "/process-definition/key/five_step/start", {"variables": {"n": {"value": "abc", "type": "Integer"}}},
     400, "Cannot convert value 'abc' of variable 'n' to type 'Integer'"),
    ("post", "/process-definition/key/five_step/start", {"variables": {"n": {"value": 1, "type": "Potato"}}},
     400, "unsupported type 'Potato'"),
    ("post", "/process-definition/key/five_step/start", {"variables": ["x"]}, 400, "'variables' must be an object"),
    ("post", "/process-definition/key/five_step/start", {"businessKey": 7}, 400, "'businessKey' must be a string"),
    ("post", "/task/00000000-0000-0000-0000-000000000000/complete", {}, 404, "Cannot find task"),
    ("post", "/external-task/fetchAndLock", {"maxTasks": 1, "topics": []}, 400, "'workerId' is required"),
    ("post", "/external-task/fetchAndLock", {"workerId": "w", "topics": [{"topicName": "x"}]}, 400, "lockDuration"),
    ("post", "/external-task/fetchAndLock", {"workerId": "w", "maxTasks": "many", "topics": []}, 400, "'maxTasks'"),
    ("post", "/message", {}, 400, "'messageName' is required"),
    ("get", "/process-instance/nope", None, 404, "does not exist"),
    ("put", "/process-instance/nope/suspended", {"suspended": "maybe"}, 404, "does not exist"),  # access first
]


@pytest.mark.parametrize("method,url,body,status,message", BAD_REQUESTS)
def test_bad_input_gets_a_clear_error(api, app, method, url, body, status, message):
    deploy_five(api)
    before = _row_counts(app)
    kwargs = {"json": body} if body is not None else {}
    response = getattr(api, method)(url, user="admin", **kwargs)
    assert response.status_code == status, response.json
    assert set(response.json) >= {"type", "message"} and message in response.json["message"]
    assert _row_counts(app) == before


def _row_counts(app) -> tuple[int, int]:
    with state(app).sessions.begin() as session:
        return (session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)),
                session.scalar(sa.select(sa.func.count()).select_from(Deployment)))


def test_malformed_json_and_oversized_bodies(api, app):
    response = api.client.post("/engine-rest/message", data="{not json", content_type="application/json",
                               headers={"Authorization": f"Bearer {api.tokens['admin']}"})
    assert response.status_code == 400 and "not valid JSON" in response.json["message"]
    app.config["MAX_CONTENT_LENGTH"] = 1000
    big = api.post("/message", json={"messageName": "x" * 5000})
    assert big.status_code == 413 and "too large" in big.json["message"]


def test_invalid_bpmn_upload_is_400_with_problems(api, app):
    from io import BytesIO

    response = api.client.post(
        "/engine-rest/deployment/create", content_type="multipart/form-data",
        data={"deployment-name": "bad", "f": (BytesIO(b"<bpmn:definitions xmlns:bpmn='x'>"), "bad.bpmn")},
        headers={"Authorization": f"Bearer {api.tokens['designer']}"})
    assert response.status_code == 400 and response.json["type"] == "ParseException"
    assert response.json["problems"][0]["resource"] == "bad.bpmn"


@pytest.mark.parametrize("user,url,method,status", [
    (None, "/process-definition", "get", 401),
    ("outsider", "/process-definition", "get", 403),
    ("clerk", "/external-task/fetchAndLock", "post", 403),
    ("worker", "/process-instance/x/suspended", "put", 403),
    ("clerk", "/deployment/create", "post", 403),
])
def test_authentication_and_roles(api, user, url, method, status):
    kwargs = {"json": {}} if method in ("post", "put") else {}
    response = getattr(api, method)(url, user=user, **kwargs)
    assert response.status_code == status
    assert response.json["type"] in ("AuthenticationException", "AuthorizationException")


def test_basic_auth_and_wrong_password(api):
    good = base64.b64encode(f"designer:{PASSWORD}".encode()).decode()
    bad = base64.b64encode(b"designer:wrong").decode()
    assert api.client.get("/engine-rest/process-definition",
                          headers={"Authorization": f"Basic {good}"}).status_code == 200
    denied = api.client.get("/engine-rest/process-definition", headers={"Authorization": f"Basic {bad}"})
    assert denied.status_code == 401 and "WWW-Authenticate" in denied.headers


def test_openapi_document_lists_implemented_paths(api, app):
    from api.engine_rest.openapi import build_document

    document = api.get("/openapi.json", user=None).json
    assert document["openapi"].startswith("3.")
    assert document == build_document(app.url_map)  # raises on any undocumented route or stale path
    assert "/external-task/fetchAndLock" in document["paths"]
    assert document["paths"]["/engine"]["get"]["security"] == []


def test_openapi_check_catches_an_undocumented_route(app):
    from api.engine_rest.openapi import build_document

    app.add_url_rule("/engine-rest/not-documented", "undocumented", lambda: "")
    with pytest.raises(ValueError, match="not-documented"):
        build_document(app.url_map)
