"""Clerk pages in a real browser (fixtures in tests/browser.py): receiving at the window, review,
supplement, the representative's decision, the printed documents, another department's 403."""
from __future__ import annotations

import time

import pytest

from . import files
from .browser import SCREENSHOTS, complete_service_tasks, printed, run_workers, sign_in

pytestmark = pytest.mark.slow


def test_an_approval_clerk_reviews_a_case_and_a_missing_field_shows_the_chinese_error(site, browser):
    base, key = site
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 860})
    page.goto(f"{base}/sign-in")
    page.screenshot(path=str(SCREENSHOTS / "sign-in.png"))
    sign_in(page, base, "market_clerk")
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
    sign_in(page, base, "market_clerk")
    task_url = page.locator("tr", has_text=key).locator("a").first.get_attribute("href")
    other = browser.new_page(locale="zh-CN")
    sign_in(other, base, "culture_clerk")
    assert other.locator("tr", has_text=key).count() == 0
    assert other.goto(base + task_url).status == 404 and "此任务已不在待办" in other.content()
    assert other.goto(f"{base}/cases/{key}").status == 404 and "页面不存在" in other.content()


def test_the_window_receives_a_case_and_prints_the_receipt(site, browser, sessions, clock, worker_settings):
    from .paths import PERSON

    base, _ = site
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    sign_in(page, base, "window")
    page.click("text=综合窗口收件")
    page.fill("input[name=q]", "个体工商户")
    page.click("text=查询")
    page.click("text=个体工商户设立登记")
    for name, value in PERSON.items():
        if name != "applicantType":
            page.fill(f"[name={name}]", value)
    pdf = {"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": files.pdf("receipt test")}
    page.set_input_files("input[name='file:application-form']", files=[pdf])
    page.set_input_files("input[name='file:premises']", files=[{**pdf, "name": "场所证明.pdf"}])
    page.screenshot(path=str(SCREENSHOTS / "receive.png"), full_page=True)
    page.click("button:has-text('收件')")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("办件 QP-MARKET-")
    key = heading.split(" ", 1)[1]
    # the workers fetch shared data, check the materials and seal the receipt
    assert run_workers(sessions, clock, worker_settings) == ["shared-data", "materials-check", "acceptance-receipt"]
    printed(page, base, "受理凭证", key)  # the page reloads itself until the receipt is made
    page.wait_for_load_state()
    page.screenshot(path=str(SCREENSHOTS / "case-receipt.png"), full_page=True)


def test_the_approval_clerk_asks_for_a_supplement_listing_every_missing_item(site, browser, sessions, clock,
                                                                            worker_settings):
    base, key = site
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    sign_in(page, base, "market_clerk")
    page.locator("tr", has_text=key).locator("a", has_text="受理审查").click()
    page.select_option("select[name=acceptance]", "supplement")
    page.fill("textarea[name=opinion]", "材料不全，一次性告知补正")
    page.fill("textarea[name=missingItems]", "食品经营许可变更申请书（需法定代表人签字）\n食品经营许可证正副本原件")
    page.click("text=提交办理")
    assert "已办理：受理审查" in page.locator(".flash").inner_text()
    assert page.locator("tr", has_text=key).count() == 0  # the case waits for the applicant now
    assert run_workers(sessions, clock, worker_settings) == ["notify"]
    page.goto(f"{base}/cases/{key}")  # the clerk prints the notice they just issued
    printed(page, base, "补正材料告知书", key)


def test_the_chief_representative_approves_on_the_spot(site, browser, sessions, clock, worker_settings):
    base, key = site
    clerk = browser.new_page(locale="zh-CN")
    sign_in(clerk, base, "market_clerk")
    clerk.locator("tr", has_text=key).locator("a", has_text="受理审查").click()
    clerk.select_option("select[name=acceptance]", "accept")
    clerk.fill("textarea[name=opinion]", "材料齐全，予以受理")
    clerk.click("text=提交办理")
    chief = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    sign_in(chief, base, "market_chief")
    deadline = time.monotonic() + 10  # the receipt's service task runs first; without workers the case waits there
    while chief.locator("tr", has_text=key).count() == 0 and time.monotonic() < deadline:
        complete_service_tasks(base)
        chief.reload()
    chief.locator("tr", has_text=key).locator("a").first.click()
    chief.select_option("select[name=decision]", "grant")
    chief.fill("textarea[name=opinion]", "书面审查符合条件，当场准予")
    chief.check("input[name=sealConfirmed]")
    chief.screenshot(path=str(SCREENSHOTS / "chief-decision.png"), full_page=True)
    chief.click("text=提交办理")
    assert "已办理：首席事务代表决定并用印" in chief.locator(".flash").inner_text()
    assert run_workers(sessions, clock, worker_settings) == ["certificate", "result-notice"]
    chief.goto(f"{base}/cases/{key}")  # the written decision and the licence, sealed by the department
    printed(chief, base, "准予行政许可决定书", key)
    printed(chief, base, "食品经营许可证", key)
