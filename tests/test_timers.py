"""Timer events in both dialects on both databases: armed from the injected clock, fired only by the
scheduler, exactly once, in due order after downtime."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from engine import messages, runtime, scheduler
from engine.errors import DeploymentError, ProcessFailure
from engine.models import AuditEntry, ExternalTask, Incident, ProcessInstance, Timer, UserTask

from .conftest import bpmn
from .flows import DIALECTS, complete_only, start, status, user_tasks

UTC = timezone.utc


@pytest.fixture(params=DIALECTS)
def dialect(request) -> str:
    return request.param


def timers(sessions, instance_id: str | None = None) -> list[Timer]:
    with sessions.begin() as session:
        stmt = sa.select(Timer).order_by(Timer.due_at)
        if instance_id:
            stmt = stmt.where(Timer.instance_id == instance_id)
        return list(session.scalars(stmt))


def fire_due(sessions) -> int:
    return scheduler.run_until_idle(sessions)


def fired_audit(sessions) -> list[AuditEntry]:
    with sessions.begin() as session:
        return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "timer").order_by(AuditEntry.id)))


def test_interrupting_boundary_timer_escalates_and_cycle_reminds(sessions, deploy, dialect, clock):
    deploy(f"{dialect}/timer_boundary.bpmn")
    t0 = clock.now()
    iid = start(sessions, "timer_boundary")
    assert {(t.activity_id, t.due_at) for t in timers(sessions, iid)} == {
        ("remind", t0 + timedelta(hours=1)), ("review_overdue", t0 + timedelta(days=3))}
    assert fire_due(sessions) == 0, "nothing is due yet"

    clock.set(t0 + timedelta(hours=1))
    assert fire_due(sessions) == 1
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ExternalTask)) == 1
    remind = next(t for t in timers(sessions, iid) if t.activity_id == "remind")
    assert remind.due_at == t0 + timedelta(hours=2), "a cycle re-arms for its next due time"
    assert [t.activity_id for t in user_tasks(sessions, iid)] == ["specialist_review"], "non-interrupting"

    clock.set(t0 + timedelta(hours=5))
    assert fire_due(sessions) == 1, "R2: the second and last reminder"
    assert [t.activity_id for t in timers(sessions, iid)] == ["review_overdue"]

    clock.set(t0 + timedelta(days=3, seconds=1))
    assert fire_due(sessions) == 1
    [escalated] = user_tasks(sessions, iid)
    assert (escalated.activity_id, escalated.candidate_groups) == ("escalated", ["supervisor"])
    assert timers(sessions, iid) == []
    assert [e.actor for e in fired_audit(sessions)] == ["scheduler"] * 3
    with sessions.begin() as session:
        # SpiffWorkflow cancels the reminder branches with the interrupted activity (Camunda would let
        # them run on); README notes the difference
        assert session.scalar(sa.select(sa.func.count()).select_from(ExternalTask)) == 0
    complete_only(sessions, iid, "escalated")
    assert status(sessions, iid) == "completed"


def test_finishing_the_task_in_time_removes_its_timers(sessions, deploy, dialect, clock):
    deploy(f"{dialect}/timer_boundary.bpmn")
    iid = start(sessions, "timer_boundary")
    complete_only(sessions, iid, "specialist_review")
    assert status(sessions, iid) == "completed"
    assert timers(sessions) == []
    clock.advance(timedelta(days=10))
    assert fire_due(sessions) == 0


def test_intermediate_timer_waits_for_a_date_from_a_variable(sessions, deploy, dialect, clock):
    deploy(f"{dialect}/timer_catch.bpmn")
    name = "waitUntil" if dialect == "camunda" else "wait_until"
    iid = start(sessions, "timer_catch", variables={name: "2026-01-06T09:30:00+08:00"})
    [timer] = timers(sessions, iid)
    assert (timer.activity_id, timer.event_kind, timer.due_at) == (
        "wait_until", "intermediate", datetime(2026, 1, 6, 1, 30, tzinfo=UTC))
    clock.set(datetime(2026, 1, 6, 1, 29, tzinfo=UTC))
    assert fire_due(sessions) == 0
    clock.set(datetime(2026, 1, 6, 1, 30, tzinfo=UTC))
    assert fire_due(sessions) == 1
    assert [t.activity_id for t in user_tasks(sessions, iid)] == ["after_wait"]


def test_a_date_without_offset_is_the_centers_local_time(sessions, deploy, clock):
    deploy("camunda/timer_catch.bpmn")
    iid = start(sessions, "timer_catch", variables={"waitUntil": "2026-01-06T09:30:00"})
    assert timers(sessions, iid)[0].due_at == datetime(2026, 1, 6, 1, 30, tzinfo=UTC)


def test_bad_timer_value_fails_the_start_and_writes_nothing(sessions, deploy, dialect):
    deploy(f"{dialect}/timer_catch.bpmn")
    name = "waitUntil" if dialect == "camunda" else "wait_until"
    with pytest.raises(ProcessFailure, match="wait_until.*not an ISO 8601 date-time"):
        start(sessions, "timer_catch", variables={name: "next tuesday"})
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Timer)) == 0


def test_bad_literal_timer_is_refused_at_deployment(sessions):
    from engine import deploy as deploy_module

    name, data = bpmn("camunda/timer_boundary.bpmn")
    data = data.replace(b">P3D<", b">P3X<")
    with pytest.raises(DeploymentError, match="review_overdue.*not an ISO 8601 duration"):
        with sessions.begin() as session:
            deploy_module.deploy(session, [(name, data)])


@pytest.mark.parametrize("first", ["message", "timer"])
def test_event_gateway_races_a_message_against_a_timer(sessions, deploy, dialect, clock, first):
    deploy(f"{dialect}/timer_event_gateway.bpmn")
    iid = start(sessions, "timer_event_gateway", business_key="QP-9")
    [timer] = timers(sessions, iid)
    assert timer.due_at == clock.now() + timedelta(hours=2)
    if first == "message":
        with sessions.begin() as session:
            messages.correlate(session, "reply_received", business_key="QP-9")
        assert status(sessions, iid) == "completed" and timers(sessions) == []
        clock.advance(timedelta(hours=3))
        assert fire_due(sessions) == 0
    else:
        clock.advance(timedelta(hours=2))
        assert fire_due(sessions) == 1
        assert [t.activity_id for t in user_tasks(sessions, iid)] == ["chase"]
        with sessions.begin() as session:
            with pytest.raises(Exception, match="no process definition or execution matches"):
                messages.correlate(session, "reply_received", business_key="QP-9")


def test_timer_start_event_cycle_starts_three_instances(sessions, deploy, dialect, clock):
    t0 = clock.now()
    deploy(f"{dialect}/timer_start.bpmn")
    [start_timer] = timers(sessions)
    assert (start_timer.instance_id, start_timer.event_kind, start_timer.due_at) == (
        None, "start", t0 + timedelta(minutes=10))
    for minutes in (10, 20, 30, 40, 50):
        clock.set(t0 + timedelta(minutes=minutes))
        fire_due(sessions)
    with sessions.begin() as session:
        started = list(session.scalars(sa.select(ProcessInstance).order_by(ProcessInstance.started_at)))
        assert [i.started_at - t0 for i in started] == [timedelta(minutes=m) for m in (10, 20, 30)]
        assert {i.started_by for i in started} == {"scheduler"}
        assert session.scalar(sa.select(sa.func.count()).select_from(UserTask)) == 3
    assert timers(sessions) == [], "R3: done after the third"


def test_new_version_replaces_start_timers(sessions, deploy, clock):
    from engine import deploy as deploy_module

    deploy("camunda/timer_start.bpmn")
    name, data = bpmn("camunda/timer_start.bpmn")
    with sessions.begin() as session:
        deploy_module.deploy(session, [(name, data.replace(b"R3/PT10M", b"R/PT1H"))])
    [row] = timers(sessions)
    assert (row.remaining, row.due_at) == (-1, clock.now() + timedelta(hours=1))


def test_catch_up_after_downtime_fires_in_due_order(sessions, deploy, clock):
    deploy("camunda/timer_catch.bpmn")
    dues = ["2026-01-05T12:00:00+08:00", "2026-01-05T10:00:00+08:00", "2026-01-05T11:00:00+08:00"]
    ids = {start(sessions, "timer_catch", variables={"waitUntil": due}): due for due in dues}
    clock.advance(timedelta(days=2))  # everything was stopped; the first round after restart catches up
    assert scheduler.run_round(sessions).fired == 3
    order = [ids[e.instance_id] for e in fired_audit(sessions)]
    assert order == sorted(dues)


def test_suspended_instance_keeps_its_timers_until_resumed(sessions, deploy, clock):
    deploy("camunda/timer_event_gateway.bpmn")
    iid = start(sessions, "timer_event_gateway")
    with sessions.begin() as session:
        runtime.set_suspended(session, iid, True, actor="admin")
    clock.advance(timedelta(hours=3))
    assert fire_due(sessions) == 0
    with sessions.begin() as session:
        runtime.set_suspended(session, iid, False, actor="admin")
    assert fire_due(sessions) == 1


def test_failing_firing_is_retried_then_raises_an_incident(sessions, deploy, clock, monkeypatch, services):
    deploy("camunda/timer_event_gateway.bpmn")
    iid = start(sessions, "timer_event_gateway")

    def broken(task, tz):
        raise ProcessFailure("Process failed at element 'no_reply': mail gateway down")
    monkeypatch.setattr(scheduler, "fire", broken)
    clock.advance(timedelta(hours=2))
    for attempt in range(services.settings.timer_retries):
        assert scheduler.run_round(sessions).failed == 1
        assert scheduler.run_round(sessions).claimed == 0, "a failed timer waits for its retry delay"
        clock.advance(timedelta(seconds=services.settings.timer_retry_delay))
    [row] = timers(sessions, iid)
    assert (row.retries, row.last_error) == (0, "Process failed at element 'no_reply': mail gateway down")
    with sessions.begin() as session:
        [incident] = session.scalars(sa.select(Incident))
        assert (incident.incident_type, incident.configuration) == ("failedJob", row.id)
    monkeypatch.undo()
    with sessions.begin() as session:
        scheduler.set_timer_retries(session, row.id, 1, actor="admin")
    assert fire_due(sessions) == 1
    assert [t.activity_id for t in user_tasks(sessions, iid)] == ["chase"]
    with sessions.begin() as session:
        assert session.scalar(sa.select(Incident.resolved_at)) is not None


def test_working_day_deadline_in_timer_and_due_date(sessions, deploy, dialect, clock):
    """Friday 2025-09-26 before National Day: Sunday 28th is a make-up workday, so the 3rd
    working day after is Tuesday 30th, ending at 17:00 Shanghai."""
    clock.set(datetime(2025, 9, 26, 2, 0, tzinfo=UTC))
    deploy(f"{dialect}/working_day_due.bpmn")
    name = "receivedAt" if dialect == "camunda" else "received_at"
    iid = start(sessions, "working_day_due", variables={name: "2025-09-26T10:00:00+08:00"})
    expected = datetime(2025, 9, 30, 9, 0, tzinfo=UTC)
    [timer] = timers(sessions, iid)
    assert (timer.activity_id, timer.due_at) == ("decision_deadline", expected)
    [decide] = user_tasks(sessions, iid)
    assert decide.due_at == expected
    clock.set(expected)
    assert fire_due(sessions) == 1
    assert [t.activity_id for t in user_tasks(sessions, iid)] == ["overdue_review"]


def test_two_scheduler_processes_fire_a_thousand_timers_exactly_once(sessions, deploy, clock, settings):
    """Two OS processes against one PostgreSQL database: none fired twice, none missed."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: concurrent schedulers are a PostgreSQL deployment")
    deploy("camunda/timer_catch.bpmn")
    base = clock.now()
    for chunk in range(10):
        with sessions.begin() as session:
            for i in range(100):
                due = base + timedelta(seconds=chunk * 100 + i)
                runtime.start_instance(session, "timer_catch", variables={"waitUntil": due.isoformat()})
    moment = (base + timedelta(hours=1)).isoformat()
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "tests.scheduler_process", settings.database_url, moment, "10"]
    procs = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
             for _ in range(2)]
    outputs = [p.communicate(timeout=300)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    fired = [int(out[0]) for out in outputs]
    assert sum(fired) == 1000 and [int(out[1]) for out in outputs] == [0, 0]
    assert min(fired) > 0, f"both processes should have shared the work, got {fired}"
    entries = fired_audit(sessions)
    assert len(entries) == len({e.details["timerId"] for e in entries}) == 1000
    with sessions.begin() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Timer)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(UserTask)) == 1000


@pytest.mark.parametrize("kind,value,due,remaining", [
    ("timeDuration", "PT10M", datetime(2026, 1, 5, 1, 10, tzinfo=UTC), 0),
    ("timeDate", "2026-01-06T09:00", datetime(2026, 1, 6, 1, 0, tzinfo=UTC), 0),
    ("timeCycle", "R3/PT1H", datetime(2026, 1, 5, 2, 0, tzinfo=UTC), 2),
    ("timeCycle", "R/P1D", datetime(2026, 1, 6, 1, 0, tzinfo=UTC), -1),
    ("timeCycle", "R2/2026-01-05T10:00:00+08:00/PT30M", datetime(2026, 1, 5, 2, 0, tzinfo=UTC), 1),
    # weekdays at 09:00 Shanghai: the clock stands at Monday 09:00 exactly, so the next is Tuesday
    ("timeCycle", "0 9 * * 1-5", datetime(2026, 1, 6, 1, 0, tzinfo=UTC), -1),
])
def test_schedules_from_iso_and_cron(kind, value, due, remaining):
    from zoneinfo import ZoneInfo

    from engine.timers import schedule_for

    schedule = schedule_for(kind, value, datetime(2026, 1, 5, 1, 0, tzinfo=UTC), ZoneInfo("Asia/Shanghai"))
    assert (schedule.due, schedule.remaining) == (due, remaining)


def test_cron_cycle_skips_the_weekend():
    from zoneinfo import ZoneInfo

    from engine.timers import schedule_for

    tz = ZoneInfo("Asia/Shanghai")
    friday = schedule_for("timeCycle", "0 9 * * 1-5", datetime(2026, 1, 9, 0, 0, tzinfo=UTC), tz)
    assert friday.due == datetime(2026, 1, 9, 1, 0, tzinfo=UTC)
    assert friday.following(tz).due == datetime(2026, 1, 12, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind,value,message", [
    ("timeDuration", "10 minutes", "ISO 8601 duration"),
    ("timeCycle", "R0/PT1H", "repeats zero times"),
    ("timeCycle", "every day", "neither an ISO 8601 cycle"),
    ("timeDate", 42, "must be a date-time"),
])
def test_bad_schedules_say_what_is_wrong(kind, value, message):
    from engine.timers import TimerExpressionError, schedule_for

    with pytest.raises(TimerExpressionError, match=message):
        schedule_for(kind, value, datetime(2026, 1, 5, 1, 0, tzinfo=UTC), UTC)
