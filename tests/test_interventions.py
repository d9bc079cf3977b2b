"""The supervisors' view of one case and what they may do to it: element states for the diagram
(across called processes, with loop and multi-instance counts, timers and incidents), and cancel,
suspend, resume, move back and retry — each with a written reason on record."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import activities, deploy, external, interventions, runtime
from engine.errors import BadUserRequest, InvalidInput
from engine.models import AuditEntry, ExternalTask, Incident, ProcessInstance

from .paths import ENTERPRISE, FOOD_CHANGE, GRANT, PHARMACY, RESTAURANT_BUNDLE


def states_of(center, key) -> dict[str, dict[str, activities.ElementState]]:
    with center.sessions.begin() as session:
        loaded = runtime.load(session, center.instance_id(key))
        return {s.definition.key: s.elements for s in activities.activity_states(session, loaded)}


def at_decision(center) -> str:
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    assert center.waiting(key) == ["Task_chief_decision"]
    return key


def test_element_states_span_the_called_processes_and_count_loops(center):
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    for _ in range(2):  # the supplement loop passes the review twice before the acceptance
        center.complete(key, "Task_acceptance_review", "market_clerk", {
            "acceptance": "supplement", "opinion": "材料不齐", "missingItems": ["营业执照"]})
        center.work()
        center.message("supplement-received", key, {"submittedMaterials": [{"code": "application-form"}]})
        center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    states = states_of(center, key)
    assert list(states) == ["window_intake", "approval_decision"]  # the case's own diagram first
    intake = states["window_intake"]
    assert intake["Task_acceptance_review"].completed == 3 and intake["Task_acceptance_review"].active == 0
    assert intake["Task_supplement_notice"].completed == 2
    assert intake["Call_decision"].active == 1
    assert states["approval_decision"]["Task_chief_decision"].active == 1


def test_a_bundle_counts_each_departments_instance_and_a_survey_shows_its_timers(center):
    key = center.receive(RESTAURANT_BUNDLE, ENTERPRISE, [{"code": c} for c in ("application-form", "layout", "drainage-plan")])
    center.work()
    center.complete(key, "Task_bundle_review", "window", {"acceptance": "accept", "opinion": "一窗受理"})
    center.work()
    states = states_of(center, key)
    assert states["bundle_case"]["Call_members"].active >= 1
    # three departments: two hand over to their survey first, one representative decides on the spot
    assert states["approval_decision"]["Call_site_survey"].active == 2
    assert states["approval_decision"]["Task_chief_decision"].active == 1
    assert states["site_survey"]["Task_handoff"].active == 2
    survey = center.receive(PHARMACY, ENTERPRISE, [{"code": c} for c in ("application-form", "pharmacist", "premises")])
    center.work()
    center.complete(survey, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    center.complete(survey, "Task_handoff", "market_clerk", {"surveyScope": "核查经营场所", "surveyLimitDays": 2})
    timers = {a: e.timers for a, e in states_of(center, survey)["site_survey"].items() if e.timers}
    assert sorted(timers) == ["Timer_survey_overdue", "Timer_survey_warning"]


def test_a_failed_step_shows_as_an_incident_and_a_retry_moves_the_case_on(center):
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    with center.sessions.begin() as session:
        [locked] = external.fetch_and_lock(session, "w", [external.TopicRequest("shared-data", 1000)])
        external.failure(session, locked.row.id, "w", error_message="共享数据接口超时", error_details=None,
                         retries=0, retry_timeout_ms=0)
    assert states_of(center, key)["window_intake"]["Task_shared_data"].incidents == 1
    with center.sessions.begin() as session:
        incident = session.scalars(sa.select(Incident)).one()
        interventions.retry_incident(session, incident.id, actor="supervisor")
    assert center.work() == ["shared-data", "materials-check"]
    assert center.waiting(key) == ["Task_acceptance_review"]
    with center.sessions.begin() as session:
        assert session.get(Incident, incident.id).resolved_at is not None


def test_moving_back_reopens_an_earlier_task_with_a_reason_on_record(center):
    key = at_decision(center)
    instance = center.instance_id(key)
    with center.sessions.begin() as session:
        steps = interventions.earlier_steps(session, runtime.load(session, instance))
    assert [(s.activity_id, s.completed_by) for s in steps] == [("Task_acceptance_review", "market_clerk")]
    with center.sessions.begin() as session, pytest.raises(InvalidInput, match="written reason"):
        interventions.move_back(session, instance, steps[0].task_id, actor="supervisor", reason="")
    with center.sessions.begin() as session:
        interventions.move_back(session, instance, steps[0].task_id, actor="supervisor",
                                reason="受理审查误将不全的材料认定为齐全")
    assert center.waiting(key) == ["Task_acceptance_review"]  # the representative's task is gone
    with center.sessions.begin() as session:
        moved = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "move-back")).one()
        assert moved.actor == "supervisor" and moved.details["reason"] == "受理审查误将不全的材料认定为齐全"
        assert moved.details["fromActivityIds"] == ["Task_chief_decision"]
        assert session.scalars(sa.select(ExternalTask)).all() == []
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "复核后受理"})
    center.work()
    center.complete(key, "Task_chief_decision", "market_chief", GRANT)
    center.work()
    with center.sessions.begin() as session:  # after the decision, nothing before it can be reopened
        assert interventions.earlier_steps(session, runtime.load(session, instance)) == []
        with pytest.raises(BadUserRequest, match="not an earlier user task"):
            interventions.move_back(session, instance, steps[0].task_id, actor="supervisor", reason="再次复核")


def test_cancel_suspend_and_resume_need_a_reason_and_are_on_record(center):
    key = at_decision(center)
    instance = center.instance_id(key)
    for action in (interventions.cancel, interventions.suspend, interventions.resume):
        with center.sessions.begin() as session, pytest.raises(InvalidInput, match="written reason"):
            action(session, instance, actor="supervisor", reason="  ")
    with center.sessions.begin() as session:
        interventions.suspend(session, instance, actor="supervisor", reason="申请人涉嫌提供虚假材料，待核查")
    assert center.status(key) == "suspended"
    with center.sessions.begin() as session:
        interventions.resume(session, instance, actor="supervisor", reason="核查完毕，材料真实")
        interventions.cancel(session, instance, actor="supervisor", reason="申请人书面撤回申请")
    assert center.status(key) == "cancelled"
    with center.sessions.begin() as session:
        said = [(e.action, e.details.get("reason")) for e in session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.in_(["suspend", "resume", "cancel"])).order_by(AuditEntry.id))]
    assert said == [("suspend", "申请人涉嫌提供虚假材料，待核查"), ("resume", "核查完毕，材料真实"),
                    ("cancel", "申请人书面撤回申请")]


def test_a_versions_heat_map_counts_what_waits_in_it_even_inside_called_processes(center):
    at_decision(center), at_decision(center)
    center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])  # still at the shared data
    with center.sessions.begin() as session:
        decision = deploy.latest_definition(session, "approval_decision")
        intake = deploy.latest_definition(session, "window_intake")
        heat = activities.definition_statistics(session, decision.id)
        assert {a: (load.waiting, load.incidents) for a, load in heat.items()} == {"Task_chief_decision": (2, {})}
        [locked] = external.fetch_and_lock(session, "w", [external.TopicRequest("shared-data", 1000)])
        external.failure(session, locked.row.id, "w", error_message="超时", error_details=None, retries=0,
                         retry_timeout_ms=0)
    with center.sessions.begin() as session:
        intake_heat = activities.definition_statistics(session, intake.id)
        assert intake_heat["Task_shared_data"].waiting == 1
        assert intake_heat["Task_shared_data"].incidents == {"failedExternalTask": 1}
        assert "Call_decision" not in intake_heat  # the two decisions wait inside the called process
        assert activities.running_instances(session, intake.id) == 3
        assert activities.definition_statistics(session, decision.id, ProcessInstance.department == "culture") == {}
        decision = session.get(type(decision), decision.id)
        assert activities.element_names(decision)["Task_chief_decision"] == "首席事务代表决定并用印"
