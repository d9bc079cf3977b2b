"""A revoked authorization in the middle of a case blocks the next action: the decision task, or — when the
letter is revoked after the decision — the approval seal the certificate and decision-letter workers apply.

The workers here are the real ones (``workers.runtime.Worker``, ``workers.client.EngineClient``, the real
handlers) talking HTTP to the app in this process through a requests transport, so the engine's clock is the
test's and both databases run."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa
from flask_babel import force_locale
from requests.structures import CaseInsensitiveDict

from api import state
from engine import authorizations, external, identity
from engine.authorizations import AuthorizationRefused
from engine.errors import EngineError
from engine.models import AuditEntry, Authorization, ExternalTask, Incident, ProcessInstance
from workers.client import EngineClient, SealRefused
from workers.runtime import Worker

from .paths import ENTERPRISE, FOOD_CHANGE, GRANT, make_center
from .test_approval_paths import verify_signed

REFUSE = {"decision": "refuse", "opinion": "不予许可", "sealConfirmed": True, "decisionReasons": "经营场所不符合要求"}
CHIEF = "market_chief2"
CHIEF_NAME = "市场监督管理局首席事务代表 新任"


class FlaskTransport(requests.adapters.BaseAdapter):
    """requests → the Flask test client: the workers' own HTTP client against the app of this process."""

    def __init__(self, client) -> None:
        super().__init__()
        self.client = client

    def send(self, request, **kwargs):  # requests' adapter protocol
        parts = urlsplit(request.url)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        answer = self.client.open(parts.path, query_string=parts.query, method=request.method, headers=headers,
                                  data=request.body)
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.get_data()
        response.headers, response.url, response.request = CaseInsensitiveDict(answer.headers), request.url, request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def over_http(app, api, clock, worker_settings):
    """The demo center in the app, a second market representative under a letter of her own, and the worker
    handlers asking the engine over HTTP (``EngineClient.seal``) before they seal."""
    sessions = state(app).sessions
    made = make_center(sessions, clock, worker_settings)
    with sessions.begin() as session:
        identity.create_user(session, CHIEF, None, display_name=CHIEF_NAME, groups=["chief-representative"],
                             department="market")
        session.flush()
        authorizations.grant(session, username=CHIEF, department="market", kind=authorizations.CHIEF,
                             powers=["decide", "pre-review", "seal"], item_codes=[FOOD_CHANGE],
                             valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), signed_by="区市场监督管理局局长",
                             document_number="青market授〔2026〕9号", actor="admin")
        for user in (CHIEF, "market_chief"):
            api.tokens[user] = identity.create_token(session, user, "test")
    http = requests.Session()
    http.mount("http://engine.test/", FlaskTransport(app.test_client()))
    made.engine = EngineClient("http://engine.test/engine-rest", api.tokens["worker"], session=http)
    made.context.engine = made.engine
    made.http = http
    yield made
    made.context.ledger.dispose()


def _to_the_decision(center) -> str:
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    assert center.work() == ["shared-data", "materials-check"]
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    assert center.work() == ["acceptance-receipt"]
    assert center.waiting(key) == ["Task_chief_decision"]
    return key


def _revoke(center, username: str = CHIEF) -> None:
    with center.sessions.begin() as session:
        letter = session.scalars(sa.select(Authorization).where(Authorization.username == username)).one()
        authorizations.revoke(session, letter.id, actor="admin")


def _entries(center, key: str, action: str) -> list[AuditEntry]:
    with center.sessions.begin() as session:
        return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.instance_id == center.instance_id(key),
                                                                AuditEntry.action == action).order_by(AuditEntry.id)))


def _documents(worker_settings) -> list[str]:
    return sorted(p.name for p in worker_settings.documents_dir.rglob("*.pdf"))


def test_a_letter_revoked_mid_case_blocks_the_decision_and_nothing_moves(over_http, api):
    center = over_http
    key = _to_the_decision(center)
    with center.sessions.begin() as session:
        before = session.get(ProcessInstance, center.instance_id(key)).lock_version
    _revoke(center)
    decision = next(t for t in center.tasks(key) if t.activity_id == "Task_chief_decision")
    response = api.post(f"/task/{decision.id}/complete", {"variables": {k: {"value": v} for k, v in GRANT.items()}},
                        user=CHIEF)
    assert response.status_code == 403 and "was revoked on 2026-01-05" in response.json["message"]
    refusal = _entries(center, key, "authorization-refused")
    assert [(e.actor, e.details) for e in refusal] == [
        (CHIEF, {"department": "market", "itemCode": FOOD_CHANGE, "power": "decide"})]
    with pytest.raises(AuthorizationRefused) as refused:  # the engine's own refusal, as every caller gets it
        center.complete(key, "Task_chief_decision", CHIEF, GRANT)
    assert refused.value.code == "authorization.revoked" and refused.value.params["date"] == "2026-01-05"
    assert center.waiting(key) == ["Task_chief_decision"]  # nothing moved
    with center.sessions.begin() as session:
        assert session.get(ProcessInstance, center.instance_id(key)).lock_version == before
    assert "decision" not in center.variables(key)
    assert not [e for e in _entries(center, key, "complete-task") if e.details["activityId"] == "Task_chief_decision"]
    center.complete(key, "Task_chief_decision", "market_chief", GRANT)  # a representative in office decides
    assert center.work() == ["certificate", "result-notice"]


@pytest.mark.parametrize(("decision", "topic", "variable"), [(GRANT, "certificate", "certificates"),
                                                              (REFUSE, "decision-letter", "decisionLetter")],
                         ids=["certificate", "decision-letter"])
def test_a_letter_revoked_after_the_decision_stops_the_seal_with_an_incident(over_http, app, worker_settings,
                                                                            decision, topic, variable):
    center = over_http
    key = _to_the_decision(center)
    center.complete(key, "Task_chief_decision", CHIEF, decision)
    signed_before = _documents(worker_settings)  # the acceptance receipt (the center's seal)
    _revoke(center)
    worker = Worker(EngineClient("http://engine.test/engine-rest", app.config["TEST_TOKENS"]["worker"],
                                 session=center.http), {topic: center.handlers[topic]}, worker_id="seal-worker",
                    threads=1)
    assert worker.run_once() == 1
    assert _documents(worker_settings) == signed_before  # nothing was signed
    assert variable not in center.variables(key)
    with center.sessions.begin() as session:
        task = session.scalars(sa.select(ExternalTask).where(ExternalTask.business_key == key,
                                                             ExternalTask.topic == topic)).one()
        incident = session.scalars(sa.select(Incident).where(Incident.configuration == task.id)).one()
        assert task.retries == 0 and incident.incident_type == external.FAILED_EXTERNAL_TASK
    said = EngineError("", code="seal.revoked", department="区市场监督管理局", user=CHIEF_NAME,
                       item="食品经营许可（变更许可事项）", date="2026-01-05")
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        from api.web.messages import describe

        assert incident.message == describe(said)  # the incident in the center's language, through its template
    assert CHIEF_NAME in incident.message and "2026-01-05" in incident.message
    [entry] = _entries(center, key, "authorization-refused")
    assert entry.actor == "worker:seal-worker"
    assert {k: entry.details[k] for k in ("power", "decidedBy", "reason", "department", "topic")} == {
        "power": "seal", "decidedBy": CHIEF, "reason": "authorization.revoked", "department": "market", "topic": topic}
    assert _entries(center, key, "seal-applied") == []
    assert worker.run_once() == 0  # retries 0: no worker gets it again until a supervisor retries it
    with center.sessions.begin() as session:  # a new letter, then the supervisors' retry: now it seals
        authorizations.grant(session, username=CHIEF, department="market", kind=authorizations.CHIEF,
                             powers=["decide", "seal"], item_codes=[FOOD_CHANGE], valid_from=date(2026, 1, 5),
                             valid_to=date(2026, 12, 31), signed_by="区市场监督管理局局长")
        external.set_retries(session, task.id, 1, actor="supervisor")
    assert worker.run_once() == 1
    assert len(_documents(worker_settings)) > len(signed_before)
    [applied] = _entries(center, key, "seal-applied")
    assert applied.details["decidedBy"] == CHIEF and applied.details["department"] == "market"


def test_a_valid_letter_lets_the_worker_seal_and_the_seal_is_on_record(over_http, worker_settings, seal_dir):
    center = over_http
    key = _to_the_decision(center)
    center.complete(key, "Task_chief_decision", CHIEF, GRANT)
    assert center.work() == ["certificate", "result-notice"]
    found = center.variables(key)
    verify_signed(found["certificates"][0]["file"], seal_dir)
    verify_signed(found["grantLetter"]["file"], seal_dir)
    [applied] = _entries(center, key, "seal-applied")
    with center.sessions.begin() as session:
        letter = session.scalars(sa.select(Authorization).where(Authorization.username == CHIEF)).one()
    assert applied.actor == "worker:test-worker"
    assert {k: applied.details[k] for k in ("department", "itemCode", "decidedBy", "decisionActivityId",
                                            "authorizationId", "documentNumber", "topic")} == {
        "department": "market", "itemCode": FOOD_CHANGE, "decidedBy": CHIEF,
        "decisionActivityId": "Task_chief_decision", "authorizationId": letter.id,
        "documentNumber": "青market授〔2026〕9号", "topic": "certificate"}


def test_the_seal_check_answers_only_the_worker_holding_the_task_and_only_for_a_decided_department(over_http, api):
    center = over_http
    key = _to_the_decision(center)
    center.complete(key, "Task_chief_decision", CHIEF, GRANT)
    with center.sessions.begin() as session:
        [locked] = external.fetch_and_lock(session, "w1", [external.TopicRequest("certificate", 60_000)])
        task_id = locked.row.id
    other = api.post(f"/external-task/{task_id}/seal", {"workerId": "w2", "department": "market"}, user="worker")
    assert other.status_code == 400 and "locked by worker 'w1'" in other.json["message"]
    nameless = api.post(f"/external-task/{task_id}/seal", {"workerId": "w1"}, user="worker")
    assert nameless.status_code == 400 and "'department' is required" in nameless.json["message"]
    assert api.post(f"/external-task/{task_id}/seal", {"workerId": "w1", "department": "market"},
                    user="clerk").status_code == 403  # not a worker
    elsewhere = api.post(f"/external-task/{task_id}/seal", {"workerId": "w1", "department": "planning"}, user="worker")
    assert elsewhere.status_code == 403
    assert elsewhere.json["code"] == "seal.no-decision" and elsewhere.json["type"] == "AuthorizationException"
    assert "区规划和自然资源局" in elsewhere.json["localizedMessage"]
    with pytest.raises(SealRefused) as refused:
        center.engine.seal(task_id, "w1", "planning")
    assert refused.value.code == "seal.no-decision" and str(refused.value) == elsewhere.json["localizedMessage"]
    assert refused.value.final  # the runtime reports it with retries 0: an incident at once
    assert api.post(f"/external-task/{task_id}/seal", {"workerId": "w1", "department": "market"},
                    user="worker").status_code == 204
    assert [e.details["department"] for e in _entries(center, key, "authorization-refused")] == ["planning", "planning"]
    assert [e.details["department"] for e in _entries(center, key, "seal-applied")] == ["market"]


def test_a_bundle_checks_each_departments_decider_and_signs_nothing_while_one_is_refused(over_http, smtp, app,
                                                                                        worker_settings):
    """一件事: market and housing granted, ecology refused. Housing's representative loses the letter before the
    licences are sealed: no licence is sealed, not even market's. With a new letter and the supervisors'
    retry, each document is sealed under its own department's decider."""
    from .test_approval_paths import bundle_with_ecology_refusing

    center = over_http
    key = bundle_with_ecology_refusing(center, smtp[0])
    center.complete(key, "Task_combined_answer", "window", {"issueGranted": True, "answerText": "两项准予，一项不予"})
    signed_before = _documents(worker_settings)
    _revoke(center, "housing_chief")
    worker = Worker(EngineClient("http://engine.test/engine-rest", app.config["TEST_TOKENS"]["worker"],
                                 session=center.http),
                    {t: center.handlers[t] for t in ("certificate", "decision-letter")}, worker_id="w", threads=1)
    while worker.run_once():
        pass
    assert _documents(worker_settings) == signed_before
    [refusal] = _entries(center, key, "authorization-refused")
    assert (refusal.details["department"], refusal.details["decidedBy"]) == ("housing", "housing_chief")
    assert _entries(center, key, "seal-applied") == []
    with center.sessions.begin() as session:
        [incident] = session.scalars(sa.select(Incident).where(Incident.instance_id == center.instance_id(key)))
        assert "区建设管理委员会" in incident.message and "黄蕾" in incident.message
        authorizations.grant(session, username="housing_chief", department="housing", kind=authorizations.CHIEF,
                             powers=["decide", "pre-review", "seal"], valid_from=date(2026, 1, 5),
                             valid_to=date(2026, 12, 31), signed_by="区建设管理委员会主任")
        external.set_retries(session, incident.configuration, 1, actor="supervisor")
    while worker.run_once():
        pass
    assert [(e.details["topic"], e.details["department"], e.details["decidedBy"])
            for e in _entries(center, key, "seal-applied")] == [
        ("certificate", "housing", "housing_chief"), ("certificate", "market", "market_chief"),
        ("decision-letter", "ecology", "ecology_chief")]
    assert len(list(worker_settings.documents_dir.rglob("证照-*.pdf"))) == 2
    assert [p.name for p in worker_settings.documents_dir.rglob("不予许可决定书-*.pdf")] == ["不予许可决定书-ecology.pdf"]
