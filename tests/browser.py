"""What the browser tests share: Debian's headless chromium driven by Playwright against the real
server (a separate waitress process) on a seeded center with one case at review, the real worker
handlers run on demand, and where screenshots go (`make screenshots`: docs/screenshots).

Registered as a plugin in conftest, so its fixtures (``site``, ``browser``) serve every browser test.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from api.demo import seed
from engine import cases, deploy, external, identity
from engine.models import User
from engine.settings import PROJECT_ROOT

from .conftest import serving
from .paths import ENTERPRISE, FOOD_CHANGE

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
#: `make screenshots` sets this to docs/screenshots (shown in README); a plain test run keeps them in /tmp
SCREENSHOTS = Path(os.environ.get("ONEWINDOW_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "onewindow-screenshots")
PASSWORD = "clerk-pass-1"


@pytest.fixture
def site(database_url: str, sessions, clock, worker_settings, tmp_path: Path):
    """The real server (waitress, a separate process) on a seeded center, and one case at review."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the pages are the same on both databases; the browser runs once, on SQLite")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    clock.set(datetime.now(timezone.utc))  # the server runs on the wall clock; the case must be received on it too
    with sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
        session.flush()
        for user in ("market_clerk", "culture_clerk", "window", "market_chief", "supervisor"):
            session.get(User, user).password_hash = identity._HASHER.hash(PASSWORD)
        SITE_TOKEN["worker"] = identity.create_token(session, "worker", "browser test")
        key = cases.start_case(session, FOOD_CHANGE, ENTERPRISE, channel="window", actor="window",
                               actor_groups=["window-clerk"], materials=[{"code": "application-form"}]).business_key
    with sessions.begin() as session:
        for topic in ("shared-data", "materials-check"):
            for locked in external.fetch_and_lock(session, "w", [external.TopicRequest(topic, 1000)]):
                external.complete(session, locked.row.id, "w", {})
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": database_url, "ONEWINDOW_SECRET_KEY": "browser-test",
           "ONEWINDOW_DOCUMENTS_DIR": str(worker_settings.documents_dir)}
    with serving(["serve"], env, tmp_path / "server.log") as (base, _):
        yield base, key


@pytest.fixture
def browser():
    """Chromium, watching every page a test opens: anything the Content Security Policy refused, and any script
    error, fails the test when it ends (the pages must work under the headers they are served with)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        watched = WatchedBrowser(launched)
        yield watched
        launched.close()
        assert watched.problems == [], "the pages did not run cleanly under their Content Security Policy"


#: each refusal also reaches the console as a line of our own, whatever Chromium itself logs
_REPORT_VIOLATIONS = """document.addEventListener('securitypolicyviolation', function (e) {
  var line = 'CSP violation: ' + e.effectiveDirective + ' refused ' + (e.blockedURI || 'inline') +
             ' in ' + e.sourceFile + ':' + e.lineNumber;
  (window.cspViolations = window.cspViolations || []).push(line);
  console.error(line);
});"""


class WatchedBrowser:
    """The Playwright browser, with ``new_page`` noting CSP refusals and script errors in ``problems``."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self.problems: list[str] = []

    def new_page(self, **kwargs):
        page = self._browser.new_page(**kwargs)
        page.add_init_script(_REPORT_VIOLATIONS)
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: script error: {error}"))
        return page

    def _console(self, page, message) -> None:
        text = message.text
        if "Refused to" in text or "CSP violation" in text or "Content Security Policy" in text:
            self.problems.append(f"{page.url}: {text}")

    def __getattr__(self, name: str):
        return getattr(self._browser, name)


def run_workers(sessions, clock, worker_settings) -> list[str]:
    """The real worker handlers do what waits (documents signed with the seal, mail), on a thread of their
    own: pyHanko runs an asyncio loop and Playwright's sync API already has one on this thread."""
    from concurrent.futures import ThreadPoolExecutor

    from .paths import make_center

    center = make_center(sessions, clock, worker_settings, seeded=True)
    try:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(center.work).result()
    finally:
        center.context.ledger.dispose()


def printed(page, base: str, title: str, key: str) -> None:
    """The case page links the document; what the print dialog gets is the signed PDF."""
    link = page.wait_for_selector(f"a:has-text('{title}')", timeout=10_000)
    href = link.get_attribute("href")
    assert href.endswith(".pdf") and f"/cases/{key}/documents/" in href and link.get_attribute("target") == "_blank"
    response = page.request.get(base + href)
    assert response.headers["content-type"] == "application/pdf" and response.body().startswith(b"%PDF")
    assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def complete_service_tasks(base: str) -> None:
    """Stand in for the workers over the REST API: complete whatever service task waits, with no result."""
    token = SITE_TOKEN["worker"]
    headers = {"Authorization": f"Bearer {token}"}
    locked = requests.post(f"{base}/engine-rest/external-task/fetchAndLock", headers=headers, json={
        "workerId": "browser-test", "maxTasks": 10,
        "topics": [{"topicName": t, "lockDuration": 10000} for t in ("acceptance-receipt", "shared-data", "materials-check")]}).json()
    for task in locked:
        requests.post(f"{base}/engine-rest/external-task/{task['id']}/complete", headers=headers,
                      json={"workerId": "browser-test", "variables": {}})


SITE_TOKEN: dict[str, str] = {}


def pdf_file(name: str, text: str = "申请材料") -> dict:
    """A real one-page PDF, as a scanner makes it, for a material upload field."""
    import io

    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    drawing.drawString(72, 720, text.encode("ascii", "replace").decode())
    drawing.save()
    return {"name": name, "mimeType": "application/pdf", "buffer": buffer.getvalue()}


def sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
