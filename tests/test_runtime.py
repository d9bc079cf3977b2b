"""Every BPMN construct the engine promises, in both dialects, on both databases."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import external, messages, runtime, tasks
from engine.errors import BadUserRequest, Forbidden, ProcessFailure
from engine.models import ExternalTask, Incident, MessageSubscription, ProcessInstance

from .flows import (DIALECTS, complete, complete_only, completed_activities, fetch, start, status, user_tasks,
                    variables)


@pytest.fixture(params=DIALECTS)
def dialect(request) -> str:
    return request.param


@pytest.mark.parametrize("approved,end", [(True, "end_ok"), (False, "end_rejected")])
def test_five_step_path(sessions, deploy, dialect, approved, end):
    deploy(f"{dialect}/five_step.bpmn")
    iid = start(sessions, "five_step", business_key="QP-1", variables={"amount": 5})
    [locked] = fetch(sessions, "score")
    assert locked.variables["amount"] == 5
    with sessions.begin() as session:
        external.complete(session, locked.row.id, "w1", {"score": 7})
    [review] = user_tasks(sessions, iid)
    assert (review.activity_id, review.form_key, review.candidate_groups) == ("review", "review", ["approval-clerk"])
    assert review.business_key == "QP-1"
    complete(sessions, review, {"approved": approved})
    assert status(sessions, iid) == "completed"
    done = completed_activities(sessions, iid)
    assert end in done and ({"end_ok", "end_rejected"} - {end}).isdisjoint(done)
    assert variables(sessions, iid)["score"] == 7


def test_parallel_split_and_join(sessions, deploy, dialect):
    deploy(f"{dialect}/parallel.bpmn")
    iid = start(sessions, "parallel")
    assert [t.activity_id for t in user_tasks(sessions, iid)] == ["a", "b"]
    complete_only(sessions, iid, "a")
    assert status(sessions, iid) == "running"
    complete_only(sessions, iid, "b")
    assert status(sessions, iid) == "completed"


@pytest.mark.parametrize("price,qty,waits", [(50, 3, True), (10, 2, False)])
def test_script_and_exclusive_default(sessions, deploy, dialect, price, qty, waits):
    deploy(f"{dialect}/exclusive_default.bpmn")
    iid = start(sessions, "exclusive_default", variables={"price": price, "qty": qty})
    assert [t.activity_id for t in user_tasks(sessions, iid)] == (["big"] if waits else [])
    assert variables(sessions, iid)["total"] == price * qty
    assert status(sessions, iid) == ("running" if waits else "completed")


def test_embedded_subprocess(sessions, deploy, dialect):
    deploy(f"{dialect}/subprocess.bpmn")
    iid = start(sessions, "subprocess")
    complete_only(sessions, iid, "inner", {"inner_done": True})
    complete_only(sessions, iid, "after")
    assert status(sessions, iid) == "completed"


def test_call_activity_across_files(sessions, deploy, dialect):
    deploy(f"{dialect}/call_child.bpmn", f"{dialect}/call_parent.bpmn")
    iid = start(sessions, "call_parent")
    complete_only(sessions, iid, "child_task")
    assert variables(sessions, iid)["child_result"] == "done"
    complete_only(sessions, iid, "after_call")
    assert status(sessions, iid) == "completed"


def test_call_activity_needs_the_called_process(sessions, deploy, dialect):
    deploy(f"{dialect}/call_parent.bpmn")
    with pytest.raises(BadUserRequest, match="call_child"):
        start(sessions, "call_parent")


def test_parallel_multi_instance(sessions, deploy, dialect):
    deploy(f"{dialect}/multi_instance.bpmn")
    iid = start(sessions, "multi_instance", variables={"signers": ["li", "wang", "zhang"]})
    signs = user_tasks(sessions, iid)
    assert len(signs) == 3 and {t.activity_id for t in signs} == {"sign"}
    for task in signs:
        complete(sessions, task, {"signed": True})
    assert status(sessions, iid) == "completed"


def test_sequential_multi_instance(sessions, deploy, dialect):
    deploy(f"{dialect}/multi_instance_seq.bpmn")
    iid = start(sessions, "multi_instance_seq", variables={"signers": ["li", "wang"], "seen": []})
    for _ in range(2):
        [task] = user_tasks(sessions, iid)
        complete(sessions, task)
    assert status(sessions, iid) == "completed"
    assert variables(sessions, iid)["seen"] == ["li", "wang"]


def test_message_catch_by_business_key(sessions, deploy, dialect):
    deploy(f"{dialect}/message_catch.bpmn")
    iid = start(sessions, "message_catch", business_key="QP-7")
    other = start(sessions, "message_catch", business_key="QP-8")
    with sessions.begin() as session:
        subs = session.scalars(sa.select(MessageSubscription.message_name)
                               .where(MessageSubscription.instance_id == iid)).all()
    assert subs == ["supplement_received"]
    with sessions.begin() as session:
        result = messages.correlate(session, "supplement_received", business_key="QP-7",
                                    variables={"supplement": "id card copy"})
    assert [r.instance_id for r in result] == [iid]
    complete_only(sessions, iid, "recheck")
    assert variables(sessions, iid)["supplement"] == "id card copy"
    assert user_tasks(sessions, other) == []


def test_message_to_many_without_all_is_refused(sessions, deploy, dialect):
    deploy(f"{dialect}/message_catch.bpmn")
    start(sessions, "message_catch", business_key="A")
    start(sessions, "message_catch", business_key="B")
    with sessions.begin() as session, pytest.raises(BadUserRequest, match="2 waiting executions"):
        messages.correlate(session, "supplement_received")
    with sessions.begin() as session:
        assert len(messages.correlate(session, "supplement_received", all_matches=True)) == 2


def test_unknown_message_is_refused(sessions, deploy, dialect):
    deploy(f"{dialect}/message_catch.bpmn")
    with sessions.begin() as session, pytest.raises(BadUserRequest, match="no process definition or execution"):
        messages.correlate(session, "nobody_waits")


def test_message_start_event(sessions, deploy, dialect):
    deploy(f"{dialect}/message_start.bpmn")
    with sessions.begin() as session:
        [result] = messages.correlate(session, "case_submitted", business_key="QP-9", variables={"applicant": "Li"})
    assert result.result_type == "ProcessDefinition"
    [task] = user_tasks(sessions, result.instance_id)
    assert task.activity_id == "handle" and task.business_key == "QP-9"
    assert variables(sessions, result.instance_id)["applicant"] == "Li"


def test_event_based_gateway(sessions, deploy, dialect):
    deploy(f"{dialect}/event_gateway.bpmn")
    iid = start(sessions, "event_gateway", business_key="G1")
    with sessions.begin() as session:
        names = sorted(session.scalars(sa.select(MessageSubscription.message_name)
                                       .where(MessageSubscription.instance_id == iid)))
    assert names == ["approve_msg", "reject_msg"]
    with sessions.begin() as session:
        messages.correlate(session, "reject_msg", business_key="G1")
    assert status(sessions, iid) == "completed"
    assert "rejected_end" in completed_activities(sessions, iid)
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MessageSubscription)) == 0


def test_error_boundary_catches_bpmn_error(sessions, deploy, dialect):
    deploy(f"{dialect}/error_boundary.bpmn")
    iid = start(sessions, "error_boundary")
    [locked] = fetch(sessions, "fetch_license")
    with sessions.begin() as session:
        assert external.bpmn_error(session, locked.row.id, "w1", error_code="NOT_FOUND",
                                   variables={"reason": "no licence"}) is True
    complete_only(sessions, iid, "manual_entry")
    assert status(sessions, iid) == "completed"
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ExternalTask)) == 0


def test_uncaught_bpmn_error_raises_incident(sessions, deploy, dialect):
    deploy(f"{dialect}/error_boundary.bpmn")
    iid = start(sessions, "error_boundary")
    [locked] = fetch(sessions, "fetch_license")
    with sessions.begin() as session:
        assert external.bpmn_error(session, locked.row.id, "w1", error_code="SOMETHING_ELSE") is False
    with sessions.begin() as session:
        [incident] = session.scalars(sa.select(Incident)).all()
        assert incident.incident_type == "unhandledBpmnError" and incident.instance_id == iid
    assert status(sessions, iid) == "running"
    assert fetch(sessions, "fetch_license") == []


def test_script_only_process_completes_at_start(sessions, deploy, dialect):
    deploy(f"{dialect}/script_only.bpmn")
    iid = start(sessions, "script_only", variables={"a": 2, "b": 3})
    assert status(sessions, iid) == "completed"
    assert variables(sessions, iid)["result"] == 5


def test_script_error_rolls_back_the_start(sessions, deploy, dialect):
    deploy(f"{dialect}/script_only.bpmn")
    with pytest.raises(ProcessFailure, match="b"):
        start(sessions, "script_only", variables={"a": 2})
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0


def test_completing_a_completed_task_conflicts_or_is_gone(sessions, deploy):
    deploy("camunda/parallel.bpmn")
    iid = start(sessions, "parallel")
    task = user_tasks(sessions, iid)[0]
    complete(sessions, task)
    with pytest.raises(Exception) as caught:
        complete(sessions, task)
    assert "does not exist or was already completed" in str(caught.value)


def test_only_candidates_may_complete(sessions, deploy):
    deploy("camunda/five_step.bpmn")
    iid = start(sessions, "five_step")
    [locked] = fetch(sessions, "score")
    with sessions.begin() as session:
        external.complete(session, locked.row.id, "w1", {})
    [review] = user_tasks(sessions, iid)
    with sessions.begin() as session, pytest.raises(Forbidden, match="approval-clerk"):
        tasks.complete(session, review.id, {}, user="mallory", groups=["window-clerk"])
    with sessions.begin() as session:
        tasks.complete(session, review.id, {"approved": True}, user="li", groups=["approval-clerk"])


def test_suspended_instance_refuses_commands_and_hides_work(sessions, deploy):
    deploy("camunda/five_step.bpmn")
    iid = start(sessions, "five_step")
    with sessions.begin() as session:
        runtime.set_suspended(session, iid, True, actor="boss", reason="check")
    assert fetch(sessions, "score") == []
    with sessions.begin() as session:
        runtime.set_suspended(session, iid, False, actor="boss")
    assert len(fetch(sessions, "score")) == 1


def test_cancel_removes_work_and_ends_instance(sessions, deploy):
    deploy("camunda/parallel.bpmn")
    iid = start(sessions, "parallel")
    with sessions.begin() as session:
        runtime.cancel_instance(session, iid, actor="boss", reason="applicant withdrew")
    assert status(sessions, iid) == "cancelled"
    assert user_tasks(sessions, iid) == []
    with sessions.begin() as session, pytest.raises(BadUserRequest, match="already ended"):
        runtime.cancel_instance(session, iid, actor="boss", reason="again")
