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
from engine import deploy, identity, involvement, runtime
from engine.errors import DeploymentError
from engine.migrate import alembic_config, upgrade
from engine.models import AuditEntry, Involvement, ProcessDefinition, ProcessInstance, User, UserTask

from .conftest import BPMN_DIR
from .paths import ENTERPRISE, FOOD_CHANGE, FOOD_LICENCE, RESTAURANT_BUNDLE, at_decision

PLANNING_ITEM = "310118-GHZY-001"
PASSWORD = "access-pass-1"
MESSAGE_START = "case_submitted"
STAFF = ("window", "market_clerk", "planning_clerk", "market_head", "planning_head", "market_chief", "supervisor",
         "market_supervisor", "designer")


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
    call.app = app
    yield call
    state(app).engine.dispose()


@pytest.fixture
def pages(rest):
    """A signed-in page client per staff member (the sign-in form, as a clerk signs in)."""
    app = rest.app
    app.config["WTF_CSRF_ENABLED"] = False
    with state(app).sessions.begin() as session:
        for user in STAFF:
            session.get(User, user).password_hash = identity._HASHER.hash(PASSWORD)

    def client(user: str):
        signed = app.test_client()
        assert signed.post("/sign-in", data={"username": user, "password": PASSWORD}).status_code == 302
        return signed
    return client


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
        command.downgrade(config, "0014")
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


def test_the_clock_of_a_received_case_is_accepted_by_its_review_not_by_hand(center, rest):
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    instance_id = center.instance_id(key)
    for step, body in (("accept", {}), ("supplement-request", {"missing": ["平面图"]}), ("supplement-complete", {})):
        refused = rest("window", "POST", f"/process-instance/{instance_id}/case-clock/{step}", body)
        assert refused.status_code == 409 and "acceptance review" in refused.json["message"]
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "refuse", "opinion": "不符合条件",
                                                                    "refusalReasons": "不属于本机关职权范围"})
    center.work()  # the non-acceptance notice
    clock = rest("market_clerk", "GET", f"/process-instance/{instance_id}/case-clock").json
    assert clock["acceptance"] == "pending" and clock["closedAt"] is not None  # never accepted, closed by the refusal


def test_a_departments_supervisor_and_head_see_its_part_of_a_bundle_but_act_on_no_whole_bundle(center, rest):
    """一件事: the bundle is the center's case; the market bureau takes part with its own task."""
    key = center.receive(RESTAURANT_BUNDLE, ENTERPRISE, [{"code": c} for c in ("application-form", "layout",
                                                                                 "drainage-plan")])
    center.work()
    center.complete(key, "Task_bundle_review", "window", {"acceptance": "accept", "opinion": "一套材料齐全，一窗受理"})
    center.work()
    instance_id = center.instance_id(key)
    assert any(g.startswith("market:") for t in center.tasks(key) for g in t.candidate_groups)
    for user in ("market_supervisor", "market_head"):
        assert rest(user, "GET", f"/process-instance/{instance_id}").status_code == 200
    assert any(g.startswith("market:") for t in rest("market_supervisor", "GET", f"/task?processInstanceId={instance_id}"
                                                    ).json for g in t["candidateGroups"])
    assert rest("planning_head", "GET", f"/process-instance/{instance_id}").status_code == 404
    refused = rest("market_supervisor", "PUT", f"/process-instance/{instance_id}/suspended", {"suspended": True})
    assert refused.status_code == 403 and center.status(key) == "running"  # the whole bundle is the center's


@pytest.mark.parametrize("offer, refused", [
    ('camunda:candidateGroups="${department}:approval-clerk,designer"', "the group 'designer'"),
    ('camunda:candidateGroups="${department}:worker"', "the group '${department}:worker'"),
    ('camunda:candidateGroups="${department}:approval-clerk" camunda:assignee="designer"', "the user 'designer'"),
])
def test_a_model_cannot_offer_a_cases_task_to_those_who_handle_no_case(center, rest, offer, refused):
    """A designer who could offer the acceptance review to designers would read and decide cases: the deploy
    gate (REST, CLI and the designers' pages all deploy through it) refuses such a version."""
    from engine.settings import PROJECT_ROOT

    xml = (PROJECT_ROOT / "processes" / "window_intake.bpmn").read_text(encoding="utf-8")
    changed = xml.replace('camunda:candidateGroups="${department}:approval-clerk"', offer, 1)
    assert changed != xml
    with pytest.raises(DeploymentError) as raised, center.sessions.begin() as session:
        deploy.deploy(session, [("window_intake.bpmn", changed.encode())], actor="designer")
    problems = raised.value.problems
    assert [p["elementId"] for p in problems] == ["Task_acceptance_review"] and problems[0]["line"]
    assert refused in problems[0]["message"] and "handle" in problems[0]["message"]
    with center.sessions.begin() as session:
        versions = session.scalar(sa.select(sa.func.count()).select_from(ProcessDefinition)
                                  .where(ProcessDefinition.key == "window_intake"))
    assert versions == 1


def test_a_case_number_names_one_case_and_another_process_cannot_take_one(center, rest):
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    with center.sessions.begin() as session:
        deploy.deploy(session, [("probe.bpmn", (BPMN_DIR / "access" / "probe.bpmn").read_bytes())], actor="designer")

    def start(business_key: str):
        return rest("window", "POST", "/process-definition/key/access_probe/start",
                    {"businessKey": business_key, "variables": {"department": {"value": "planning"}}})
    taken = start(key)
    assert taken.status_code == 400 and "form of a case number" in taken.json["message"]
    tomorrow = start("QP-MARKET-20990101-0001")  # a number the engine would give out later
    assert tomorrow.status_code == 400 and "form of a case number" in tomorrow.json["message"]
    assert start("PROBE-1").status_code == 200
    with center.sessions.begin() as session:
        deploy.deploy(session, [("message_start.bpmn", (BPMN_DIR / "camunda" / "message_start.bpmn").read_bytes())],
                      actor="designer")
    by_message = rest("window", "POST", "/message", {"messageName": MESSAGE_START, "businessKey": "QP-MARKET-20990101-0002"})
    assert by_message.status_code == 400 and "form of a case number" in by_message.json["message"]
    assert rest("window", "POST", "/message", {"messageName": MESSAGE_START, "businessKey": "M-1"}).status_code == 204


def test_a_case_hands_out_only_its_own_files(center, rest, pages):
    """Another process's variables naming a case's receipt and material file open neither, and an application
    over REST cannot claim a stored file by its checksum."""
    from .test_access_matrix import _pdf

    key = center.receive(FOOD_CHANGE, ENTERPRISE, [], files={"application-form": ("申请书.pdf", _pdf())})
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    found = center.variables(key)
    receipt, [material] = found["receiptDocument"], found["submittedMaterials"]
    with center.sessions.begin() as session:
        deploy.deploy(session, [("probe.bpmn", (BPMN_DIR / "access" / "probe.bpmn").read_bytes())], actor="designer")
        runtime.start_instance(session, "access_probe", business_key="PWN-1", actor="planning_clerk", variables={
            "department": "planning", "receiptDocument": receipt, "submittedMaterials": [material]})
    planning = pages("planning_clerk")
    assert planning.get(f"/cases/{key}/materials/{material['sha256']}").status_code == 404
    for url in ("/cases/PWN-1/documents/" + receipt["file"].rsplit("/", 1)[-1],
                f"/cases/PWN-1/materials/{material['sha256']}"):
        with planning.get(url) as answer:
            assert answer.status_code == 404, url
    with pages("market_clerk").get(f"/cases/{key}/materials/{material['sha256']}") as own:
        assert own.status_code == 200 and own.data.startswith(b"%PDF")  # the case's own file, for its handler
    claimed = rest("window", "POST", "/case", {"itemCode": FOOD_CHANGE, "application": ENTERPRISE,
                                                "materials": [material]})
    assert claimed.status_code == 400 and "not received with it" in claimed.json["message"]
