"""The holes found over REST, each tried again as the one who found it would (another department's credentials
against a real case), and what the access policy keeps: who took part outlives the task, secrets never show,
a message cannot reach a case its sender does not see. The route-by-route proof is test_access_matrix.py."""
from __future__ import annotations

from dataclasses import replace
from uuid import UUID

import pytest
import sqlalchemy as sa
from alembic import command

from api import create_app, state
from engine import identity, involvement, runtime
from engine.migrate import alembic_config, upgrade
from engine.models import AuditEntry, Involvement, ProcessInstance, UserTask

from .paths import ENTERPRISE, FOOD_CHANGE, FOOD_LICENCE, at_decision

PLANNING_ITEM = "310118-GHZY-001"
STAFF = ("window", "market_clerk", "planning_clerk", "market_head", "planning_head", "market_chief", "supervisor",
         "market_supervisor")


@pytest.fixture
def rest(center, settings, clock, worker_settings):
    """The REST API over the test center, and a caller per staff member: ``rest(user, method, url, json)``."""
    app = create_app(replace(settings, documents_dir=worker_settings.documents_dir), clock=clock,
                     test_config={"TESTING": True})
    with state(app).sessions.begin() as session:
        identity.create_user(session, "market_supervisor", None, groups=["supervisor"], department="market")
        session.flush()
        tokens = {user: identity.create_token(session, user, "access test") for user in STAFF}
    client = app.test_client()

    def call(user: str, method: str, url: str, json=None):
        return client.open(f"/engine-rest{url}", method=method, json=json,
                           headers={"Authorization": f"Bearer {tokens[user]}"})
    yield call
    state(app).engine.dispose()


def test_another_departments_clerk_neither_lists_nor_reads_a_case_nor_its_applicants_data(center, rest):
    market = at_decision(center)
    planning = center.receive(PLANNING_ITEM, ENTERPRISE, [{"code": "application-form"}, {"code": "drawings"}])
    center.work()
    market_id, planning_id = center.instance_id(market), center.instance_id(planning)
    listed = [i["businessKey"] for i in rest("planning_clerk", "GET", "/process-instance").json]
    assert listed == [planning]
    for url in (f"/process-instance/{market_id}", f"/process-instance/{market_id}/variables",
                f"/process-instance/{market_id}/variables/applicant", f"/process-instance/{market_id}/case-clock"):
        hidden = rest("planning_clerk", "GET", url)
        assert hidden.status_code == 404 and ENTERPRISE["creditCode"] not in hidden.get_data(as_text=True)
    clocks = [c["businessKey"] for c in rest("planning_clerk", "GET", "/case-clock").json]
    assert clocks == [planning]
    assert ENTERPRISE["creditCode"] in rest("market_clerk", "GET", f"/process-instance/{market_id}/variables"
                                            ).get_data(as_text=True)  # the clerk who accepted it handles it
    assert rest("market_clerk", "GET", f"/process-instance/{planning_id}").status_code == 404


def test_another_departments_clerk_and_head_cannot_pause_or_extend_its_clock(center, rest):
    market_id = center.instance_id(at_decision(center))
    pause = {"procedure": "expert-review", "legalBasis": "行政许可法第四十五条", "expectedDays": 3,
             "applicantNotice": "专家评审约3个工作日"}
    before = rest("market_head", "GET", f"/process-instance/{market_id}/case-clock").json
    assert rest("planning_clerk", "POST", f"/process-instance/{market_id}/case-clock/suspension", pause).status_code == 404
    assert rest("planning_clerk", "POST", f"/process-instance/{market_id}/case-clock/resume", {"result": "x"}
                ).status_code == 404
    extension = {"reason": "需联合会审", "applicantNotice": "延长十个工作日"}
    assert rest("planning_head", "POST", f"/process-instance/{market_id}/case-clock/extension", extension
                ).status_code == 404
    assert rest("market_head", "GET", f"/process-instance/{market_id}/case-clock").json == before  # nothing moved
    extended = rest("market_head", "POST", f"/process-instance/{market_id}/case-clock/extension", extension)
    assert extended.status_code == 200 and extended.json["extensionDays"] == 10  # the case's own head may


def test_a_departments_supervisor_cannot_suspend_cancel_or_read_another_departments_case(center, rest):
    planning = center.receive(PLANNING_ITEM, ENTERPRISE, [{"code": "application-form"}, {"code": "drawings"}])
    center.work()
    planning_id = center.instance_id(planning)
    for method, url, body in (("PUT", f"/process-instance/{planning_id}/suspended", {"suspended": True}),
                              ("DELETE", f"/process-instance/{planning_id}?deleteReason=x", None),
                              ("GET", f"/process-instance/{planning_id}/variables", None)):
        assert rest("market_supervisor", method, url, body).status_code == 404
    assert rest("market_supervisor", "GET", f"/task?processInstanceId={planning_id}").json == []
    assert center.status(planning) == "running"
    assert rest("supervisor", "PUT", f"/process-instance/{planning_id}/suspended", {"suspended": True}
                ).status_code == 204  # the center's supervisors oversee every department


def test_unclaiming_a_task_one_cannot_see_is_refused_and_leaves_no_trace(center, rest):
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    [review] = center.tasks(key)
    assert rest("planning_clerk", "POST", f"/task/{review.id}/unclaim", {}).status_code == 404
    assert rest("market_clerk", "POST", f"/task/{review.id}/unclaim", {}).status_code == 204  # nobody had claimed it
    assert rest("market_clerk", "POST", f"/task/{review.id}/claim", {"userId": "market_clerk"}).status_code == 204
    assert rest("window", "POST", f"/task/{review.id}/unclaim", {}).status_code == 404
    with center.sessions.begin() as session:
        actions = session.scalars(sa.select(AuditEntry.actor + ":" + AuditEntry.action)
                                  .where(AuditEntry.entity_id == review.id)).all()
    assert actions == ["market_clerk:claim"]


def test_a_message_cannot_reach_a_case_its_sender_does_not_see(center, rest):
    key = center.receive(FOOD_LICENCE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {
        "acceptance": "supplement", "opinion": "材料不齐", "missingItems": ["经营场所平面布局图"]})
    center.work()
    message = {"messageName": "supplement-received", "businessKey": key,
               "processVariables": {"submittedMaterials": {"value": []}}}
    refused = rest("planning_clerk", "POST", "/message", message)
    assert refused.status_code == 400 and "no process definition or execution matches" in refused.json["message"]
    assert "Task_acceptance_review" not in center.waiting(key)  # still waiting for the applicant


def test_secrets_never_show_in_a_variable_view_even_of_a_case_from_before(center, rest):
    """A case received before the rating token left the variables still carries one: no view shows it."""
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    instance_id = center.instance_id(key)
    [review] = center.tasks(key)
    with center.sessions.begin() as session:
        loaded = runtime.load(session, instance_id)
        loaded.workflow.get_task_from_id(UUID(review.id)).data["ratingToken"] = "0123456789abcdef"
        loaded.workflow.data["ratingToken"] = "0123456789abcdef"
        runtime.save(session, loaded, "test", "test-old-state", {})
    for url in (f"/process-instance/{instance_id}/variables", f"/task/{review.id}/form-variables"):
        shown = rest("market_clerk", "GET", url)
        assert shown.status_code == 200 and "ratingToken" not in shown.json and "caseNumber" in shown.json
    assert rest("market_clerk", "GET", f"/process-instance/{instance_id}/variables/ratingToken").status_code == 404


def test_who_took_part_is_kept_after_the_task_and_filled_in_for_an_existing_database(center, db_engine):
    key = at_decision(center)
    instance_id = center.instance_id(key)
    with center.sessions.begin() as session:
        parties = set(session.execute(sa.select(Involvement.kind, Involvement.party)
                                      .where(Involvement.instance_id == instance_id)).all())
    assert {("group", "market:approval-clerk"), ("group", "market:chief-representative")} <= parties
    config = alembic_config(db_engine)
    with db_engine.begin() as connection:  # a database from before the table: the upgrade fills it in
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    upgrade(db_engine)
    with center.sessions.begin() as session:
        filled = set(session.execute(sa.select(Involvement.kind, Involvement.party)
                                     .where(Involvement.instance_id == instance_id)).all())
        # from the audit log the upgrade also names who completed each step
        assert filled == parties | {("user", "market_clerk")}
        involvement.involve(session, instance_id, users=["market_clerk"], groups=["market:approval-clerk"])
        assert session.scalar(sa.select(sa.func.count()).select_from(Involvement)
                              .where(Involvement.instance_id == instance_id)) == len(filled)  # once each
        assert session.get(ProcessInstance, instance_id).started_by == "window"
        assert session.scalar(sa.select(UserTask.activity_id).where(UserTask.instance_id == instance_id)) == \
            "Task_chief_decision"
