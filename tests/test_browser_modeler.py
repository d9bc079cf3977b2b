"""The web modeler in headless Chromium: a designer opens a deployed process, inserts a user task on a flow
from the palette, saves and sees the lint findings on it, fixes them in the properties panel, deploys with one
click, and a new case starts on the new version and reaches the inserted task."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import deploy, identity, runtime, tasks
from engine.models import ProcessDefinition, User, UserTask

from .browser import PASSWORD, SCREENSHOTS, sign_in
from .conftest import BPMN_DIR

pytestmark = pytest.mark.slow
CONSULTATION = BPMN_DIR / "design" / "consultation.bpmn"


def _designer(sessions) -> None:
    with sessions.begin() as session:
        deploy.deploy(session, [(CONSULTATION.name, CONSULTATION.read_bytes())], actor="test")
        session.get(User, "designer").password_hash = identity._HASHER.hash(PASSWORD)


def _page_point(page, x: float, y: float) -> tuple[float, float]:
    """Where a point of the diagram is on the page (the canvas is zoomed to fit)."""
    return page.evaluate("""([x, y]) => {
        const canvas = window.onewindowModeler.get('canvas');
        const box = canvas.viewbox();
        const rect = document.getElementById('canvas').getBoundingClientRect();
        return [rect.left + (x - box.x) * box.scale, rect.top + (y - box.y) * box.scale];
    }""", [x, y])


def _insert_task_on_flow(page) -> str:
    """Drag a task from the palette onto the flow into the end event, then make it a user task."""
    page.click(".djs-palette .entry.bpmn-icon-task")
    x, y = _page_point(page, 500, 200)
    page.mouse.move(x - 40, y + 40)
    page.mouse.move(x, y, steps=8)
    page.mouse.click(x, y)
    new_id = page.evaluate("() => window.onewindowModeler.get('selection').get()[0].id")
    page.click('.djs-context-pad .entry[data-action="replace"]')
    page.click('.djs-popup [data-id="replace-with-user-task"]')
    return page.evaluate("() => window.onewindowModeler.get('selection').get()[0].id") or new_id


def test_insert_a_user_task_fix_its_findings_deploy_and_start_the_new_version(site, browser, sessions):
    base, _ = site
    _designer(sessions)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 1000})
    sign_in(page, base, "designer")
    page.goto(f"{base}/design")
    page.locator("tr", has_text="consultation").locator("button").click()
    page.wait_for_selector("#canvas[data-rendered=true]")
    assert page.locator("#findings li").count() == 0  # version 1 is clean

    task_id = _insert_task_on_flow(page)
    page.click("#save")
    page.wait_for_selector("#canvas[data-revision='2']")
    flagged = page.locator(f'#findings li[data-element="{task_id}"]')
    assert flagged.count() >= 2, page.locator("#findings").inner_text()
    codes = {flagged.nth(i).get_attribute("data-code") for i in range(flagged.count())}
    assert {"label-required", "onewindow/form-exists"} <= codes, codes
    assert page.locator(f'.djs-element[data-element-id="{task_id}"].ow-lint-warning, '
                        f'.djs-element[data-element-id="{task_id}"].ow-lint-error').count() == 1
    page.screenshot(path=str(SCREENSHOTS / "modeler-findings.png"), full_page=True)

    page.fill("#properties input[name=name]", "答复审核")
    page.press("#properties input[name=name]", "Tab")
    page.select_option("#properties select[name=formKey]", "section_review")
    page.fill("#properties input[name=candidateGroups]", "center:supervisor")
    page.press("#properties input[name=candidateGroups]", "Tab")
    page.click("#save")
    page.wait_for_selector("#canvas[data-revision='3']")
    assert page.locator("#findings li").count() == 0, page.locator("#findings").inner_text()

    page.click("#deploy")
    page.wait_for_selector(".flash")
    assert "consultation" in page.locator(".flash").first.inner_text()
    assert "2" in page.locator(".flash").first.inner_text()

    with sessions.begin() as session:
        latest = deploy.latest_definition(session, "consultation")
        assert (latest.version, latest.deployed_by) == (2, "designer")
        instance = runtime.start_instance(session, "consultation", variables={}, actor="designer")
        assert instance.definition_id == latest.id
        first = session.scalar(sa.select(UserTask).where(UserTask.instance_id == instance.id))
        tasks.complete(session, first.id, {"opinion": "可以答复", "recommendation": "grant"}, user="window",
                       groups=["center:window-clerk", "window-clerk"])
    with sessions.begin() as session:
        waiting = session.scalars(sa.select(UserTask).where(UserTask.instance_id == instance.id)).all()
        assert [(t.activity_id, t.name) for t in waiting] == [(task_id, "答复审核")]
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessDefinition)
                              .where(ProcessDefinition.key == "consultation")) == 2
