"""Workers as separate processes against the real server: `onewindow worker` does the service tasks of a
case, and a worker killed after its side effect but before completing leaves no duplicate behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import pytest
import requests

from api.demo import seed
from engine import deploy, identity
from engine.settings import PROJECT_ROOT
from workers.ledger import Ledger

from .conftest import ROOT
from .paths import ENTERPRISE, FOOD_CHANGE

pytestmark = pytest.mark.slow


class HangingProxy:
    """Forwards to the engine, but holds every external-task completion forever: the worker that sent
    it is, for the engine, a worker that died before it could report back."""

    def __init__(self, upstream: str) -> None:
        self.completion_seen = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("/complete"):
                    proxy.completion_seen.set()
                    time.sleep(120)
                    return
                answer = requests.post(upstream + self.path.removeprefix("/engine-rest"), data=body,
                                       headers={k: v for k, v in self.headers.items() if k.lower() != "host"})
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/engine-rest"


def _worker(env: dict, log, *topics: str) -> subprocess.Popen:
    args = [arg for topic in topics for arg in ("--topic", topic)]
    return subprocess.Popen([sys.executable, "-m", "api.cli_main", "worker", *args], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def _wait_for(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("doomed_topic", ["certificate", "result-notice"])
def test_worker_killed_before_completing_is_redelivered_without_a_second_certificate_or_mail(
        server, sessions, smtp, worker_settings, tmp_path, doomed_topic):
    """The certificate task makes files, the result notice sends the applicant's mail: a worker killed
    after either effect but before the engine heard of it leaves exactly one of each behind."""
    base, robot = server
    box, port = smtp
    with sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
        session.flush()
        tokens = {u: identity.create_token(session, u, "test") for u in ("window", "market_clerk", "market_chief")}

    def call(method: str, path: str, user: str, **kw):
        response = requests.request(method, base + path, headers={"Authorization": f"Bearer {tokens[user]}"}, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def task(key: str, activity: str, user: str) -> dict | None:
        found = call("GET", "/task", user, params={"processInstanceBusinessKey": key, "taskDefinitionKey": activity})
        return found[0] if found else None

    env = {**os.environ, "ONEWINDOW_ENGINE_URL": base, "ONEWINDOW_WORKER_TOKEN": robot,
           "ONEWINDOW_WORKER_STORE_URL": worker_settings.worker_store_url,
           "ONEWINDOW_DOCUMENTS_DIR": str(worker_settings.documents_dir), "ONEWINDOW_SEAL_DIR": str(worker_settings.seal_dir),
           "ONEWINDOW_SMTP_PORT": str(port), "ONEWINDOW_SHARED_DATA_URL": worker_settings.shared_data_url,
           "ONEWINDOW_WORKER_LOCK_MS": "2000"}
    log_path = tmp_path / "workers.log"
    log = log_path.open("a")
    case = call("POST", "/case", "window", json={"itemCode": FOOD_CHANGE, "application": ENTERPRISE,
                                                 "materials": [{"code": "application-form"}]})
    key = case["businessKey"]
    first = _worker(env, log, *(t for t in ("shared-data", "materials-check", "acceptance-receipt", "certificate")
                                 if t != doomed_topic))  # everything up to the doomed task
    try:
        review = _wait_for(lambda: task(key, "Task_acceptance_review", "market_clerk"), "the acceptance review")
        call("POST", f"/task/{review['id']}/complete", "market_clerk",
             json={"variables": {"acceptance": {"value": "accept"}, "opinion": {"value": "齐全"}}})
        decision = _wait_for(lambda: task(key, "Task_chief_decision", "market_chief"), "the receipt and the decision task")
        call("POST", f"/task/{decision['id']}/complete", "market_chief", json={"variables": {
            "decision": {"value": "grant"}, "opinion": {"value": "准予"}, "sealConfirmed": {"value": True}}})
        if doomed_topic == "result-notice":  # the certificate task completed: the result notice waits
            _wait_for(lambda: "certificates" in call("GET", f"/process-instance/{case['id']}/variables", "window"),
                      "the completed certificate task")
    finally:
        first.terminate()
        first.wait(10)
    proxy = HangingProxy(base)
    doomed = _worker({**env, "ONEWINDOW_ENGINE_URL": proxy.url}, log, doomed_topic)
    try:
        assert proxy.completion_seen.wait(30), log_path.read_text()
        doomed.send_signal(signal.SIGKILL)  # the effect is done; the engine never heard
    finally:
        doomed.wait(10)
    made = sorted(worker_settings.documents_dir.rglob("证照-*.pdf"))
    assert len(made) == 1
    signed_first = made[0].read_bytes()
    rescuer = _worker(env, log, "certificate", "result-notice")
    try:
        _wait_for(lambda: task(key, "Task_delivery", "window"), "the redelivered task", timeout=40)
    finally:
        rescuer.terminate()
        rescuer.wait(10)
    certificate_mails = [m for m in box.to(ENTERPRISE["email"]) if "证照已制作" in m["Subject"]]
    assert len(certificate_mails) == 1
    assert sorted(worker_settings.documents_dir.rglob("证照-*.pdf")) == made
    assert made[0].read_bytes() == signed_first  # not re-signed: the same file the first worker made
    ledger = Ledger(worker_settings.worker_store_url)
    try:
        entries = ledger.entries(doomed_topic)
    finally:
        ledger.dispose()
    assert [(e["state"], e["attempts"]) for e in entries] == [("done", 1)]  # the effect ran once
    variables = call("GET", f"/process-instance/{case['id']}/variables", "window")
    assert json.loads(variables["certificates"]["value"])[0]["number"] == f"{key}-01"
    log.close()
    proxy.server.shutdown()
    assert "Traceback" not in log_path.read_text()
