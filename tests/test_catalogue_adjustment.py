"""Dynamic adjustment of the catalogue (事项动态调整, rule 14) as the real process: a department applies in
writing, the catalogue's own checks run over REST from the real worker handlers, the 区政务办 reviews, and
the approved record becomes a new item version on the effective date — while cases already running keep
the version they were received under (rule 13)."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from api import create_app, state
from api.demo import seed
from engine import catalogue, catalogue_adjustments, deploy, entry_confirmations, external, identity
from engine.errors import BadUserRequest, Forbidden, InvalidInput
from engine.models import AuditEntry, CaseClock, CatalogueItem, User, UserTask
from engine.settings import PROJECT_ROOT
from workers.client import EngineClient
from workers.handlers import WorkerContext, build_handlers
from workers.runtime import Worker

from .paths import ENTERPRISE, FOOD_CHANGE, GRANT, make_center

TOPICS = ("catalogue-check", "catalogue-apply")
LIMIT_CHANGE = {"kind": "change", "itemCode": FOOD_CHANGE, "changes": {"promised_limit_days": 3},
                "reason": "推行告知承诺，压缩承诺办结时限", "legalBasis": "青府办发〔2022〕45号",
                "documentNumber": "青市监审〔2026〕3号"}
TODAY = "2026-01-05"  # the test clock's Monday
FEES = {**LIMIT_CHANGE, "changes": {"details": {"fees": "收取工本费"}}, "documentNumber": "青市监审〔2026〕5号"}
APPROVE = {"review": "approve", "reviewOpinion": "同意，自即日起施行", "effectiveFrom": TODAY}


@pytest.fixture
def site(sessions, clock, settings):
    """The engine's REST API on a real port (the workers' way in), over the center's database and clock."""
    with sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
    app = create_app(settings, clock=clock, test_config={"TESTING": True})
    with state(app).sessions.begin() as session:
        tokens = {user: identity.create_token(session, user, "test")
                  for user in ("worker", "market_head", "market_clerk", "planning_head", "admin")}
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}/engine-rest", tokens
    server.shutdown()
    thread.join(10)
    state(app).engine.dispose()


@pytest.fixture
def center(site, sessions, clock, worker_settings):
    """The test center, whose catalogue-check and catalogue-apply handlers reach the engine over HTTP as the
    worker user (the other handlers run as in the other path tests)."""
    _, base, tokens = site
    made = make_center(sessions, clock, worker_settings, seeded=True)
    context = WorkerContext.create(worker_settings.with_(engine_url=base, worker_token=tokens["worker"]))
    made.handlers.update({topic: build_handlers(context)[topic] for topic in TOPICS})
    yield made
    made.context.ledger.dispose()
    context.ledger.dispose()


def _apply_for(center, application: dict, user: str = "market_head") -> str:
    with center.sessions.begin() as session:
        instance = catalogue_adjustments.start_adjustment(session, application, actor=user,
                                                          actor_groups=center.groups(user),
                                                          actor_department=_department(session, user))
        return instance.business_key


def _department(session, user: str) -> str | None:
    return identity.principal_of(session.get(User, user)).department


def _versions(center, code: str) -> list[CatalogueItem]:
    with center.sessions.begin() as session:
        found = catalogue.versions(session, code)
        session.expunge_all()
        return found


def _clock(center, key: str) -> CaseClock:
    with center.sessions.begin() as session:
        clock = session.get(CaseClock, center.instance_id(key))
        session.expunge(clock)
        return clock


def _approved_and_due(center, key: str, review: dict = APPROVE) -> None:
    """The check passed, the office approves, the effective day has come (the timer fires)."""
    assert "catalogue-check" in center.work()
    assert center.waiting(key) == ["Task_office_review"]
    center.complete(key, "Task_office_review", "office", review)
    center.pass_days(0)


def test_a_changed_limit_applies_to_cases_received_after_it_takes_effect(center):
    before = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    key = _apply_for(center, LIMIT_CHANGE)
    assert "catalogue-check" in center.work()
    checked = center.variables(key)
    assert checked["checkPassed"] is True and checked["baseVersion"] == 1
    assert checked["proposedRecord"]["promised_limit_days"] == 3 and checked["proposedRecord"]["legal_limit_days"] == 20
    during = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])  # the office has not decided
    center.complete(key, "Task_office_review", "office", APPROVE)
    assert [v.version for v in _versions(center, FOOD_CHANGE)] == [1]  # approved, but not yet in effect
    center.pass_days(0)  # the effective day has begun: the timer lets the apply task go
    assert "catalogue-apply" in center.work()
    assert center.status(key) == "completed" and center.variables(key)["appliedVersion"] == 2
    after = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    limits = {k: (center.variables(k)["itemVersion"], center.variables(k)["promisedLimitDays"],
                  _clock(center, k).promised_limit_days) for k in (before, during, after)}
    assert limits == {before: (1, 5, 5), during: (1, 5, 5), after: (2, 3, 3)}
    old, new = _versions(center, FOOD_CHANGE)
    assert (old.current, old.promised_limit_days, new.current, new.promised_limit_days) == (False, 5, True, 3)
    assert new.effective_from == date(2026, 1, 5) and new.created_by == "worker"
    assert catalogue.record(new) == {**catalogue.record(old), "promised_limit_days": 3,
                                     "effective_from": date(2026, 1, 5)}  # nothing else changed
    instance_id = center.instance_id(key)
    with center.sessions.begin() as session:
        [entry] = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == catalogue_adjustments.APPLIED))
        assert (entry.instance_id, entry.entity_id, entry.details["version"], entry.details["documentNumber"]) == (
            instance_id, FOOD_CHANGE, 2, "青市监审〔2026〕3号")


def test_a_redelivered_apply_task_writes_no_second_version(center, site):
    key = _apply_for(center, LIMIT_CHANGE)
    _approved_and_due(center, key)
    with center.sessions.begin() as session:  # a worker takes the task, writes, and dies before completing it
        [locked] = external.fetch_and_lock(session, "doomed", [external.TopicRequest("catalogue-apply", 60_000)],
                                           max_tasks=1)
        first = center._worker_task(locked, "doomed")
    assert center.handlers["catalogue-apply"](first)["appliedVersion"] == 2
    center.clock.advance(timedelta(minutes=2))  # its lock runs out: the engine hands the task out again
    assert center.work() == ["catalogue-apply"]
    assert center.variables(key)["appliedVersion"] == 2
    assert [v.version for v in _versions(center, FOOD_CHANGE)] == [1, 2]
    _, base, tokens = site  # and a late call after the case ended gets the same version back
    again = requests.put(f"{base}/catalogue-item/{FOOD_CHANGE}", json={"businessKey": key, "effectiveFrom": TODAY},
                         headers={"Authorization": f"Bearer {tokens['worker']}"})
    assert again.status_code == 200 and (again.json()["version"], again.json()["repeated"]) == (2, True)
    with center.sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == catalogue_adjustments.APPLIED)) == 1


def test_a_bad_proposal_comes_back_to_the_department_with_the_reason_and_nothing_is_saved(center):
    key = _apply_for(center, {**LIMIT_CHANGE, "changes": {"promised_limit_days": 25}})  # legal limit: 20
    assert center.work() == ["catalogue-check"]
    assert center.waiting(key) == ["Task_correct"] and center.status(key) == "running"
    returned = center.variables(key)
    assert returned["checkPassed"] is False
    assert [(p["field"], p["code"], p["params"]) for p in returned["checkProblems"]] == [
        ("promised_limit_days", "item.promised-over-legal", {"promised": 25, "legal": 20})]
    assert [v.version for v in _versions(center, FOOD_CHANGE)] == [1]
    with pytest.raises(Forbidden):  # another department's head cannot touch it
        center.complete(key, "Task_correct", "planning_head", LIMIT_CHANGE)
    center.complete(key, "Task_correct", "market_head", LIMIT_CHANGE)
    assert center.work() == ["catalogue-check"]
    assert center.waiting(key) == ["Task_office_review"] and center.variables(key)["checkPassed"] is True
    assert [v.version for v in _versions(center, FOOD_CHANGE)] == [1]


def test_cancelling_takes_no_new_applications_while_a_running_case_finishes(center):
    running = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(running, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    key = _apply_for(center, {"kind": "cancel", "itemCode": FOOD_CHANGE, "reason": "该事项调整为市级实施",
                              "legalBasis": "市政府关于调整行政审批事项的决定",
                              "documentNumber": "青市监审〔2026〕4号"})
    _approved_and_due(center, key)
    assert center.work() == ["catalogue-apply"]
    cancelled = _versions(center, FOOD_CHANGE)[-1]
    assert (cancelled.version, cancelled.status, cancelled.effective_to) == (2, "cancelled", date(2026, 1, 4))
    with center.sessions.begin() as session, pytest.raises(InvalidInput) as closed:
        catalogue.active_item(session, FOOD_CHANGE)
    assert closed.value.code == "item.closed"
    with pytest.raises(InvalidInput, match="takes no new applications"):
        center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.complete(running, "Task_chief_decision", "market_chief", GRANT)  # the case received before goes on
    assert center.work() == ["certificate", "result-notice"]
    center.complete(running, "Task_delivery", "window", {"deliveryMethod": "window", "recipientName": "陆青禾"})
    assert center.work() == ["rating-request"]
    center.message("rating-received", running, {"rating": "满意"})
    assert center.status(running) == "completed" and center.variables(running)["itemVersion"] == 1


def test_a_new_item_takes_applications_from_the_day_the_office_set(center):
    record = {"name": "艺术品经营单位备案", "department": "culture", "item_type": "其他行政权力", "case_type": "1",
              "legal_limit_days": 20, "promised_limit_days": 0, "accepted_on_receipt": True,
              "process_key": "window_intake", "form_key": "application_enterprise",
              "details": {"legal_basis": "《艺术品经营管理办法》第五条",
                          "materials": [{"code": "application-form", "name": "备案表"}]}}
    key = _apply_for(center, {"kind": "add", "itemCode": "310118-WHLY-004", "record": record,
                              "reason": "承接市级下放事项", "legalBasis": "《艺术品经营管理办法》第五条",
                              "documentNumber": "青文旅审〔2026〕1号"}, user="culture_head")
    _approved_and_due(center, key, {**APPROVE, "effectiveFrom": "2026-01-12"})
    assert center.work() == [] and _versions(center, "310118-WHLY-004") == []  # the timer waits for Monday
    center.pass_days(7)
    assert center.work() == ["catalogue-apply"]
    [added] = _versions(center, "310118-WHLY-004")
    assert (added.version, added.effective_from, added.case_type, added.created_by) == (
        1, date(2026, 1, 12), "1", "worker")
    with pytest.raises(Forbidden, match="not confirmed"):  # rule 1: the department confirms it entered the center
        center.receive("310118-WHLY-004", ENTERPRISE, [{"code": "application-form"}])
    with center.sessions.begin() as session:
        entry_confirmations.confirm(session, department="culture", document_number="青culture入驻〔2026〕2号",
                                    signed_by="区文化和旅游局主要负责人", confirmed_by="区政务办",
                                    valid_from=date(2026, 1, 12),
                                    item_codes=[i.code for i in catalogue.items(session, "culture")], actor="test")
    case = center.receive("310118-WHLY-004", ENTERPRISE, [{"code": "application-form"}])
    assert center.variables(case)["itemVersion"] == 1


def test_an_adjustment_overtaken_by_another_goes_back_to_the_department(center, site):
    """Two applications built on version 1: the first to take effect wins; the second would silently undo it,
    so it is refused and returned to the department, which applies again on version 2."""
    first = _apply_for(center, LIMIT_CHANGE)
    second = _apply_for(center, FEES)
    assert center.work() == ["catalogue-check", "catalogue-check"]
    assert center.variables(second)["baseVersion"] == 1
    center.complete(first, "Task_office_review", "office", APPROVE)
    center.pass_days(0)
    assert center.work() == ["catalogue-apply"] and center.status(first) == "completed"
    center.complete(second, "Task_office_review", "office", APPROVE)
    center.pass_days(0)
    _, base, tokens = site  # the worker runtime itself turns the handler's BPMN error into the engine's
    worker = Worker(EngineClient(base, tokens["worker"]), {t: center.handlers[t] for t in TOPICS}, "w-adjust",
                    threads=1)
    assert worker.run_once() == 1
    assert center.waiting(second) == ["Task_correct"]
    assert center.variables(second)["applyProblem"]["code"] == "adjustment.item-changed"
    assert [v.version for v in _versions(center, FOOD_CHANGE)] == [1, 2]
    center.complete(second, "Task_correct", "market_head", FEES)
    _approved_and_due(center, second)
    assert center.work() == ["catalogue-apply"]
    latest = _versions(center, FOOD_CHANGE)[-1]
    assert (latest.version, latest.promised_limit_days, latest.details["fees"]) == (3, 3, "收取工本费")


def test_who_may_apply_check_and_write_over_rest(center, site):
    app, _, tokens = site
    client = app.test_client()

    def call(method: str, path: str, user: str, body: dict | None = None):
        return client.open(f"/engine-rest{path}", method=method, json=body,
                           headers={"Authorization": f"Bearer {tokens[user]}"})

    started = call("POST", "/catalogue-adjustment", "market_head", LIMIT_CHANGE)
    assert started.status_code == 200 and started.json["businessKey"].startswith("QP-ADJUST-MARKET-20260105-")
    assert center.waiting(started.json["businessKey"]) == []  # the check is a service task: it waits for a worker
    assert call("POST", "/catalogue-adjustment", "market_clerk", LIMIT_CHANGE).status_code == 403
    other = call("POST", "/catalogue-adjustment", "planning_head", LIMIT_CHANGE)
    assert other.status_code == 403 and "belongs to department 'market'" in other.json["message"]
    bad_form = call("POST", "/catalogue-adjustment", "market_head", {**LIMIT_CHANGE, "reason": ""})
    assert bad_form.status_code == 400 and "reason" in bad_form.json["fieldErrors"]
    generic = call("POST", "/process-definition/key/catalogue_adjustment/start", "admin", {"variables": {}})
    assert generic.status_code == 400 and "/engine-rest/catalogue-adjustment" in generic.json["message"]
    checked = call("POST", "/catalogue-item/check", "worker", {"kind": "change", "itemCode": FOOD_CHANGE,
                                                                 "changes": {"case_type": "1"}, "department": "market"})
    assert checked.status_code == 200 and checked.json["valid"] is False
    assert [p["code"] for p in checked.json["problems"]] == ["item.instant-not-zero"]
    unknown = call("POST", "/catalogue-item/check", "market_head", {"kind": "cancel", "itemCode": "NO-SUCH"})
    assert [p["code"] for p in unknown.json["problems"]] == ["adjustment.item-unknown"]
    assert call("POST", "/catalogue-item/check", "market_clerk", {"kind": "cancel", "itemCode": FOOD_CHANGE}
                ).status_code == 403
    key = started.json["businessKey"]
    body = {"businessKey": key, "effectiveFrom": TODAY}
    assert call("PUT", f"/catalogue-item/{FOOD_CHANGE}", "market_head", body).status_code == 403
    early = call("PUT", f"/catalogue-item/{FOOD_CHANGE}", "worker", body)  # nobody approved it
    assert early.status_code == 400 and "approved" in early.json["message"]
    _approved_and_due(center, key)
    forged = call("PUT", f"/catalogue-item/{FOOD_CHANGE}", "worker",
                  {**body, "record": {**center.variables(key)["proposedRecord"], "promised_limit_days": 1}})
    assert forged.status_code == 400 and "differs" in forged.json["message"]
    assert [v.version for v in _versions(center, FOOD_CHANGE)] == [1]
    assert center.work() == ["catalogue-apply"]


def test_only_a_section_head_or_an_administrator_applies(center):
    with pytest.raises(Forbidden, match="section head"):
        _apply_for(center, LIMIT_CHANGE, user="market_clerk")
    key = _apply_for(center, LIMIT_CHANGE, user="admin")  # for the item's department
    assert center.variables(key)["department"] == "market"
    with center.sessions.begin() as session, pytest.raises(BadUserRequest, match="not waiting to take effect"):
        catalogue_adjustments.apply_adjustment(session, key, FOOD_CHANGE, actor="worker")


def test_the_department_corrects_its_application_on_the_task_page(center, site):
    """The correction step is the application form again: its changes are JSON text the head edits."""
    from .test_web_pages import PASSWORD, _csrf, sign_in

    app, _, _ = site
    key = _apply_for(center, {**LIMIT_CHANGE, "changes": {"promised_limit_days": 25}})  # legal limit: 20
    assert center.work() == ["catalogue-check"] and center.waiting(key) == ["Task_correct"]
    instance_id = center.instance_id(key)
    with center.sessions.begin() as session:
        session.get(User, "market_head").password_hash = identity._HASHER.hash(PASSWORD)
        task_id = session.scalar(sa.select(UserTask.id).where(UserTask.instance_id == instance_id,
                                                              UserTask.activity_id == "Task_correct"))
    client = app.test_client()
    sign_in(client, "market_head")
    page = client.get(f"/task/{task_id}").get_data(as_text=True)
    assert '<textarea name="changes" id="changes" rows="12" class="json"' in page
    problems = page[page.index('id="check-problems"'):]
    assert "承诺办结时限（工作日）</strong>：承诺办结时限（25 个工作日）不能超过法定办结时限（20 个工作日）。" in problems
    corrected = {"csrf_token": _csrf(page), "action": "complete", "kind": "change", "itemCode": FOOD_CHANGE,
                 "changes": '{"promised_limit_days": 3}', "reason": LIMIT_CHANGE["reason"],
                 "legalBasis": LIMIT_CHANGE["legalBasis"], "documentNumber": LIMIT_CHANGE["documentNumber"]}
    answer = client.post(f"/task/{task_id}", data=corrected)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert center.work() == ["catalogue-check"]
    assert center.waiting(key) == ["Task_office_review"]
    assert center.variables(key)["changes"] == {"promised_limit_days": 3}
