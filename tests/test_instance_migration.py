"""Moving running instances to another version: the dry run says which can move and why not and writes
nothing; a moved instance carries on on the new version (through a step the new version added) with
its claims, locks and due times; a called process's new version moves inside its callers; an instance
that cannot move refuses the whole command unless blocked ones are skipped."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engine import deploy as deploying
from engine import external, instance_migration, messages, runtime, scheduler, tasks
from engine.errors import Conflict, InvalidInput, NotFound
from engine.settings import PROJECT_ROOT
from engine.specs import SpecCache
from engine.models import AuditEntry, ExternalTask, MessageSubscription, ProcessInstance, Timer, UserTask

from .conftest import BPMN_DIR, bpmn
from .flows import DIALECTS, complete_only, fetch, start, status, user_tasks


def deploy(sessions, *paths: str, filtering: bool = True) -> list[str]:
    with sessions.begin() as session:
        result = deploying.deploy(session, [bpmn(p) for p in paths], actor="designer", duplicate_filtering=filtering)
        return [d.id for d in result.new_definitions]


def instance(sessions, instance_id: str) -> ProcessInstance:
    with sessions.begin() as session:
        return session.get(ProcessInstance, instance_id)


def plan(sessions, source: str, target: str, **kw) -> instance_migration.MigrationPlan:
    with sessions.begin() as session:
        return instance_migration.plan_migration(session, source, target, **kw)


def migrate(sessions, source: str, target: str, **kw) -> instance_migration.MigrationResult:
    with sessions.begin() as session:
        return instance_migration.migrate_instances(session, source, target, actor="designer", **kw)


def snapshot(sessions) -> tuple:
    """Everything a migration writes: instance states and versions, projection rows, the audit log."""
    with sessions.begin() as session:
        instances = sorted((i.id, i.definition_id, i.lock_version, i.state, tuple(i.called_definition_ids))
                           for i in session.scalars(sa.select(ProcessInstance)))
        rows = sorted((r.id, r.definition_id, r.element_definition_id, r.name, r.assignee)
                      for r in session.scalars(sa.select(UserTask)))
        audit = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
        return instances, rows, audit


def finish_five_step(sessions, iid: str) -> None:
    complete_only(sessions, iid, "check")
    complete_only(sessions, iid, "review", {"approved": True})


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_migrated_case_goes_through_the_step_the_new_version_added_and_ends_on_it(sessions, dialect):
    [v1] = deploy(sessions, f"{dialect}/five_step.bpmn")
    at_service = start(sessions, "five_step", variables={"amount": 10})
    at_review = start(sessions, "five_step", variables={"amount": 20})
    locked = {t.row.instance_id: t for t in fetch(sessions, "score", worker="w2")}
    with sessions.begin() as session:
        external.complete(session, locked[at_review].row.id, "w2", {"score": 7})
    holder = locked[at_service]  # the other case's service task stays locked by the worker
    [v2] = deploy(sessions, f"versions/five_step_v2_{dialect}.bpmn")

    dry = plan(sessions, v1, v2)
    assert dry.counts() == {"instances": 2, "migratable": 2, "blocked": 0}
    waits = {i.instance_id: [(w.activity_id, w.kind, w.in_target) for w in i.waiting] for i in dry.instances}
    assert waits == {at_service: [("score_task", "externalTask", True)], at_review: [("review", "userTask", True)]}
    assert "incoming" in {w.activity_id: w for i in dry.instances for w in i.waiting}["review"].changes

    result = migrate(sessions, v1, v2)
    assert sorted(result.migrated) == sorted([at_service, at_review]) and result.skipped == ()
    with sessions.begin() as session:
        rows = list(session.scalars(sa.select(UserTask))) + list(session.scalars(sa.select(ExternalTask)))
        assert {(r.activity_id, r.definition_id, r.element_definition_id) for r in rows} == {
            ("review", v2, v2), ("score_task", v2, v2)}
        service = session.scalar(sa.select(ExternalTask))
        assert (service.id, service.worker_id) == (holder.row.id, "w2"), "the worker's lock survives the move"
        entries = list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "migrate")))
        assert {(e.instance_id, e.actor, e.details["fromDefinitionId"], e.details["toDefinitionId"])
                for e in entries} == {(at_service, "designer", v1, v2), (at_review, "designer", v1, v2)}

    with sessions.begin() as session:  # the worker that held the lock before the move completes it after
        external.complete(session, holder.row.id, "w2", {"score": 3})
    assert [t.activity_id for t in user_tasks(sessions, at_service)] == ["check"], "the added step comes next"
    finish_five_step(sessions, at_service)
    complete_only(sessions, at_review, "review", {"approved": True})
    assert status(sessions, at_service) == status(sessions, at_review) == "completed"
    assert instance(sessions, at_service).definition_id == v2


def test_dry_run_reports_a_removed_waiting_element_and_writes_nothing(sessions):
    [v1] = deploy(sessions, "versions/review_v1.bpmn")
    first, second = start(sessions, "review_versions"), start(sessions, "review_versions")
    [removed] = deploy(sessions, "versions/review_v3_removed.bpmn")
    [retyped] = deploy(sessions, "versions/review_v4_service.bpmn")
    before = snapshot(sessions)

    dry = plan(sessions, v1, removed)
    assert dry.counts() == {"instances": 2, "migratable": 0, "blocked": 2}
    for one in dry.instances:
        assert [(b.code, b.element_id) for b in one.blockers] == [("element-removed", "review")]
        assert [(w.activity_id, w.in_target) for w in one.waiting] == [("review", False)]
    [blocker] = plan(sessions, v1, retyped, instance_ids=[first]).instances[0].blockers
    assert (blocker.code, blocker.element_id) == ("type-changed", "review")
    assert "UserTask" in blocker.message and "ExternalServiceTask" in blocker.message
    assert snapshot(sessions) == before, "a dry run writes nothing"

    with pytest.raises(instance_migration.MigrationRefused) as refused:
        migrate(sessions, v1, removed)
    assert len(refused.value.blocked) == 2 and "review" in str(refused.value)
    assert snapshot(sessions) == before, "a refused migration writes nothing"
    assert {i.definition_id for i in map(lambda i: instance(sessions, i), (first, second))} == {v1}


def test_a_waiting_task_whose_boundary_events_changed_cannot_move(sessions):
    """An added boundary event would not be armed on a task already waiting; a removed one is waiting."""
    [v1] = deploy(sessions, "versions/review_v1.bpmn")
    start(sessions, "review_versions")
    guarded = (BPMN_DIR / "versions" / "review_v1.bpmn").read_text().replace("</bpmn:process>", (
        '<bpmn:boundaryEvent id="review_late" attachedToRef="review"><bpmn:outgoing>Flow_late</bpmn:outgoing>'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>P2D</bpmn:timeDuration></bpmn:timerEventDefinition>'
        '</bpmn:boundaryEvent><bpmn:endEvent id="late_end"><bpmn:incoming>Flow_late</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="Flow_late" sourceRef="review_late" targetRef="late_end" /></bpmn:process>'))
    with sessions.begin() as session:
        [v2] = deploying.deploy(session, [("review_v1.bpmn", guarded.encode())]).new_definitions
        v2 = v2.id
    [blocker] = plan(sessions, v1, v2).instances[0].blockers
    assert (blocker.code, blocker.element_id) == ("boundary-events-changed", "review")
    assert "review_late" in blocker.message

    [t1] = deploy(sessions, "camunda/timer_boundary.bpmn")
    timed = start(sessions, "timer_boundary")
    renamed = (BPMN_DIR / "camunda" / "timer_boundary.bpmn").read_text().replace('"remind"', '"nudge"')
    with sessions.begin() as session:
        [t2] = deploying.deploy(session, [("timer_boundary.bpmn", renamed.encode())]).new_definitions
        t2 = t2.id
    [one] = plan(sessions, t1, t2).instances
    assert one.instance_id == timed
    assert {(b.code, b.element_id) for b in one.blockers} == {("element-removed", "remind"),
                                                               ("boundary-events-changed", "specialist_review"),
                                                               ("boundary-events-changed", "review_overdue")}
    assert {w.activity_id: w.in_target for w in one.waiting}["remind"] is False


def test_claims_stay_and_what_the_new_version_defines_applies(sessions):
    [v1] = deploy(sessions, "versions/review_v1.bpmn")
    claimed, open_one = start(sessions, "review_versions"), start(sessions, "review_versions")
    with sessions.begin() as session:
        tasks.claim(session, user_tasks(sessions, claimed)[0].id, "clerk1", ["approval-clerk"])
    [v2] = deploy(sessions, "versions/review_v2.bpmn")
    migrate(sessions, v1, v2)
    [kept] = user_tasks(sessions, claimed)
    [fresh] = user_tasks(sessions, open_one)
    assert (kept.assignee, fresh.assignee) == ("clerk1", None)
    for row in (kept, fresh):
        assert (row.name, row.form_key, row.definition_id) == ("Review the application", "review", v2)
        assert row.candidate_groups == ["approval-clerk", "section-head"]
    complete_only(sessions, claimed, "review")
    assert [t.activity_id for t in user_tasks(sessions, claimed)] == ["second_look"]
    complete_only(sessions, claimed, "second_look")
    assert status(sessions, claimed) == "completed"


def test_a_suspended_instance_moves_and_stays_suspended(sessions):
    [v1] = deploy(sessions, "versions/review_v1.bpmn")
    iid = start(sessions, "review_versions")
    with sessions.begin() as session:
        runtime.set_suspended(session, iid, True, actor="supervisor")
    [v2] = deploy(sessions, "versions/review_v2.bpmn")
    assert plan(sessions, v1, v2).instances[0].status == "suspended"
    assert migrate(sessions, v1, v2).migrated == (iid,)
    [row] = user_tasks(sessions, iid)
    assert (instance(sessions, iid).status, row.suspended, row.definition_id) == ("suspended", True, v2)


def test_a_blocked_instance_refuses_the_selection_unless_blocked_ones_are_skipped(sessions):
    [v1] = deploy(sessions, "versions/review_v1.bpmn")
    running, ended = start(sessions, "review_versions"), start(sessions, "review_versions")
    complete_only(sessions, ended, "review")
    [v2] = deploy(sessions, "versions/review_v2.bpmn")
    before = snapshot(sessions)
    with pytest.raises(instance_migration.MigrationRefused) as refused:
        migrate(sessions, v1, v2, instance_ids=[running, ended])
    assert [(i.instance_id, i.blockers[0].code) for i in refused.value.blocked] == [(ended, "not-of-source")]
    assert snapshot(sessions) == before

    result = migrate(sessions, v1, v2, instance_ids=[running, ended], skip_blocked=True)
    assert result.migrated == (running,) and [i.instance_id for i in result.skipped] == [ended]
    assert (instance(sessions, running).definition_id, instance(sessions, ended).definition_id) == (v2, v1)


def test_executing_a_dry_run_moves_the_instances_it_showed_and_not_those_started_since(sessions):
    [v1] = deploy(sessions, "versions/review_v1.bpmn")
    shown = start(sessions, "review_versions")
    [v2] = deploy(sessions, "versions/review_v2.bpmn")
    dry = plan(sessions, v1, v2)
    later = start(sessions, "review_versions", definition_id=v1)
    with sessions.begin() as session:
        result = instance_migration.execute_plan(session, dry, actor="designer")
    assert result.migrated == (shown,)
    assert (instance(sessions, shown).definition_id, instance(sessions, later).definition_id) == (v2, v1)


def test_instructions_name_the_elements_instances_may_wait_in(sessions):
    [v1] = deploy(sessions, "versions/review_v1.bpmn")
    iid = start(sessions, "review_versions")
    [v2] = deploy(sessions, "versions/review_v2.bpmn")
    with sessions.begin() as session:
        assert instance_migration.same_activities(session, v1, v2) == ["end", "review", "start"]
    [blocker] = plan(sessions, v1, v2, activity_ids=["start", "end"]).instances[0].blockers
    assert (blocker.code, blocker.element_id) == ("no-instruction", "review")
    assert plan(sessions, v1, v2, activity_ids=["review"]).instances[0].migratable
    assert iid


def test_waiting_timers_keep_their_due_time(sessions, clock):
    [v1] = deploy(sessions, "camunda/timer_boundary.bpmn")
    t0 = clock.now()
    late, early = start(sessions, "timer_boundary"), start(sessions, "timer_boundary")
    [v2] = deploy(sessions, "versions/timer_boundary_v2.bpmn")
    dry = plan(sessions, v1, v2)
    assert {w.activity_id: w.kind for w in dry.instances[0].waiting} == {
        "specialist_review": "userTask", "review_overdue": "timer", "remind": "timer"}
    assert dry.notes and "review_overdue" in dry.notes[0]
    migrate(sessions, v1, v2)
    with sessions.begin() as session:
        assert {(t.activity_id, t.due_at, t.definition_id) for t in session.scalars(
            sa.select(Timer).where(Timer.instance_id == late))} == {
            ("review_overdue", t0 + timedelta(days=3), v2), ("remind", t0 + timedelta(hours=1), v2)}
    complete_only(sessions, early, "specialist_review")
    assert [t.activity_id for t in user_tasks(sessions, early)] == ["report"], "v2's step after the review"
    clock.set(t0 + timedelta(days=3, seconds=1))
    scheduler.run_until_idle(sessions)
    assert [t.activity_id for t in user_tasks(sessions, late)] == ["escalated"], "the v1 deadline still holds"


def test_a_called_process_version_moves_inside_the_instances_that_call_it(sessions):
    parent, v1 = deploy(sessions, "camunda/call_parent.bpmn", "camunda/call_child.bpmn")
    iid = start(sessions, "call_parent")
    [v2] = deploy(sessions, "versions/call_child_v2.bpmn")
    dry = plan(sessions, v1, v2)
    [one] = dry.instances
    assert (one.instance_id, one.definition_id) == (iid, parent)
    assert {(w.activity_id, w.process_key) for w in one.waiting} == {
        ("call_child_activity", "call_parent"), ("child_task", "call_child")}
    migrate(sessions, v1, v2)
    moved = instance(sessions, iid)
    assert (moved.definition_id, moved.called_definition_ids) == (parent, [v2])
    [row] = user_tasks(sessions, iid)
    assert (row.activity_id, row.definition_id, row.element_definition_id) == ("child_task", parent, v2)
    complete_only(sessions, iid, "child_task")
    assert [t.activity_id for t in user_tasks(sessions, iid)] == ["child_extra"]
    complete_only(sessions, iid, "child_extra")
    complete_only(sessions, iid, "after_call")
    assert status(sessions, iid) == "completed"


def test_a_waiting_message_follows_the_new_message_name(sessions):
    [v1] = deploy(sessions, "camunda/message_catch.bpmn")
    iid = start(sessions, "message_catch")
    [v2] = deploy(sessions, "versions/message_catch_v2.bpmn")
    migrate(sessions, v1, v2)
    with sessions.begin() as session:
        [row] = session.scalars(sa.select(MessageSubscription).where(MessageSubscription.instance_id == iid))
        assert (row.message_name, row.definition_id, row.activity_id) == ("supplement_arrived", v2, "wait_supplement")
        messages.correlate(session, "supplement_arrived", instance_id=iid, variables={})
    assert [t.activity_id for t in user_tasks(sessions, iid)] == ["recheck"]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("model,variables,steps", [
    ("multi_instance", {"signers": ["li", "wang"]}, ["sign", "sign"]),
    ("multi_instance_seq", {"signers": ["li", "wang"], "seen": []}, ["sign", "sign"]),
    ("subprocess", {}, ["inner", "after"]),
    ("parallel", {}, ["a", "b"]),
])
def test_instances_inside_multi_instance_subprocess_and_parallel_branches_move(sessions, dialect, model, variables,
                                                                               steps):
    [v1] = deploy(sessions, f"{dialect}/{model}.bpmn")
    iid = start(sessions, model, variables=variables)
    [v2] = deploy(sessions, f"{dialect}/{model}.bpmn", filtering=False)
    waiting = sorted(t.id for t in user_tasks(sessions, iid))
    assert migrate(sessions, v1, v2).migrated == (iid,)
    assert sorted(t.id for t in user_tasks(sessions, iid)) == waiting, "the same tasks wait, same ids"
    for step in steps:
        task = next(t for t in user_tasks(sessions, iid) if t.activity_id == step)
        with sessions.begin() as session:
            tasks.complete(session, task.id, {}, user="tester", groups=["admin"])
    assert status(sessions, iid) == "completed"


def test_a_multi_instance_started_before_a_restart_still_completes(sessions, services):
    """Specs parsed anew (another node, a restart, a migration's target) must hear of finished instances
    of a multi-instance task too (engine.specs.connect_loops)."""
    deploy(sessions, "camunda/multi_instance.bpmn")
    iid = start(sessions, "multi_instance", variables={"signers": ["li", "wang"]})
    object.__setattr__(services, "specs", SpecCache())  # what a restarted node has: nothing parsed yet
    for task in user_tasks(sessions, iid):
        with sessions.begin() as session:
            tasks.complete(session, task.id, {}, user="tester", groups=["admin"])
    assert status(sessions, iid) == "completed"


def test_source_and_target_must_be_two_versions_of_one_process(sessions):
    [review] = deploy(sessions, "versions/review_v1.bpmn")
    [other] = deploy(sessions, "camunda/parallel.bpmn")
    [review2] = deploy(sessions, "versions/review_v2.bpmn")
    with sessions.begin() as session:
        with pytest.raises(InvalidInput, match="one process"):
            instance_migration.plan_migration(session, review, other)
        with pytest.raises(InvalidInput, match="same version"):
            instance_migration.plan_migration(session, review, review)
        with pytest.raises(NotFound):
            instance_migration.plan_migration(session, review, "review_versions:9:nope")
        with pytest.raises(NotFound):
            instance_migration.plan_migration(session, review, review2, instance_ids=["nope"])


def _suspend(sessions, iid: str) -> None:
    with sessions.begin() as fast:
        runtime.set_suspended(fast, iid, True, actor="supervisor")


def _complete_service_task(sessions, iid: str) -> None:
    [locked] = fetch(sessions, "score")
    with sessions.begin() as fast:
        external.complete(fast, locked.row.id, "w1", {"score": 1})


@pytest.mark.parametrize("meanwhile,waiting", [(_suspend, "score_task"), (_complete_service_task, "review")])
def test_an_instance_changed_meanwhile_is_a_conflict_and_nothing_is_written(sessions, database_url, meanwhile,
                                                                             waiting):
    """The migration read version N of an instance; another command committed N+1 before it wrote: the
    lock version refuses the write (suspended meanwhile), or the rows no longer match (moved on meanwhile)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs every command under BEGIN IMMEDIATE, so commands cannot interleave")
    [v1] = deploy(sessions, "camunda/five_step.bpmn")
    iid = start(sessions, "five_step")
    [v2] = deploy(sessions, "versions/five_step_v2_camunda.bpmn")
    slow = sessions()
    slow.begin()
    try:
        held = slow.get(ProcessInstance, iid)  # noqa: F841 -- read (and kept) before the other command commits
        meanwhile(sessions, iid)
        with pytest.raises(Conflict):
            instance_migration.migrate_instances(slow, v1, v2, actor="designer")
    finally:
        slow.rollback()
        slow.close()
    assert instance(sessions, iid).definition_id == v1
    with sessions.begin() as session:
        rows = list(session.scalars(sa.select(UserTask))) + list(session.scalars(sa.select(ExternalTask)))
        assert [(r.activity_id, r.definition_id) for r in rows] == [(waiting, v1)]


def window_intake_with_countersign() -> bytes:
    """The real intake process with one more step: an accepted case is countersigned before the receipt."""
    xml = (PROJECT_ROOT / "processes" / "window_intake.bpmn").read_text(encoding="utf-8")
    flow = '<bpmn:sequenceFlow id="Flow_accept" sourceRef="Gateway_acceptance" targetRef="Task_receipt"'
    assert flow in xml and xml.count("<bpmn:incoming>Flow_accept</bpmn:incoming>") == 1
    xml = xml.replace(flow, flow.replace('targetRef="Task_receipt"', 'targetRef="Task_countersign"'))
    xml = xml.replace("<bpmn:incoming>Flow_accept</bpmn:incoming>", "<bpmn:incoming>Flow_countersigned</bpmn:incoming>")
    step = ('<bpmn:userTask id="Task_countersign" name="受理复核" camunda:candidateGroups="${department}:approval-clerk">'
            '<bpmn:incoming>Flow_accept</bpmn:incoming><bpmn:outgoing>Flow_countersigned</bpmn:outgoing></bpmn:userTask>'
            '<bpmn:sequenceFlow id="Flow_countersigned" sourceRef="Task_countersign" targetRef="Task_receipt" />')
    return xml.replace("</bpmn:process>", step + "</bpmn:process>", 1).encode("utf-8")


def test_a_waiting_intake_case_moves_to_a_version_with_a_countersign_and_is_closed_on_it(center):
    from .paths import ENTERPRISE, FOOD_CHANGE, GRANT

    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    assert center.waiting(key) == ["Task_acceptance_review"]
    iid = center.instance_id(key)
    v1 = instance(center.sessions, iid).definition_id
    with center.sessions.begin() as session:
        [v2] = deploying.deploy(session, [("window_intake.bpmn", window_intake_with_countersign())],
                                actor="designer").new_definitions
        v2 = v2.id
    newer = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    assert instance(center.sessions, center.instance_id(newer)).definition_id == v2, "new cases start on v2"
    center.work()

    dry = plan(center.sessions, v1, v2)
    [one] = dry.instances
    assert (one.business_key, one.migratable) == (key, True)
    assert [(w.activity_id, w.kind, w.in_target) for w in one.waiting] == [
        ("Task_acceptance_review", "userTask", True)]
    migrate(center.sessions, v1, v2)
    moved = instance(center.sessions, iid)
    assert moved.definition_id == v2 and moved.called_definition_ids, "the called processes stay pinned"

    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "材料齐全"})
    assert center.waiting(key) == ["Task_countersign"], "the step v2 added comes next"
    assert center.work() == []
    center.complete(key, "Task_countersign", "market_clerk", {})
    assert center.work() == ["acceptance-receipt"]
    center.complete(key, "Task_chief_decision", "market_chief", GRANT)
    assert center.work() == ["certificate", "result-notice"]
    center.complete(key, "Task_delivery", "window", {"deliveryMethod": "window", "recipientName": "陆青禾"})
    assert center.work() == ["rating-request"]
    center.message("rating-received", key, {"rating": "满意", "realName": True})
    assert center.status(key) == "completed"
    assert {"Task_countersign", "Task_receipt"} <= center.completed(key)
