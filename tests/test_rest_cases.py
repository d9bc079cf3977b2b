"""Cases, catalogue and forms over /engine-rest: what a window page or the portal calls."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from api import state
from api.demo import seed
from engine import deploy, identity
from engine.models import AuditEntry
from engine.settings import PROJECT_ROOT

from .paths import ENTERPRISE, FOOD_CHANGE


def _center(app, api) -> dict[str, str]:
    with state(app).sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
        session.flush()
        identity.create_user(session, "market_chief2", None, groups=["chief-representative"], department="market")
        session.flush()
        for user in ("window", "market_clerk", "market_chief2", "portal"):
            api.tokens[user] = identity.create_token(session, user, "test")
    return api.tokens


def test_window_receives_a_case_and_form_errors_come_back_per_field_in_chinese(app, api):
    _center(app, api)
    broken = {**ENTERPRISE, "phone": "12"}
    response = api.post("/case", {"itemCode": FOOD_CHANGE, "application": broken}, user="window")
    assert response.status_code == 400
    assert response.json["fieldErrors"] == {"phone": "「联系电话」应为11位手机号或带区号的固定电话"}
    assert api.post("/case", {"itemCode": FOOD_CHANGE, "application": ENTERPRISE}, user="market_clerk").status_code == 403
    started = api.post("/case", {"itemCode": FOOD_CHANGE, "application": ENTERPRISE,
                                 "materials": [{"code": "application-form"}]}, user="window")
    assert started.status_code == 200 and started.json["businessKey"].startswith("QP-MARKET-")
    online = api.post("/case", {"itemCode": FOOD_CHANGE, "channel": "online", "application": ENTERPRISE}, user="portal")
    assert online.status_code == 200
    missing = api.post("/case", {"itemCode": "no-such-item", "application": ENTERPRISE}, user="window")
    assert missing.status_code == 404 and "no-such-item" in missing.json["message"]


def test_catalogue_and_forms_are_readable_by_staff_and_the_portal(app, api):
    _center(app, api)
    items = api.get("/catalogue-item", user="portal").json
    assert len(items) >= 12 and len({i["department"] for i in items if i["itemType"] != "一件事"}) >= 5
    item = api.get(f"/catalogue-item/{FOOD_CHANGE}", user="window").json
    assert item["formKey"] == "application_enterprise" and item["promisedLimitDays"] <= item["legalLimitDays"]
    schema = api.get("/form/chief_decision", user="window").json
    assert schema["properties"]["decision"]["x-enumNames"] == ["准予许可", "不予许可"]
    assert api.get("/form/../setup", user="window").status_code == 404


def test_an_unauthorized_decision_is_refused_over_rest_and_audited(app, api):
    _center(app, api)
    key = api.post("/case", {"itemCode": FOOD_CHANGE, "application": ENTERPRISE,
                             "materials": [{"code": "application-form"}]}, user="window").json["businessKey"]
    with state(app).sessions.begin() as session:  # no workers here: move the case to the decision directly
        from engine import external, tasks
        from engine.models import UserTask
        for topic in ("shared-data", "materials-check"):
            for locked in external.fetch_and_lock(session, "w", [external.TopicRequest(topic, 1000)]):
                external.complete(session, locked.row.id, "w", {"materialsComplete": True} if topic == "materials-check" else {})
        review = session.scalars(sa.select(UserTask).where(UserTask.business_key == key)).one()
        tasks.complete(session, review.id, {"acceptance": "accept", "opinion": "受理"}, user="market_clerk",
                       groups=["market:approval-clerk"])
        for locked in external.fetch_and_lock(session, "w", [external.TopicRequest("acceptance-receipt", 1000)]):
            external.complete(session, locked.row.id, "w", {})
    decision = api.get(f"/task?processInstanceBusinessKey={key}", user="market_chief2").json[0]
    response = api.post(f"/task/{decision['id']}/complete", {"variables": {
        "decision": {"value": "grant"}, "opinion": {"value": "准予"}, "sealConfirmed": {"value": True}}},
        user="market_chief2")
    assert response.status_code == 403 and "holds no authorization" in response.json["message"]
    with state(app).sessions.begin() as session:
        entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "authorization-refused")).one()
        assert entry.actor == "market_chief2" and entry.details["power"] == "decide"


def test_catalogue_processes_cannot_be_started_around_the_window(app, api):
    _center(app, api)
    for key in ("window_intake", "issue_and_close", "approval_decision"):
        response = api.post(f"/process-definition/key/{key}/start", {"businessKey": "..", "variables": {
            "decision": {"value": "grant"}}}, user="admin")
        assert response.status_code == 400 and "POST /engine-rest/case" in response.json["message"]


@pytest.mark.postgres
def test_case_numbers_stay_unique_when_the_first_cases_of_a_day_arrive_together(sessions, database_url):
    """Concurrent receipts on PostgreSQL: the day's sequence row is created once, every number differs."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; the race exists only on PostgreSQL")
    from concurrent.futures import ThreadPoolExecutor

    from engine.cases import next_case_number

    with sessions.begin() as session:
        identity.ensure_department(session, "market", "区市场监督管理局")
    barrier = __import__("threading").Barrier(8)

    def take(_: int) -> str:
        with sessions.begin() as session:
            barrier.wait()
            return next_case_number(session, "market")

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(take, range(8)))
    assert sorted(numbers) == [f"QP-MARKET-20260105-{n:04d}" for n in range(1, 9)]


def test_a_broken_form_file_is_a_clear_error_not_a_crash(tmp_path):
    from engine.errors import InvalidInput
    from engine.forms import FormRegistry

    (tmp_path / "broken.json").write_text('{"type": "object", "properties": {"x": {"type": "no-such-type"}}}')
    with pytest.raises(InvalidInput, match="broken.json is not a valid JSON Schema: .* at properties/x/type"):
        FormRegistry(tmp_path).validate("broken", {})


def test_a_task_is_readable_only_by_who_may_work_on_it(app, api):
    _center(app, api)
    key = api.post("/case", {"itemCode": FOOD_CHANGE, "application": ENTERPRISE,
                             "materials": [{"code": "application-form"}]}, user="window").json["businessKey"]
    with state(app).sessions.begin() as session:
        from engine import external
        for topic in ("shared-data", "materials-check"):
            for locked in external.fetch_and_lock(session, "w", [external.TopicRequest(topic, 1000)]):
                external.complete(session, locked.row.id, "w", {})
    review = api.get(f"/task?processInstanceBusinessKey={key}", user="market_clerk").json[0]
    for path in (f"/task/{review['id']}", f"/task/{review['id']}/form-variables", f"/task/{review['id']}/form"):
        assert api.get(path, user="market_clerk").status_code == 200
        refused = api.get(path, user="portal")  # not offered to the portal: as if it did not exist
        assert refused.status_code == 404 and "does not exist" in refused.json["message"]


def test_supervisors_list_and_export_cases_over_rest(app, api):
    _center(app, api)
    with state(app).sessions.begin() as session:
        api.tokens["supervisor"] = identity.create_token(session, "supervisor", "test")
    key = api.post("/case", {"itemCode": FOOD_CHANGE, "application": ENTERPRISE,
                             "materials": [{"code": "application-form"}]}, user="window").json["businessKey"]
    page = api.get("/case-instance?department=market&status=running", user="supervisor").json
    assert [c["businessKey"] for c in page["items"]] == [key] and page["next"] is None
    assert page["items"][0]["itemName"] == "食品经营许可（变更许可事项）" and page["items"][0]["warningState"] == "normal"
    assert api.get("/case-instance?warningState=purple", user="supervisor").status_code == 400
    assert api.get("/case-instance", user="market_clerk").status_code == 403
    exported = api.get("/case-instance/export.csv?department=market", user="supervisor")
    text = exported.get_data(as_text=True)
    assert exported.mimetype == "text/csv" and text.startswith("\ufeffbusiness_key,") and key in text
