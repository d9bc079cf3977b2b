"""Clerk pages in a real browser: Debian's headless chromium driven by Playwright, against the real server.

Screenshots of the main pages go to docs/screenshots/ (shown in README).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from api.demo import seed
from engine import cases, deploy, external, identity
from engine.models import User
from engine.settings import PROJECT_ROOT

from .conftest import ROOT, _free_port
from .paths import ENTERPRISE, FOOD_CHANGE

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "clerk-pass-1"


@pytest.fixture
def site(database_url: str, sessions, tmp_path: Path):
    """The real server (waitress, a separate process) on a seeded center, and one case at review."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the pages are the same on both databases; the browser runs once, on SQLite")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
        session.flush()
        for user in ("market_clerk", "culture_clerk"):
            session.get(User, user).password_hash = identity._HASHER.hash(PASSWORD)
        key = cases.start_case(session, FOOD_CHANGE, ENTERPRISE, channel="window", actor="window",
                               actor_groups=["window-clerk"], materials=[{"code": "application-form"}]).business_key
    with sessions.begin() as session:
        for topic in ("shared-data", "materials-check"):
            for locked in external.fetch_and_lock(session, "w", [external.TopicRequest(topic, 1000)]):
                external.complete(session, locked.row.id, "w", {})
    port = _free_port()
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": database_url, "ONEWINDOW_SECRET_KEY": "browser-test"}
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "api.cli_main", "serve", "--port", str(port)], cwd=ROOT,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/sign-in", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        try:
            yield base, key
        finally:
            server.terminate()
            server.wait(10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


def _sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_an_approval_clerk_reviews_a_case_and_a_missing_field_shows_the_chinese_error(site, browser):
    base, key = site
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page.goto(f"{base}/sign-in")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sign-in.png"))
    _sign_in(page, base, "market_clerk")
    assert page.locator("h1").inner_text() == "待办事项"
    row = page.locator("tr", has_text=key)
    assert "食品经营许可（变更许可事项）" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "inbox.png"))
    row.locator("a", has_text="受理审查").click()
    page.select_option("select[name=acceptance]", "refuse")
    page.fill("textarea[name=opinion]", "申请事项依法不需要许可")
    page.click("text=提交办理")
    assert page.locator("#refusalReasons-error").inner_text() == "「不予受理理由」为必填项"
    assert page.locator("textarea[name=opinion]").input_value() == "申请事项依法不需要许可"  # typed data kept
    assert page.locator("select[name=acceptance]").input_value() == "refuse"
    page.screenshot(path=str(SCREENSHOTS / "task-form-error.png"), full_page=True)
    page.select_option("select[name=acceptance]", "accept")
    page.click("text=提交办理")
    assert "已办理：受理审查" in page.locator(".flash").inner_text()
    assert page.locator("tr", has_text=key).count() == 0


def test_a_clerk_of_another_department_cannot_open_the_case(site, browser):
    base, key = site
    page = browser.new_page(locale="zh-CN")
    _sign_in(page, base, "market_clerk")
    task_url = page.locator("tr", has_text=key).locator("a").first.get_attribute("href")
    other = browser.new_page(locale="zh-CN")
    _sign_in(other, base, "culture_clerk")
    assert other.locator("tr", has_text=key).count() == 0
    response = other.goto(base + task_url)
    assert response.status == 403
