"""Fire due timers, exactly once, from any number of scheduler processes.

A round claims a batch of due timer rows in one transaction — on PostgreSQL
with ``FOR UPDATE SKIP LOCKED`` over the timer *and* its instance, so two
schedulers never take the same timer and a scheduler never waits behind a
user's command on the same case (it skips that case until the next round).
Each timer fires in a savepoint: firing runs the instance to its next wait
and, through the projections, deletes or moves the timer row in the same
transaction. A firing that fails is retried after a delay; when its retries
are spent it raises an incident and waits for an operator. Timers whose time
passed while nothing ran are simply due: the next round fires them, oldest
first (catch-up).

``TimerScheduler`` drives rounds with APScheduler: in the web process for
``make demo``, in ``onewindow scheduler`` processes in production.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable
from uuid import UUID

import sqlalchemy as sa
import sqlalchemy.orm as so
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from . import audit
from .context import services
from .db import is_postgres
from .errors import Conflict, EngineError, NotFound
from .models import Incident, ProcessDefinition, ProcessInstance, Timer
from .workdays import script_engine_for
from .timers import Schedule, evaluate_standalone, fire, schedule_for, timer_kind
from .values import check_count

log = logging.getLogger(__name__)

SCHEDULER_ACTOR = "scheduler"
FAILED_JOB = "failedJob"


@dataclass(frozen=True)
class RoundResult:
    fired: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def claimed(self) -> int:
        return self.fired + self.failed + self.skipped


# --- start timers (definition level) ----------------------------------------

@dataclass(frozen=True)
class StartTimer:
    activity_id: str
    definition: Any  # an engine.timers EngineTimer


def replace_start_timers(session: so.Session, definition: ProcessDefinition, timers: Iterable[StartTimer],
                         now: datetime) -> None:
    """A new version's timer start events replace the previous versions' (as in Camunda)."""
    svc = services(session)
    old_ids = sa.select(ProcessDefinition.id).where(ProcessDefinition.key == definition.key)
    session.execute(sa.delete(Timer).where(Timer.instance_id.is_(None), Timer.definition_id.in_(old_ids)))
    for timer in timers:
        value = evaluate_standalone(timer.definition, script_engine_for(session))
        schedule = schedule_for(timer_kind(timer.definition), value, now, svc.tz)
        session.add(Timer(id=str(uuid.uuid4()), instance_id=None, definition_id=definition.id,
                          element_definition_id=definition.id,
                          activity_id=timer.activity_id, event_kind="start",
                          description=str(timer.definition.expression)[:255], due_at=schedule.due,
                          remaining=schedule.remaining,
                          period_seconds=schedule.period.total_seconds() if schedule.period else None,
                          cron=schedule.cron, retries=svc.settings.timer_retries, created_at=now))


# --- one round ----------------------------------------------------------------

def run_round(factory: so.sessionmaker, limit: int | None = None) -> RoundResult:
    """Claim up to ``limit`` due timers and fire them, in one transaction."""
    with factory.begin() as session:
        svc = services(session)
        now = svc.clock.now()
        rows = claim_due(session, now, limit or svc.settings.scheduler_batch)
        fired = failed = skipped = 0
        for timer_id in rows:
            outcome = _fire_claimed(session, timer_id, now)
            fired += outcome == "fired"
            failed += outcome == "failed"
            skipped += outcome == "skipped"
        return RoundResult(fired, failed, skipped)


def run_until_idle(factory: so.sessionmaker, limit: int | None = None, max_rounds: int = 1000) -> int:
    """Rounds until nothing due is left (or only timers other schedulers hold); returns timers fired."""
    total = 0
    for _ in range(max_rounds):
        result = run_round(factory, limit)
        total += result.fired
        if result.claimed == 0 or result.fired == 0:
            break
    return total


def claim_due(session: so.Session, now: datetime, limit: int) -> list[str]:
    """Due timer ids, oldest first, locked for this transaction."""
    due = (Timer.due_at <= now, Timer.suspended.is_(False), Timer.retries > 0)
    instance_timers = (sa.select(Timer.id, Timer.due_at).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                       .where(*due, ProcessInstance.status == "running").order_by(Timer.due_at, Timer.id).limit(limit))
    start_timers = (sa.select(Timer.id, Timer.due_at).where(*due, Timer.instance_id.is_(None))
                    .order_by(Timer.due_at, Timer.id).limit(limit))
    if is_postgres(session):
        instance_timers = instance_timers.with_for_update(skip_locked=True, of=[Timer, ProcessInstance])
        start_timers = start_timers.with_for_update(skip_locked=True, of=Timer)
    claimed = list(session.execute(instance_timers)) + list(session.execute(start_timers))
    claimed.sort(key=lambda row: (row.due_at, row.id))
    return [row.id for row in claimed[:limit]]


def _fire_claimed(session: so.Session, timer_id: str, now: datetime) -> str:
    row = session.get(Timer, timer_id)
    if row is None:  # an earlier firing in this round moved its instance on
        return "skipped"
    details = {"timerId": row.id, "activityId": row.activity_id, "dueAt": row.due_at.isoformat()}
    try:
        with session.begin_nested():
            if row.instance_id is None:
                fire_start_timer_row(session, row)
            else:
                fire_instance_timer(session, row)
    except Conflict:
        return "skipped"
    except EngineError as exc:
        _record_failure(session, timer_id, exc, now)
        return "failed"
    log.debug("timer fired: %s", details)
    return "fired"


def fire_instance_timer(session: so.Session, row: Timer) -> None:
    from .runtime import advance, load_running

    loaded = load_running(session, row.instance_id)
    task = loaded.workflow.get_task_from_id(UUID(row.id))
    if task is None:
        raise NotFound(f"Timer '{row.activity_id}' of instance '{row.instance_id}' no longer waits")
    fire(task, services(session).tz)
    advance(session, loaded, SCHEDULER_ACTOR, "timer", {"activityId": row.activity_id, "timerId": row.id,
                                                        "dueAt": row.due_at.isoformat()})


def fire_start_timer_row(session: so.Session, row: Timer) -> None:
    from .runtime import start_instance

    svc = services(session)
    instance = start_instance(session, definition_id=row.definition_id, actor=SCHEDULER_ACTOR)
    audit.record(session, "timer-start", actor=SCHEDULER_ACTOR, instance_id=instance.id, entity_id=row.id,
                 details={"activityId": row.activity_id, "dueAt": row.due_at.isoformat()})
    schedule = Schedule(row.due_at, row.remaining,
                        timedelta(seconds=row.period_seconds) if row.period_seconds else None, row.cron)
    following = schedule.following(svc.tz)
    if following is None:
        session.delete(row)
        return
    row.due_at, row.remaining = following.due, following.remaining
    row.retries, row.last_error = svc.settings.timer_retries, None


def _record_failure(session: so.Session, timer_id: str, exc: Exception, now: datetime) -> None:
    """Count the failed attempt outside the rolled-back savepoint; raise an incident at zero."""
    svc = services(session)
    row = session.get(Timer, timer_id)
    if row is None:
        return
    row.retries = max(row.retries - 1, 0)
    row.last_error = str(exc)
    row.due_at = now + timedelta(seconds=svc.settings.timer_retry_delay)
    if row.retries == 0 and row.instance_id is not None:
        session.add(Incident(id=str(uuid.uuid4()), instance_id=row.instance_id, definition_id=row.definition_id,
                             element_definition_id=row.element_definition_id,
                             activity_id=row.activity_id, incident_type=FAILED_JOB, configuration=row.id,
                             message=str(exc), created_at=now))
    audit.record(session, "timer-failed", actor=SCHEDULER_ACTOR, instance_id=row.instance_id, entity_id=row.id,
                 details={"activityId": row.activity_id, "error": str(exc), "retriesLeft": row.retries})


def set_timer_retries(session: so.Session, timer_id: str, retries: int, actor: str | None) -> None:
    """An operator gives a failed timer new attempts; its incident is resolved."""
    check_count(retries, "retries")
    row = session.get(Timer, timer_id)
    if row is None:
        raise NotFound(f"Job with id '{timer_id}' does not exist")
    now = services(session).clock.now()
    row.retries = retries
    if retries > 0:
        row.due_at = min(row.due_at, now)  # tried again at the next round, not after the retry delay
        session.execute(sa.update(Incident).where(Incident.configuration == timer_id, Incident.resolved_at.is_(None))
                        .values(resolved_at=now))
    audit.record(session, "timer-retries", actor=actor, instance_id=row.instance_id, entity_id=row.id,
                 details={"retries": retries})


# --- the APScheduler driver ---------------------------------------------------------

class TimerScheduler:
    """Runs rounds every ``scheduler_interval`` seconds until nothing is due.

    Every job here is idempotent against the database, so any number of these
    may run on any number of machines; APScheduler keeps only the interval.
    """

    def __init__(self, factory: so.sessionmaker, interval: float,
                 scheduler: BaseScheduler | None = None, extra_jobs: Iterable[Callable[[], Any]] = ()) -> None:
        self.factory = factory
        self.interval = interval
        self.scheduler = scheduler or BackgroundScheduler(timezone=timezone.utc)
        self.extra_jobs = list(extra_jobs)

    def tick(self) -> int:
        fired = run_until_idle(self.factory)
        for job in self.extra_jobs:
            job()
        return fired

    def start(self) -> None:
        self.scheduler.add_job(self._safe_tick, IntervalTrigger(seconds=self.interval), id="onewindow-timers",
                               max_instances=1, coalesce=True, next_run_time=datetime.now(timezone.utc))
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except Exception:  # a database hiccup must not kill the scheduler thread; next tick retries
            log.exception("scheduler round failed")
