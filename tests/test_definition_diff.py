"""What changed between two versions, element by element, with the old and new value of each aspect;
moving shapes in the diagram is reported apart from changes to the process."""
from __future__ import annotations

import json

import pytest

from engine import deploy as deploying
from engine.definition_diff import diff_definitions, diff_xml, elements_of
from engine.errors import InvalidInput
from engine.models import ProcessDefinition
from engine.settings import PROJECT_ROOT

from .conftest import BPMN_DIR, bpmn


def read(path: str) -> str:
    return (BPMN_DIR / path).read_text(encoding="utf-8")


def aspects(diff, element_id: str) -> dict[str, tuple]:
    return {c.aspect: (c.old, c.new) for c in diff.change_of(element_id).changes}


def test_added_removed_changed_and_moved_elements_of_two_deployed_versions(sessions):
    with sessions.begin() as session:
        [v1] = deploying.deploy(session, [bpmn("versions/review_v1.bpmn")]).new_definitions
        [v2] = deploying.deploy(session, [bpmn("versions/review_v2.bpmn")]).new_definitions
        diff = diff_definitions(session.get(ProcessDefinition, v1.id), session.get(ProcessDefinition, v2.id))
    assert (diff.old_definition_id, diff.new_definition_id) == (v1.id, v2.id)
    assert [(e.id, e.kind, e.name) for e in diff.added] == [
        ("Flow_review_second_look", "sequenceFlow", None), ("Flow_second_look_end", "sequenceFlow", None),
        ("second_look", "userTask", "Second look")]
    assert [e.id for e in diff.removed] == ["Flow_review_end"]
    assert [c.id for c in diff.changed] == ["end", "review"]
    assert aspects(diff, "review") == {
        "name": ("Review", "Review the application"),
        "outgoing": ("Flow_review_end", "Flow_review_second_look"),
        "camunda:candidateGroups": ("approval-clerk", "approval-clerk,section-head")}
    assert diff.change_of("review").aspects[:2] == ("name", "outgoing"), "type and name first, then the flows"
    assert aspects(diff, "end") == {"incoming": ("Flow_review_end", "Flow_second_look_end")}
    assert diff.moved == ["Flow_start_review", "start"], "drawn elsewhere, otherwise the same"
    assert not diff.unchanged
    document = json.loads(json.dumps(diff.as_dict()))
    assert document["changed"][1]["changes"][0] == {"aspect": "name", "old": "Review", "new": "Review the application"}


def test_timer_message_and_lane_changes_are_aspects_of_their_elements():
    timers = diff_xml(read("camunda/timer_boundary.bpmn"), read("versions/timer_boundary_v2.bpmn"), "timer_boundary")
    assert aspects(timers, "review_overdue") == {"name": ("3 days passed", "5 days passed"),
                                                  "event": ("timer timeDuration=P3D", "timer timeDuration=P5D")}
    assert aspects(timers, "Flow_to_end") == {"targetRef": ("end_done", "report")}
    renamed = diff_xml(read("camunda/message_catch.bpmn"), read("versions/message_catch_v2.bpmn"), "message_catch")
    [message] = renamed.changed
    assert (message.id, message.kind, message.scope) == ("Message_supplement_received", "message", "")
    assert aspects(renamed, message.id) == {"name": ("supplement_received", "supplement_arrived")}
    lanes = diff_xml(read("spiff/five_step.bpmn"), read("versions/five_step_v2_spiff.bpmn"), "five_step")
    old, new = aspects(lanes, "Lane_approval_clerk")["members"]
    assert set(new.split(", ")) - set(old.split(", ")) == {"check"}


def test_extension_elements_scripts_and_multi_instance_settings_are_compared():
    intake = (PROJECT_ROOT / "processes" / "window_intake.bpmn").read_text(encoding="utf-8")
    changed = intake.replace('camunda:formKey="acceptance_review"', 'camunda:formKey="acceptance_review_v2"').replace(
        'name="caseClockOnReady" value="accept"', 'name="caseClockOnReady" value="supplement-requested"')
    assert changed.count("acceptance_review_v2") == 1 and "supplement-requested\"" in changed
    diff = diff_xml(intake, changed, "window_intake")
    assert aspects(diff, "Task_acceptance_review") == {"camunda:formKey": ("acceptance_review", "acceptance_review_v2")}
    assert aspects(diff, "Task_receipt") == {"camunda:properties": ("caseClockOnReady=accept",
                                                                    "caseClockOnReady=supplement-requested")}
    multi = read("camunda/multi_instance.bpmn")
    diff = diff_xml(multi, multi.replace("${signers}", "${approvers}"), "multi_instance")
    assert aspects(diff, "sign") == {"multiInstance": ("parallel camunda:collection=${signers}, "
                                                       "camunda:elementVariable=signer",
                                                       "parallel camunda:collection=${approvers}, "
                                                       "camunda:elementVariable=signer")}
    script = read("camunda/exclusive_default.bpmn")
    edited = script.replace("total = price * qty", "total = price * qty * 2")
    assert edited != script
    diff = diff_xml(script, edited, "exclusive_default")
    [change] = diff.changed
    assert change.changes[0].aspect == "script" and change.changes[0].new.endswith("* 2")


def test_elements_of_a_subprocess_carry_their_scope_and_layout_can_be_left_out():
    found = elements_of(read("camunda/subprocess.bpmn"), "subprocess")
    assert found["inner"].scope == "inner_work" and found["inner_work"].scope == "subprocess"
    moved = read("versions/review_v1.bpmn").replace('x="180"', 'x="150"')
    assert diff_xml(read("versions/review_v1.bpmn"), moved, "review_versions").moved == ["start"]
    quiet = diff_xml(read("versions/review_v1.bpmn"), moved, "review_versions", layout=False)
    assert quiet.unchanged and quiet.moved == [] and quiet.layout_compared is False


@pytest.mark.parametrize("old,new,message", [
    ("<bpmn:definitions", "<x/>", "not well-formed"),
    (None, None, "no process with id 'missing'"),
])
def test_unreadable_documents_and_unknown_processes_are_refused(old, new, message):
    good = read("versions/review_v1.bpmn")
    with pytest.raises(InvalidInput, match=message):
        diff_xml(old or good, new or good, "review_versions" if old else "missing")
