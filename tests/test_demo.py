"""`make demo` as a new user meets it: one process serving the app, with the scheduler, the workers and
the stand-ins, on a fresh SQLite database — the window clerk signs in through the page in a browser,
receives a case through the receive page and gets the sealed receipt (on the page and by mail)."""
from __future__ import annotations

import email
import os
import subprocess
import sys
import time
from email import policy

from urllib.parse import urlsplit

import pytest
import requests

from api.demo import DEMO_PASSWORD

from .conftest import ROOT, _free_port, serving
from .paths import PERSON

pytestmark = pytest.mark.slow


def test_a_newcomer_signs_in_through_the_page_receives_a_case_and_gets_the_receipt(tmp_path, seal_dir, browser):
    """`onewindow demo` as `make demo` starts it (no secret key configured, so the demo settles its own), and
    the window clerk in a browser: the sign-in page with its stylesheet, the inbox, a case received through the
    receive page, and the receipt the in-process workers seal, on the case page and in the applicant's mail."""
    from .browser import pdf_file

    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEWINDOW_") and k != "DATABASE_URL"}
    env.update({"ONEWINDOW_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
                "ONEWINDOW_SMTP_PORT": str(_free_port()), "ONEWINDOW_SHARED_DATA_URL": f"http://127.0.0.1:{_free_port()}",
                "ONEWINDOW_UPLOADS_DIR": str(tmp_path / "uploads"), "ONEWINDOW_DOCUMENTS_DIR": str(tmp_path / "documents"),
                "ONEWINDOW_SEAL_DIR": str(seal_dir), "ONEWINDOW_WORKER_STORE_URL": f"sqlite:///{tmp_path / 'worker-store.db'}"})
    with serving(["demo"], env, tmp_path / "demo.log") as (site, demo):
        page = browser.new_page(locale="zh-CN")
        stylesheets = []
        page.on("response", lambda r: stylesheets.append(r.status) if r.url.endswith(".css") else None)
        first = page.goto(f"{site}/")
        assert first.status == 200 and page.url.startswith(f"{site}/sign-in") and stylesheets and \
            set(stylesheets) == {200}
        page.fill("input[name=username]", "window")
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        assert urlsplit(page.url).path == "/inbox" and "综合窗口 王芳" in page.content()
        page.click("text=综合窗口收件")
        page.click("text=个体工商户设立登记")
        for name, value in PERSON.items():
            if name != "applicantType":
                page.fill(f"[name={name}]", value)
        page.set_input_files("input[name='file:application-form']", files=[pdf_file("申请书.pdf")])
        page.set_input_files("input[name='file:premises']", files=[pdf_file("场所证明.pdf")])
        page.click("button:has-text('收件')")
        heading = page.locator("h1").inner_text()
        assert heading.startswith("办件 QP-MARKET-"), page.content()
        key = heading.split(" ", 1)[1]
        receipt = page.wait_for_selector("a:has-text('受理凭证')", timeout=60_000)  # the page reloads itself
        signed = page.request.get(site + receipt.get_attribute("href"))
        assert signed.status == 200 and signed.headers["content-type"] == "application/pdf"
        assert signed.body().startswith(b"%PDF") and b"/ByteRange" in signed.body()  # sealed: a PDF signature
        mail = _until(lambda: sorted((tmp_path / "mailbox").glob("*.eml")), "the receipt mail", demo, tmp_path)
        mailed = email.message_from_bytes(mail[0].read_bytes(), policy=policy.default)
        assert mailed["Subject"] == f"【青浦政务服务】受理凭证 {key}" and mailed["To"] == PERSON["email"]
        decision = requests.get(f"{site}/engine-rest/task", params={"processInstanceBusinessKey": key},
                                auth=("market_chief", DEMO_PASSWORD), timeout=10).json()
        assert [t["taskDefinitionKey"] for t in decision] == ["Task_chief_decision"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0  # the demo's own key, kept beside its data
    log = (tmp_path / "demo.log").read_text()
    assert "Traceback" not in log and " 503" not in log, log


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
