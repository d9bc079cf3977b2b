"""The supervisors' console over the Flask test client: one case's page (diagram data, clock, timers,
incidents, history) and the actions on it, each with a written reason; department scope."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from api import create_app, state
from engine import external, identity
from engine.models import AuditEntry, Incident, User

from .paths import ENTERPRISE, FOOD_CHANGE, PERFORMANCE, at_decision
from .test_web_pages import PASSWORD, _csrf, sign_in


@pytest.fixture
def console(center, settings, clock):
    app = create_app(settings, clock=clock, test_config={"TESTING": True})
    with state(app).sessions.begin() as session:
        identity.create_user(session, "culture_boss", PASSWORD, groups=["supervisor"], department="culture")
        session.get(User, "supervisor").password_hash = identity._HASHER.hash(PASSWORD)
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    sign_in(client, "supervisor")
    yield app, client
    state(app).engine.dispose()


def diagram_data(page: str) -> list[dict]:
    return json.loads(re.search(r'<script type="application/json" id="diagram-data">(.*?)</script>', page, re.S).group(1))


def test_the_case_page_shows_where_the_case_is_and_its_history(console, center):
    app, client = console
    key = at_decision(center)
    instance = center.instance_id(key)
    listing = client.get(f"/console/cases?key={key}").get_data(as_text=True)
    assert f'href="/console/instances/{instance}"' in listing
    by_deadline = client.get("/console/cases?sort=deadline&process=window_intake&ended_from=2026-01-01")
    assert by_deadline.status_code == 200 and key not in by_deadline.get_data(as_text=True)  # not ended
    assert key in client.get("/console/cases?sort=deadline&process=window_intake").get_data(as_text=True)
    page = client.get(f"/console/instances/{instance}").get_data(as_text=True)
    intake, decision = diagram_data(page)
    assert intake["elements"]["Task_acceptance_review"] == {"marker": "completed", "completed": 1, "active": 0,
                                                           "incidents": 0, "badge": ""}
    assert decision["elements"]["Task_chief_decision"]["marker"] == "active"
    assert "<bpmn:process" in intake["xml"] and 'id="approval_decision"' in decision["xml"]
    assert re.search(r'<tr class="ow-active"><td>首席事务代表决定并用印</td>', page)  # the same without JavaScript
    assert "承诺时限届满" in page or "承诺办结期限" in page
    assert "材料齐全" in page  # the review's opinion in the history
    culture = center.receive(PERFORMANCE, ENTERPRISE, [{"code": "application-form"}, {"code": "programme"}])
    boss = app.test_client()
    sign_in(boss, "culture_boss")
    assert boss.get(f"/console/instances/{center.instance_id(culture)}").status_code == 200
    assert boss.get(f"/console/instances/{instance}").status_code == 404  # another department's case: not there
    with center.sessions.begin() as session:
        assert session.scalars(sa.select(AuditEntry.actor).where(AuditEntry.action == "access-refused")).all() == [
            "culture_boss"]


def test_actions_need_a_reason_and_show_in_the_history(console, center):
    _, client = console
    key = at_decision(center)
    instance = center.instance_id(key)
    page = client.get(f"/console/instances/{instance}").get_data(as_text=True)
    refused = client.post(f"/console/instances/{instance}/cancel", data={"csrf_token": _csrf(page), "reason": ""},
                          follow_redirects=True).get_data(as_text=True)
    assert "需要书面理由" in refused and center.status(key) == "running"
    task = re.search(r'<option value="([0-9a-f-]{36})">受理审查', page).group(1)
    client.post(f"/console/instances/{instance}/move-back", data={
        "csrf_token": _csrf(page), "task": task, "reason": "受理审查结论有误，退回重审"})
    assert center.waiting(key) == ["Task_acceptance_review"]
    client.post(f"/console/instances/{instance}/suspend", data={"csrf_token": _csrf(page), "reason": "核查材料真实性"})
    assert center.status(key) == "suspended"
    client.post(f"/console/instances/{instance}/resume", data={"csrf_token": _csrf(page), "reason": "核查完毕"})
    done = client.post(f"/console/instances/{instance}/cancel", data={
        "csrf_token": _csrf(page), "reason": "申请人书面撤回申请"}, follow_redirects=True).get_data(as_text=True)
    assert center.status(key) == "cancelled" and "办件已撤销" in done
    timeline = done[done.index('id="timeline"'):]
    for said in ("受理审查结论有误，退回重审", "核查材料真实性", "核查完毕", "申请人书面撤回申请"):
        assert said in timeline


def test_an_incident_is_retried_from_the_page_and_the_case_moves_on(console, center):
    _, client = console
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    with center.sessions.begin() as session:
        [locked] = external.fetch_and_lock(session, "w", [external.TopicRequest("shared-data", 1000)])
        external.failure(session, locked.row.id, "w", error_message="共享数据接口超时", error_details=None,
                         retries=0, retry_timeout_ms=0)
        incident = session.scalars(sa.select(Incident)).one().id
    instance = center.instance_id(key)
    page = client.get(f"/console/instances/{instance}").get_data(as_text=True)
    assert "共享数据接口超时" in page and diagram_data(page)[0]["elements"]["Task_shared_data"]["marker"] == "incident"
    client.post(f"/console/instances/{instance}/incidents/{incident}/retry", data={"csrf_token": _csrf(page)})
    assert center.work() == ["shared-data", "materials-check"]
    assert center.waiting(key) == ["Task_acceptance_review"]


def test_the_process_view_is_a_heat_map_of_where_cases_wait(console, center):
    app, client = console
    at_decision(center), at_decision(center)
    listing = client.get("/console/processes").get_data(as_text=True)
    decision_id = re.search(r'href="/console/processes/(approval_decision:1:[0-9a-f-]+)"', listing).group(1)
    page = client.get(f"/console/processes/{decision_id}").get_data(as_text=True)
    [diagram] = diagram_data(page)
    assert diagram["elements"] == {"Task_chief_decision": {"marker": "heat-5", "badge": "2"}}
    assert re.search(r'<tr class="ow-heat-5"><td>首席事务代表决定并用印</td><td>2</td>', page)
    with state(app).sessions.begin() as session:
        secret = identity.create_token(session, "supervisor", "heat map")
    stats = app.test_client().get(f"/engine-rest/process-definition/{decision_id}/statistics",
                                  headers={"Authorization": f"Bearer {secret}"})
    assert stats.json == [{"id": "Task_chief_decision", "instances": 2, "failedJobs": 0, "incidents": []}]


def test_the_dashboard_shows_the_indicators_and_a_department_sees_its_own(console, center):
    app, client = console
    decided = at_decision(center)
    center.complete(decided, "Task_chief_decision", "market_chief", {"decision": "grant", "opinion": "准予",
                                                                     "sealConfirmed": True})
    center.receive(PERFORMANCE, ENTERPRISE, [{"code": "application-form"}, {"code": "programme"}])
    page = client.get("/console/dashboard?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    assert '<strong id="kpi-received">2</strong>' in page
    table = page[page.index('id="table-departments"'):]
    assert re.search(r"<td>区市场监督管理局</td><td>1</td><td>1</td>\s*<td>100.0%</td>", table), table[:1500]
    assert '<div class="chart" id="chart-days"></div>' in page and "echarts.min.js" in page
    with state(app).sessions.begin() as session:
        boss = identity.create_token(session, "culture_boss", "dashboard")
        center_sup = identity.create_token(session, "supervisor", "dashboard")
    rest = app.test_client()
    figures = rest.get("/engine-rest/dashboard?from=2026-01-01&to=2026-01-31",
                       headers={"Authorization": f"Bearer {center_sup}"}).json
    assert figures["total"]["received"] == 2 and figures["total"]["completed"] == 1
    assert [d["department"] for d in figures["departments"]] == ["culture", "market"]
    assert figures["days"] == [{"day": "2026-01-05", "received": 2, "completed": 1}]
    own = rest.get("/engine-rest/dashboard?from=2026-01-01&to=2026-01-31", headers={"Authorization": f"Bearer {boss}"})
    assert own.json["department"] == "culture" and own.json["total"]["received"] == 1
    other = rest.get("/engine-rest/dashboard?department=market", headers={"Authorization": f"Bearer {boss}"})
    assert other.status_code == 403
    reversed_period = rest.get("/engine-rest/dashboard?from=2026-02-01&to=2026-01-01",
                               headers={"Authorization": f"Bearer {center_sup}"})
    assert reversed_period.status_code == 400 and "after it ends" in reversed_period.json["message"]
