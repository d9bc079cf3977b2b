"""The supervisors' console in headless Chromium: the diagram marks the waiting task, a retried
incident moves the case on, cancelling needs a reason and the reason shows in the history.
Screenshots go where `make screenshots` says (docs/screenshots, shown in README)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import external
from engine.models import ProcessInstance

from .browser import SCREENSHOTS, complete_service_tasks, sign_in

pytestmark = pytest.mark.slow


def _instance_id(sessions, key: str) -> str:
    with sessions.begin() as session:
        return session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.business_key == key))


def test_the_diagram_marks_the_waiting_task_and_cancelling_needs_a_reason(site, browser, sessions):
    base, key = site
    page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 1000})
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/console/cases?key={key}")
    page.click(f"text={key}")
    page.wait_for_selector(".diagram[data-rendered=true]")
    waiting = page.locator('.djs-element.ow-active[data-element-id="Task_acceptance_review"]')
    assert waiting.count() == 1  # the review waits: drawn blue
    assert page.locator('.djs-element.ow-completed[data-element-id="Task_materials_check"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / "console-instance.png"), full_page=True)
    page.click("button.danger")  # no reason: the browser does not send the form
    with sessions.begin() as session:
        assert session.scalar(sa.select(ProcessInstance.status).where(ProcessInstance.business_key == key)) == "running"
    page.fill("#reason-cancel", "申请人书面撤回申请")
    page.click("button.danger")
    assert "办件已撤销" in page.locator(".flash").inner_text()
    assert "申请人书面撤回申请" in page.locator("#timeline").inner_text()


def test_retrying_an_incident_from_the_page_moves_the_case_on(site, browser, sessions):
    base, key = site
    instance = _instance_id(sessions, key)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 1000})
    sign_in(page, base, "supervisor")
    clerk = browser.new_page(locale="zh-CN")  # the clerk accepts; the receipt's worker then fails for good
    sign_in(clerk, base, "market_clerk")
    clerk.locator("tr", has_text=key).locator("a", has_text="受理审查").click()
    clerk.select_option("select[name=acceptance]", "accept")
    clerk.fill("textarea[name=opinion]", "材料齐全")
    clerk.click("text=提交办理")
    with sessions.begin() as session:
        [locked] = external.fetch_and_lock(session, "w", [external.TopicRequest("acceptance-receipt", 1000)])
        external.failure(session, locked.row.id, "w", error_message="电子印章服务不可用", error_details=None,
                         retries=0, retry_timeout_ms=0)
    page.goto(f"{base}/console/instances/{instance}")
    page.wait_for_selector(".diagram[data-rendered=true]")
    assert page.locator('.djs-element.ow-incident[data-element-id="Task_receipt"]').count() == 1
    assert "电子印章服务不可用" in page.locator("#incidents").inner_text()
    page.click("text=重试")
    assert "出错环节将重新执行" in page.locator(".flash").inner_text()
    complete_service_tasks(base)  # the worker does the receipt now
    page.reload()
    page.wait_for_selector(".diagram[data-rendered=true]")
    assert page.locator('.djs-element.ow-active[data-element-id="Task_chief_decision"]').count() == 1


def test_the_dashboard_draws_its_charts_and_the_process_view_its_heat_map(site, browser, sessions):
    from engine.synthetic import seed_cases

    base, _ = site
    for _ in seed_cases(sessions, 600, days=28):  # a month of history for the charts to show
        pass
    page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 1000})
    sign_in(page, base, "supervisor")
    page.click("text=数据看板")
    page.wait_for_selector("body[data-charts='5']")
    assert page.locator(".chart[data-rendered=true] svg").count() == 5  # five ECharts drawings
    assert page.locator("#kpi-received").inner_text() == "601"  # the month's cases and the one received today
    assert page.locator("#table-departments tbody tr").count() == 5
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    page.click("nav >> text=流程")
    page.click("text=综合窗口收件受理")
    page.wait_for_selector(".diagram[data-rendered=true]")
    assert page.locator('.djs-element.ow-heat-5[data-element-id="Task_acceptance_review"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / "process-heat-map.png"), full_page=True)
