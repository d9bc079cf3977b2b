"""The real server, driven by the unmodified Camunda external-task client from PyPI."""
from __future__ import annotations

from pathlib import Path

import requests
from camunda.external_task.external_task_worker import ExternalTaskWorker

CORPUS = Path(__file__).parent / "bpmn" / "camunda"


def test_camunda_python_client_works_unmodified(server):
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    with (CORPUS / "five_step.bpmn").open("rb") as fh:
        deployed = requests.post(f"{base}/deployment/create", headers=headers,
                                 files={"data": ("five_step.bpmn", fh)}, data={"deployment-name": "it"})
    assert deployed.status_code == 200, deployed.text
    started = requests.post(f"{base}/process-definition/key/five_step/start", headers=headers,
                            json={"businessKey": "IT-1", "variables": {"amount": {"value": 40, "type": "Integer"}}})
    assert started.status_code == 200, started.text
    instance_id = started.json()["id"]

    seen = {}

    def handle(task):
        seen["amount"] = task.get_variable("amount")
        seen["business_key"] = task.get_business_key()
        return task.complete({"score": 88})

    worker = ExternalTaskWorker(worker_id="it-worker", base_url=base, config={
        "auth_bearer": {"access_token": token}, "maxTasks": 1, "lockDuration": 10000,
        "asyncResponseTimeout": 2000, "retries": 3, "retryTimeout": 1000, "sleepSeconds": 0})
    worker.fetch_and_execute("score", handle)
    assert seen == {"amount": 40, "business_key": "IT-1"}

    tasks = requests.get(f"{base}/task", params={"processInstanceId": instance_id}, headers=headers).json()
    assert [t["taskDefinitionKey"] for t in tasks] == ["review"]
    variables = requests.get(f"{base}/process-instance/{instance_id}/variables", headers=headers).json()
    assert variables["score"]["value"] == 88


def test_client_failure_and_bpmn_error_paths(server):
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    with (CORPUS / "error_boundary.bpmn").open("rb") as fh:
        assert requests.post(f"{base}/deployment/create", headers=headers,
                             files={"data": ("error_boundary.bpmn", fh)}).status_code == 200
    for key in ("A", "B"):
        assert requests.post(f"{base}/process-definition/key/error_boundary/start", headers=headers,
                             json={"businessKey": key}).status_code == 200
    worker = ExternalTaskWorker(worker_id="it-worker", base_url=base, config={
        "auth_bearer": {"access_token": token}, "maxTasks": 1, "lockDuration": 10000,
        "asyncResponseTimeout": 1000, "retries": 1, "retryTimeout": 0, "sleepSeconds": 0})

    def fail_then_error(task):
        if task.get_business_key() == "A":
            return task.failure("registry unreachable", "timeout after 5s", max_retries=1, retry_timeout=0)
        return task.bpmn_error("NOT_FOUND", "no such licence")

    # A fails twice (the client counts its retries down from 1 to 0, raising an incident); then B
    for _ in range(3):
        worker.fetch_and_execute("fetch_license", fail_then_error)
    incidents = requests.get(f"{base}/incident", headers=headers).json()
    assert [i["incidentMessage"] for i in incidents] == ["registry unreachable"]
    tasks = requests.get(f"{base}/task", headers=headers).json()
    assert [t["taskDefinitionKey"] for t in tasks] == ["manual_entry"]
