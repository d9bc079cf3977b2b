"""The real server, driven by the unmodified Camunda external-task client from PyPI."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from camunda.external_task.external_task_worker import ExternalTaskWorker

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).parent / "bpmn" / "camunda"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _onewindow(env: dict, *args: str, input_text: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "api.cli_main", *args], cwd=ROOT, env=env, input=input_text,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def server(database_url: str, tmp_path: Path):
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": database_url, "ONEWINDOW_SECRET_KEY": "integration"}
    _onewindow(env, "db", "upgrade")
    _onewindow(env, "user", "create", "robot", "--password", "robot-pass-1", "--group", "worker",
               "--group", "designer", "--group", "window-clerk", "--group", "approval-clerk")
    token = _onewindow(env, "token", "create", "robot", "--name", "integration").splitlines()[-1]
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "-m", "api.cli_main", "serve", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}/engine-rest"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/engine", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        process.kill()
        log.close()
        pytest.fail(f"server did not start: {(tmp_path / 'server.log').read_text()}")
    yield base, token
    process.terminate()
    process.wait(timeout=10)
    log.close()


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
