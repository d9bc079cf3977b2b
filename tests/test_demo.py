"""`make demo` as a new user meets it: one process serving the app, with the scheduler, the workers and
the stand-ins, on a fresh SQLite database — a case received at the window gets its receipt by mail."""
from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from email import policy

import pytest
import requests

from .conftest import ROOT, _free_port, serving
from .paths import PERSON, SOLE_TRADER

pytestmark = pytest.mark.slow


def test_demo_serves_receives_a_case_and_the_in_process_workers_issue_the_receipt(tmp_path, seal_dir):
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
           "ONEWINDOW_SMTP_PORT": str(_free_port()), "ONEWINDOW_SHARED_DATA_URL": f"http://127.0.0.1:{_free_port()}",
           "ONEWINDOW_DOCUMENTS_DIR": str(tmp_path / "documents"), "ONEWINDOW_SEAL_DIR": str(seal_dir),
           "ONEWINDOW_WORKER_STORE_URL": f"sqlite:///{tmp_path / 'worker-store.db'}"}
    with serving(["demo"], env, tmp_path / "demo.log") as (site, demo):
        base = f"{site}/engine-rest"
        application = {**PERSON, "materials": [{"code": "application-form"}, {"code": "premises"}]}
        case = requests.post(f"{base}/case", json={"itemCode": SOLE_TRADER, "application": application},
                             auth=("window", "demo12345"), timeout=10)
        assert case.status_code == 200, case.text
        key = case.json()["businessKey"]
        decision = _until(lambda: requests.get(f"{base}/task", params={"processInstanceBusinessKey": key},
                                               auth=("market_chief", "demo12345"), timeout=10).json(),
                          "the instant item's decision task", demo, tmp_path)
        assert decision[0]["taskDefinitionKey"] == "Task_chief_decision"
        mail = _until(lambda: sorted((tmp_path / "mailbox").glob("*.eml")), "the receipt mail", demo, tmp_path)
        receipt = email.message_from_bytes(mail[0].read_bytes(), policy=policy.default)
        assert receipt["Subject"] == f"【青浦政务服务】受理凭证 {key}" and receipt["To"] == PERSON["email"]
        assert sorted((tmp_path / "documents" / key).glob("*.pdf"))
    assert "Traceback" not in (tmp_path / "demo.log").read_text(), (tmp_path / "demo.log").read_text()


def _until(probe, what: str, process: subprocess.Popen, tmp_path, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        assert process.poll() is None, (tmp_path / "demo.log").read_text()
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: {(tmp_path / 'demo.log').read_text()}")


@pytest.mark.parametrize("args, env, message", [
    (["--topic", "no-such-topic"], {"ONEWINDOW_WORKER_TOKEN": "x"}, "no worker for topic(s) no-such-topic; known topics: "),
    ([], {"ONEWINDOW_WORKER_TOKEN": ""}, "ONEWINDOW_WORKER_TOKEN is not set"),
])
def test_worker_command_says_what_is_wrong(args, env, message, tmp_path):
    result = subprocess.run([sys.executable, "-m", "api.cli_main", "worker", *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, **env,
                                                        "ONEWINDOW_WORKER_STORE_URL": f"sqlite:///{tmp_path}/l.db"})
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
