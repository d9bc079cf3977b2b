"""The designers' pages over the Flask test client: upload a file, read its report, confirm to deploy; the
modeler's save answers with findings and refuses a stale revision; only designers get in."""
from __future__ import annotations

import io
import json
import re

import pytest
import sqlalchemy as sa

from api import create_app, state
from engine import deploy, identity, runtime
from engine.models import ProcessDefinition, ProcessDraft, ProcessInstance, UserTask
from engine.settings import PROJECT_ROOT

from .conftest import BPMN_DIR
from .test_web_pages import PASSWORD, _csrf, sign_in

CONSULTATION = BPMN_DIR / "design" / "consultation.bpmn"


@pytest.fixture
def designer(settings, clock):
    app = create_app(settings, clock=clock, test_config={"TESTING": True})
    with state(app).sessions.begin() as session:
        identity.create_user(session, "designer", PASSWORD, groups=["designer"])
        identity.create_user(session, "clerk", PASSWORD, groups=["window-clerk"])
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    sign_in(client, "designer")
    yield app, client
    state(app).engine.dispose()


def _upload(client, name: str, data: bytes):
    token = _csrf(client.get("/design").get_data(as_text=True))
    return client.post("/design/drafts", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _definitions(app, key: str) -> list[tuple[int, str]]:
    with state(app).sessions.begin() as session:
        return [(d.version, d.deployed_by) for d in session.scalars(
            sa.select(ProcessDefinition).where(ProcessDefinition.key == key).order_by(ProcessDefinition.version))]


def test_upload_shows_the_report_and_deploys_only_on_confirmation(designer):
    app, client = designer
    answer = _upload(client, "consultation.bpmn", CONSULTATION.read_bytes())
    assert answer.status_code == 302
    report = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "错误 0 条，警告 0 条。" in report and "未发现问题：草稿可以部署。" in report, report
    assert _definitions(app, "consultation") == []  # nothing deployed before the designer confirms
    deployed = client.post(answer.headers["Location"] + "/deploy",
                           data={"csrf_token": _csrf(report), "revision": "1"}, follow_redirects=True)
    page = deployed.get_data(as_text=True)
    assert deployed.status_code == 200 and "consultation" in page
    assert _definitions(app, "consultation") == [(1, "designer")]


def test_a_file_with_errors_is_reported_in_chinese_and_cannot_be_deployed(designer):
    app, client = designer
    broken = CONSULTATION.read_bytes().replace(b'targetRef="End_answered"', b'targetRef="End_nowhere"')
    answer = _upload(client, "consultation.bpmn", broken)
    report = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'class="finding-error"' in report and "Flow_to_end" in report
    row = re.search(r'<tr class="finding-error" data-element="Flow_to_end">.*?</tr>', report, re.S).group(0)
    assert "targetRef 引用的“End_nowhere”没有对应的流程节点。" in row, row
    assert re.search(r"<button type=\"submit\" disabled>", report)
    refused = client.post(answer.headers["Location"] + "/deploy", data={"csrf_token": _csrf(report), "revision": "1"},
                          follow_redirects=True)
    assert "草稿中有错误，请修正后再部署。" in refused.get_data(as_text=True)
    assert _definitions(app, "consultation") == []


def test_the_modeler_saves_a_revision_answers_with_findings_and_refuses_a_stale_one(designer):
    app, client = designer
    with state(app).sessions.begin() as session:
        deploy.deploy(session, [(CONSULTATION.name, CONSULTATION.read_bytes())], actor="test")
    home = client.get("/design").get_data(as_text=True)
    definition_id = re.search(r'name="definition" value="([^"]+)"', home).group(1)
    opened = client.post("/design/drafts", data={"csrf_token": _csrf(home), "definition": definition_id,
                                                 "open": "modeler"})
    modeler = client.get(opened.headers["Location"]).get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="modeler-data">(.*?)</script>', modeler,
                                re.S).group(1))
    assert data["revision"] == 1 and 'id="consultation"' in data["xml"]
    assert {"key": "section_review", "title": "负责人审核"} in data["forms"] and "certificate" in data["topics"]
    assert "${department}:chief-representative" in data["groups"]
    unnamed = data["xml"].replace(' name="承办审查"', "")
    headers = {"X-CSRFToken": _csrf(modeler)}
    saved = client.post(data["saveUrl"], json={"xml": unnamed, "revision": 1}, headers=headers).get_json()
    assert saved["saved"] and saved["revision"] == 2
    assert any(f["code"] == "label-required" and f["elementId"] == "Task_review" for f in saved["findings"])
    stale = client.post(data["saveUrl"], json={"xml": data["xml"], "revision": 1}, headers=headers)
    assert stale.status_code == 409 and not stale.get_json()["saved"]
    assert "designer" in stale.get_json()["message"]
    with state(app).sessions.begin() as session:
        assert session.scalar(sa.select(ProcessDraft.xml)) == unnamed
    bad = client.post(data["saveUrl"], json={"xml": 5}, headers=headers)
    assert bad.status_code == 400 and not bad.get_json()["saved"]


def test_only_designers_reach_the_design_pages(designer):
    app, client = designer
    client.post("/sign-out", data={"csrf_token": _csrf(client.get("/design").get_data(as_text=True))})
    sign_in(client, "clerk")
    assert client.get("/design").status_code == 403


def test_every_process_of_the_center_opens_clean_in_the_modeler(designer):
    """What the center runs today has no finding: a designer starts from a clean report."""
    app, client = designer
    with state(app).sessions.begin() as session:
        result = deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        ids = [d.id for d in result.new_definitions]
    home = client.get("/design").get_data(as_text=True)
    for definition_id in ids:
        opened = client.post("/design/drafts", data={"csrf_token": _csrf(home), "definition": definition_id})
        report = client.get(opened.headers["Location"]).get_data(as_text=True)
        assert 'class="finding-' not in report, (definition_id, report)


def test_versions_say_who_deployed_when_the_diff_marks_changes_and_cases_move_after_a_dry_run(designer):
    app, client = designer
    with state(app).sessions.begin() as session:
        deploy.deploy(session, [(CONSULTATION.name, CONSULTATION.read_bytes())], actor="designer")
        waiting = runtime.start_instance(session, "consultation", business_key="ZX-1", actor="test").id
        deploy.deploy(session, [(CONSULTATION.name, (BPMN_DIR / "design" / "consultation_v2.bpmn").read_bytes())],
                      actor="designer")
    listing = client.get("/design/processes/consultation").get_data(as_text=True)
    rows = re.findall(r"<tr><td>(\d)", listing)
    assert rows == ["2", "1"] and listing.count("<td>designer</td>") == 2
    assert "/design/processes/consultation/migrate?from=1&amp;to=2" in listing
    diff = client.get("/design/processes/consultation/diff?old=1&new=2").get_data(as_text=True)
    assert re.search(r'class="diff-added"><td>[^<]+</td><td>答复审核 <code>Task_answer</code>', diff)
    assert re.search(r'class="diff-changed"><td>[^<]+</td><td>承办审查（书面） <code>Task_review</code>', diff)
    diagrams = json.loads(re.search(r'id="diagram-data">(.*?)</script>', diff, re.S).group(1))
    assert diagrams[1]["elements"]["Task_answer"] == {"marker": "added"}
    assert diagrams[0]["elements"]["Task_review"] == {"marker": "changed"}
    dry_run = client.get("/design/processes/consultation/migrate?from=1&to=2").get_data(as_text=True)
    assert "ZX-1" in dry_run and f'name="instance" value="{waiting}"' in dry_run
    with state(app).sessions.begin() as session:  # the dry run wrote nothing
        assert session.get(ProcessInstance, waiting).definition_id.startswith("consultation:1:")
    moved = client.post("/design/processes/consultation/migrate",
                        data={"csrf_token": _csrf(dry_run), "from": "1", "to": "2", "instance": waiting},
                        follow_redirects=True)
    assert moved.status_code == 200
    with state(app).sessions.begin() as session:
        assert session.get(ProcessInstance, waiting).definition_id.startswith("consultation:2:")
        task = session.scalar(sa.select(UserTask).where(UserTask.instance_id == waiting))
        assert (task.activity_id, task.name) == ("Task_review", "承办审查（书面）")


def _chain_model(tasks: int) -> bytes:
    """A Camunda process of ``tasks`` user tasks in a row, drawn: about 450 bytes a task."""
    import sys

    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    from design_checks import chain

    return chain(tasks)


def test_a_two_megabyte_model_is_reported_once_and_every_view_reads_the_report(designer, monkeypatch):
    """A 2 MB model inside the 5 MB limit: SpiffWorkflow's parser recurses once per element and gives up —
    a finding, not a 500; the check runs when the draft is stored, and the pages never run it again."""
    app, client = designer
    model = _chain_model(4800)
    assert 2_000_000 < len(model) < state(app).services.settings.max_bpmn_bytes
    from werkzeug.test import EnvironBuilder

    token = _csrf(client.get("/design").get_data(as_text=True))
    body = EnvironBuilder(path="/design/drafts", method="POST", content_type="multipart/form-data",
                          data={"csrf_token": token, "file": (io.BytesIO(model), "long_chain.bpmn")})
    environ = body.get_environ()
    try:  # a body this large is spooled to a temporary file, closed here
        answer = client.open(environ)
    finally:
        environ["wsgi.input"].close()
        body.close()
    assert answer.status_code == 302

    def no_check(*_args, **_kwargs):
        raise AssertionError("a view checked the model again")
    from engine import lint
    monkeypatch.setattr(lint, "check", no_check)
    for _ in range(2):
        report = client.get(answer.headers["Location"])
        assert report.status_code == 200
        assert 'class="finding-error"' in report.get_data(as_text=True)
    modeler = client.get(answer.headers["Location"] + "/modeler")
    assert modeler.status_code == 200
    data = json.loads(re.search(r'id="modeler-data">(.*?)</script>', modeler.get_data(as_text=True), re.S).group(1))
    assert any(f["code"] == "parse" for f in data["findings"])
