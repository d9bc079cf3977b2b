"""Drafts: a designer's file is kept whatever it holds, saved only over the revision it edited, and deployed
only as the revision whose report was confirmed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import deploy, drafts, lint
from engine.errors import Conflict, DeploymentError, InvalidInput
from engine.models import AuditEntry, ProcessDefinition
from engine.settings import PROJECT_ROOT

INTAKE = PROJECT_ROOT / "processes" / "window_intake.bpmn"


def CHECK(data: bytes, resource: str) -> list:
    """validate + lint with the product's forms (the pages add worker topics and known processes)."""
    return lint.check(data, resource, lint.LintContext(forms_dir=PROJECT_ROOT / "forms"),
                      lint.load_config(PROJECT_ROOT / "processes"))


def test_a_draft_keeps_any_text_and_saves_over_its_own_revision_only(sessions):
    with sessions.begin() as session:
        draft_id = drafts.create_draft(session, b"<not-bpmn", "mine", actor="designer", check=CHECK).id
    with sessions.begin() as session:
        draft = drafts.save_draft(session, draft_id, "<still-not/>", revision=1, actor="designer", check=CHECK)
        assert (draft.revision, draft.resource_name, draft.xml) == (2, "mine.bpmn", "<still-not/>")
    with pytest.raises(Conflict, match="since revision 1") as refused:
        with sessions.begin() as session:
            drafts.save_draft(session, draft_id, "<lost/>", revision=1, actor="other", check=CHECK)
    assert refused.value.code == "draft.stale" and refused.value.params["revision"] == 2
    with sessions.begin() as session:
        assert drafts.get_draft(session, draft_id).xml == "<still-not/>"


@pytest.mark.settings(max_bpmn_bytes=100)
def test_a_draft_too_large_or_not_utf8_is_refused(sessions):
    with pytest.raises(InvalidInput, match="at most 100 bytes"):
        with sessions.begin() as session:
            drafts.create_draft(session, b"x" * 101, "big.bpmn", actor="designer", check=CHECK)
    with pytest.raises(InvalidInput, match="not UTF-8"):
        with sessions.begin() as session:
            drafts.create_draft(session, "流程".encode("gbk"), "gbk.bpmn", actor="designer", check=CHECK)


def test_deploying_a_draft_makes_a_version_and_a_stale_revision_is_refused(sessions):
    with sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        first = deploy.latest_definition(session, "window_intake")
        draft = drafts.draft_from_definition(session, first.id, actor="designer", check=CHECK)
        draft_id, base = draft.id, draft.based_on
    assert base == first.id
    changed = INTAKE.read_text(encoding="utf-8").replace('name="综合窗口收件"', 'name="综合窗口收件登记"', 1)
    assert changed != INTAKE.read_text(encoding="utf-8")
    with sessions.begin() as session:
        drafts.save_draft(session, draft_id, changed, revision=1, actor="designer", check=CHECK)
    with pytest.raises(Conflict):
        with sessions.begin() as session:
            drafts.deploy_draft(session, draft_id, revision=1, actor="designer")
    with sessions.begin() as session:
        result = drafts.deploy_draft(session, draft_id, revision=2, actor="designer")
        assert [(d.key, d.version, d.deployed_by) for d in result.new_definitions] == [("window_intake", 2, "designer")]
        assert drafts.get_draft(session, draft_id).deployed_revision == 2
    with sessions.begin() as session:
        actions = session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert "draft.create" in actions and actions[-1] == "deploy"


def test_a_broken_draft_does_not_deploy_and_writes_nothing(sessions):
    with sessions.begin() as session:
        draft_id = drafts.create_draft(session, b"<bpmn:definitions/>", "broken.bpmn", actor="designer",
                                       check=CHECK).id
    with pytest.raises(DeploymentError):
        with sessions.begin() as session:
            drafts.deploy_draft(session, draft_id, revision=1, actor="designer")
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessDefinition)) == 0
        assert drafts.get_draft(session, draft_id).deployed_revision is None


def test_a_blank_draft_parses_and_can_be_deleted(sessions):
    with sessions.begin() as session:
        draft = drafts.blank_draft(session, actor="designer", check=CHECK)
        draft_id, xml = draft.id, draft.xml
    assert 'isExecutable="true"' in xml and "Process_new" not in xml
    tree = deploy.read_bpmn(xml.encode("utf-8"), "blank.bpmn", 10_000)
    assert deploy.xsd_problems(tree, "blank.bpmn") == []
    with sessions.begin() as session:
        drafts.delete_draft(session, draft_id, actor="designer")
    with sessions.begin() as session:
        assert drafts.list_drafts(session) == []


def test_the_report_is_computed_when_a_revision_is_saved_and_read_after(sessions):
    """A view reads the stored report; only a save (or a report of another revision) runs the check."""
    calls: list[str] = []

    def counting(data: bytes, resource: str) -> list:
        calls.append(resource)
        return CHECK(data, resource)

    with sessions.begin() as session:
        draft_id = drafts.create_draft(session, INTAKE.read_bytes(), "intake.bpmn", actor="designer",
                                       check=counting).id
    assert calls == ["intake.bpmn"]
    for _ in range(3):
        with sessions.begin() as session:
            draft = drafts.get_draft(session, draft_id)
            assert drafts.report_of(session, draft, counting) == CHECK(INTAKE.read_bytes(), "intake.bpmn") == []
    assert calls == ["intake.bpmn"]
    broken = INTAKE.read_text(encoding="utf-8").replace('sourceRef="', 'sourceRef="nowhere_', 1)
    with sessions.begin() as session:
        draft = drafts.save_draft(session, draft_id, broken, revision=1, actor="designer", check=counting)
        assert (draft.report_revision, drafts.has_errors(drafts.report_of(session, draft, counting))) == (2, True)
    assert len(calls) == 2
    with sessions.begin() as session:  # a draft from before reports were kept: checked once, then stored
        draft = drafts.get_draft(session, draft_id)
        draft.report, draft.report_revision = None, None
    with sessions.begin() as session:
        found = drafts.report_of(session, drafts.get_draft(session, draft_id), counting)
        assert found and found[0].code == "reference"
    with sessions.begin() as session:
        drafts.report_of(session, drafts.get_draft(session, draft_id), counting)
    assert len(calls) == 3


def test_a_draft_with_a_nul_character_is_refused_not_stored(sessions):
    with pytest.raises(InvalidInput, match="NUL"):
        with sessions.begin() as session:
            drafts.create_draft(session, b"<x>\x00</x>", "nul.bpmn", actor="designer", check=CHECK)
