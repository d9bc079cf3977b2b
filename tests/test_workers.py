"""The worker runtime against the real server: complete, BPMN error, failure with retries and back-off."""
from __future__ import annotations

import time
from pathlib import Path

import requests

from workers.client import EngineClient
from workers.runtime import BpmnError, RetryPolicy, Worker

CORPUS = Path(__file__).parent / "bpmn" / "camunda"


def _deploy_and_start(base: str, headers: dict, model: str, variables: dict) -> str:
    with (CORPUS / f"{model}.bpmn").open("rb") as fh:
        assert requests.post(f"{base}/deployment/create", headers=headers, files={"data": (f"{model}.bpmn", fh)},
                             data={"deployment-name": "workers"}).status_code == 200
    started = requests.post(f"{base}/process-definition/key/{model}/start", headers=headers,
                            json={"businessKey": "W-1", "variables": {k: {"value": v} for k, v in variables.items()}})
    assert started.status_code == 200, started.text
    return started.json()["id"]


def _tasks(base: str, headers: dict, instance_id: str) -> list[str]:
    return [t["taskDefinitionKey"] for t in
            requests.get(f"{base}/task", headers=headers, params={"processInstanceId": instance_id}).json()]


def test_worker_completes_raises_bpmn_errors_and_retries_failures(server):
    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    client = EngineClient(base, token)

    scored = _deploy_and_start(base, headers, "five_step", {"amount": 40})
    seen = {}

    def score(task):
        seen.update(amount=task.get("amount"), business_key=task.business_key)
        return {"score": 91}
    assert Worker(client, {"score": score}, "w-score", threads=1).run_once() == 1
    assert seen == {"amount": 40, "business_key": "W-1"}
    assert _tasks(base, headers, scored) == ["review"]

    licensed = _deploy_and_start(base, headers, "error_boundary", {})

    def not_found(task):
        raise BpmnError("NOT_FOUND", "电子证照库无此证照")
    assert Worker(client, {"fetch_license": not_found}, "w-license", threads=1).run_once() == 1
    assert _tasks(base, headers, licensed) == ["manual_entry"]

    failing = _deploy_and_start(base, headers, "error_boundary", {})
    attempts = []

    def broken(task):
        attempts.append(task.retries)
        raise ConnectionError("共享数据接口超时")
    worker = Worker(client, {"fetch_license": broken}, "w-broken", threads=1,
                    retry=RetryPolicy(attempts=3, first_delay=0.2, max_delay=1.0))
    assert worker.run_once() == 1
    assert worker.run_once() == 0, "back-off: the task is not handed out again at once"
    deadline = time.monotonic() + 10
    while len(attempts) < 3 and time.monotonic() < deadline:
        worker.run_once()
        time.sleep(0.05)
    assert attempts == [None, 2, 1]
    [incident] = requests.get(f"{base}/incident", headers=headers, params={"processInstanceId": failing}).json()
    assert incident["incidentType"] == "failedExternalTask"
    assert incident["incidentMessage"] == "ConnectionError: 共享数据接口超时"
