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


class RecordingClient(EngineClient):
    """An engine that refuses every completion with a 400, as it does when a step breaks a rule."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9/engine-rest", "token")
        self.failures: list[tuple] = []

    def complete(self, task_id, worker_id, variables):
        from workers.client import EngineRequestError

        raise EngineRequestError("/external-task/t1/complete: 400 The earlier supplement notice did not list X", 400)

    def failure(self, task_id, worker_id, message, details, retries, retry_timeout_ms):
        self.failures.append((task_id, message, retries, retry_timeout_ms))


def test_a_refused_completion_is_reported_as_a_failure_so_it_ends_in_an_incident_not_a_loop():
    from workers.runtime import ExternalTask as Task

    client = RecordingClient()
    worker = Worker(client, {"notify": lambda task: {"sent": True}}, worker_id="w", retry=RetryPolicy(3, 1.0))
    task = Task("t1", "notify", "Task_supplement_notice", "p1", "QP-1", {}, retries=None, worker_id="w")
    assert worker.work(task) == "failed"
    (task_id, message, retries, timeout), = client.failures
    assert task_id == "t1" and "did not list X" in message and retries == 2 and timeout == 1000


def test_a_worker_with_several_threads_works_on_fetched_tasks_at_once(server):
    """`onewindow worker --threads N`: one fetch hands out several tasks, done side by side."""
    import threading

    base, token = server
    headers = {"Authorization": f"Bearer {token}"}
    started = [_deploy_and_start(base, headers, "five_step", {"amount": n}) for n in range(8)]
    threads, running, most = set(), [0], [0]
    lock = threading.Lock()

    def slow_score(task):
        with lock:
            threads.add(threading.current_thread().name)
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return {"score": task.get("amount")}
    worker = Worker(EngineClient(base, token), {"score": slow_score}, "w-threads", threads=4)
    assert worker.run_once() == 8
    assert len(threads) == 4 and most[0] == 4
    assert all(_tasks(base, headers, i) == ["review"] for i in started)
