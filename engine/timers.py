"""BPMN timer events: due times from the engine's clock, kept in the timer table, fired on command.

SpiffWorkflow's own timer definitions compare against ``datetime.now()``
whenever a workflow is refreshed, so a timer would fire as a side effect of
any command and tests would have to sleep. Ours never look at a clock: the
engine *arms* a waiting timer (evaluates its expression once, against the
injected clock, and stores the due time in the task), the projection writes
a ``timer`` row, and only the scheduler *fires* it, in one transaction with
the row's deletion, so each timer fires exactly once.

Expressions: Camunda models write plain ISO 8601 text (``PT10M``,
``2026-10-08T09:00``, ``R3/PT10M``), a 5-field cron line for cycles
(``0 9 * * 1-5``), or JUEL (``${dueDate}``); SpiffWorkflow models write
Python expressions (``"PT10M"``, ``add_working_days(received, 5)``). A value
may be ISO text, a datetime, a date or a timedelta.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, Iterator

from apscheduler.triggers.cron import CronTrigger
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.util.task import TaskState

from .juel import is_juel

#: internal-data key of an armed timer: {"due": iso, "remaining": int, "period": seconds, "cron": str}
ARMED = "onewindow_timer"
#: internal-data flag the scheduler sets to make a cycle timer produce one more token
CYCLE_FIRE = "onewindow_cycle_fire"
#: internal-data key naming the timer that fired inside an event-based gateway
FIRED_IN_GATEWAY = "onewindow_fired_timer"
UNBOUNDED = -1


class TimerExpressionError(ValueError):
    """A timer expression whose value is not a date, a duration or a cycle; says which and why."""


# --- event definitions ---------------------------------------------------

class EngineTimer:
    """Fired only when the engine says so; arming happens in ``arm_waiting_timers``."""

    dialect: str = "spiff"
    kind: str = ""
    #: the BPMN id of the timer event (an event-based gateway holds several events' timers)
    element_id: str = ""

    def has_fired(self, my_task: Any) -> bool:
        if my_task.internal_data.get(FIRED_IN_GATEWAY) is not None:
            return my_task.internal_data[FIRED_IN_GATEWAY] == self.element_id
        return bool(my_task._get_internal_data("event_fired", False))


class DateTimer(EngineTimer, TimeDateEventDefinition):
    kind = "timeDate"


class DurationTimer(EngineTimer, DurationTimerEventDefinition):
    kind = "timeDuration"


class CycleTimer(EngineTimer, CycleTimerEventDefinition):
    """Each firing produces one token on the outgoing flow; the event itself keeps waiting
    (a non-interrupting boundary cycle ends with its activity)."""

    kind = "timeCycle"

    def cycle_complete(self, my_task: Any) -> bool:
        return bool(my_task.internal_data.pop(CYCLE_FIRE, False))


class StartCycleTimer(EngineTimer, TimerEventDefinition):
    """A timer start event with a cycle: the repetition belongs to the definition (each firing
    starts a new instance, see ``engine.scheduler``); inside an instance it fires once."""

    kind = "timeCycle"


TIMER_CLASSES = {"timeDate": DateTimer, "timeDuration": DurationTimer, "timeCycle": CycleTimer}
ALL_TIMER_CLASSES = (DateTimer, DurationTimer, CycleTimer, StartCycleTimer)


def make_timer_definition(kind: str, name: str, expression: str, dialect: str, description: str | None,
                          element_id: str, start_event: bool = False) -> Any:
    cls = StartCycleTimer if start_event and kind == "timeCycle" else TIMER_CLASSES[kind]
    definition = cls(name, expression, description=description)
    definition.dialect = dialect
    definition.element_id = element_id
    return definition


# --- schedules -----------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    """When a timer is next due and, for cycles, how the one after is found."""

    due: datetime
    remaining: int = 0  # firings left after this one; UNBOUNDED for endless cycles
    period: timedelta | None = None
    cron: str | None = None

    def following(self, tz: tzinfo) -> "Schedule | None":
        if self.remaining == 0:
            return None
        remaining = self.remaining - 1 if self.remaining > 0 else UNBOUNDED
        if self.cron:
            return Schedule(next_cron_time(self.cron, self.due, tz), remaining, cron=self.cron)
        assert self.period is not None
        return Schedule(self.due + self.period, remaining, self.period)

    def to_dict(self) -> dict[str, Any]:
        return {"due": self.due.isoformat(), "remaining": self.remaining,
                "period": self.period.total_seconds() if self.period else None, "cron": self.cron}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Schedule":
        period = data.get("period")
        return cls(datetime.fromisoformat(data["due"]), data.get("remaining", 0),
                   timedelta(seconds=period) if period else None, data.get("cron"))


def schedule_for(kind: str, value: Any, now: datetime, tz: tzinfo) -> Schedule:
    """The first due time of a timer whose expression evaluated to ``value`` at ``now``."""
    if kind == "timeDate":
        return Schedule(_as_moment(value, tz))
    if kind == "timeDuration":
        return Schedule(now + _as_duration(value, now))
    return _cycle(value, now, tz)


def _as_moment(value: Any, tz: tzinfo) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise TimerExpressionError(f"'{value}' is not an ISO 8601 date-time (e.g. 2026-10-08T09:00:00+08:00)") from None
    else:
        raise TimerExpressionError(f"a timeDate must be a date-time, got {type(value).__name__} {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc)


#: the longest duration a timer may wait (datetime ends in the year 9999)
MAX_DURATION_MONTHS = 12 * 9999
MAX_DAYS = 365 * 9999


def _as_duration(value: Any, start: datetime) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str) or not value.strip().upper().startswith("P"):
        raise TimerExpressionError(f"a timeDuration must be an ISO 8601 duration such as PT10M or P5D, got {value!r}")
    try:
        parsed = TimerEventDefinition.parse_iso_duration(value.strip().upper())
        months = float(parsed.get("years", 0)) * 12 + float(parsed.get("months", 0))
    except Exception:
        raise TimerExpressionError(f"'{value}' is not an ISO 8601 duration (e.g. PT10M, P5D, P1DT12H)") from None
    if months > MAX_DURATION_MONTHS or float(parsed.get("days", 0)) + float(parsed.get("weeks", 0)) * 7 > MAX_DAYS:
        # SpiffWorkflow counts a duration month by month: P99999999999Y would keep it busy for hours
        raise TimerExpressionError(f"the duration {value.strip()} is longer than the calendar (it ends in the year "
                                   "9999)")
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)


_REPEAT = re.compile(r"^R(\d*)$", re.IGNORECASE)


def _cycle(value: Any, now: datetime, tz: tzinfo) -> Schedule:
    if not isinstance(value, str) or not value.strip():
        raise TimerExpressionError(f"a timeCycle must be text such as R3/PT10M or a cron line, got {value!r}")
    text = value.strip()
    parts = text.split("/")
    repeat = _REPEAT.match(parts[0])
    if repeat is None:
        return _cron(text, now, tz)
    count = int(repeat.group(1)) if repeat.group(1) else UNBOUNDED
    if count == 0:
        raise TimerExpressionError(f"'{text}' repeats zero times")
    if len(parts) == 2:
        period = _as_duration(parts[1], now)
        first = now + period
    elif len(parts) == 3:
        first = _as_moment(parts[1], tz)
        period = _as_duration(parts[2], first)
    else:
        raise TimerExpressionError(f"'{text}' is not a cycle: use R[n]/duration or R[n]/start/duration")
    if period <= timedelta(0):
        raise TimerExpressionError(f"'{text}' has an empty period")
    return Schedule(first, count - 1 if count > 0 else UNBOUNDED, period)


def _cron(text: str, now: datetime, tz: tzinfo) -> Schedule:
    next_time = next_cron_time(text, now, tz)
    return Schedule(next_time, UNBOUNDED, cron=text)


_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _crontab_trigger(text: str, tz: tzinfo) -> CronTrigger:
    """Standard crontab numbers Sunday 0 (or 7) to Saturday 6; APScheduler 3 counts from Monday,
    so weekday numbers are turned into names before they reach it."""
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"a cron line has 5 fields (minute hour day month weekday), this one has {len(fields)}")
    minute, hour, day, month, weekday = fields
    weekday = re.sub(r"\d+", lambda m: _WEEKDAYS[int(m.group())] if int(m.group()) <= 7 else m.group(), weekday)
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, timezone=tz)


def next_cron_time(text: str, after: datetime, tz: tzinfo) -> datetime:
    """Next firing of a 5-field crontab line (minute hour day month weekday) in the center's zone."""
    try:
        trigger = _crontab_trigger(text, tz)
    except ValueError as exc:
        raise TimerExpressionError(
            f"'{text}' is neither an ISO 8601 cycle (R3/PT10M) nor a 5-field cron line (0 9 * * 1-5): {exc}"
        ) from None
    moment = trigger.get_next_fire_time(None, after + timedelta(seconds=1))
    if moment is None:
        raise TimerExpressionError(f"cron line '{text}' never fires again")
    return moment.astimezone(timezone.utc)


# --- arming and firing ---------------------------------------------------

def timer_definitions(task: Any) -> list[EngineTimer]:
    """The timers a waiting task listens for: its own, or those among an event-based
    gateway's branches (SpiffWorkflow gathers them into one multiple event)."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, EngineTimer):
        return [definition]
    if isinstance(definition, MultipleEventDefinition) and not definition.parallel:
        return [d for d in definition.event_definitions if isinstance(d, EngineTimer)]
    return []


def timer_definition(task: Any) -> EngineTimer | None:
    """The timer armed on this task (the earliest, when a gateway has several)."""
    armed = task.internal_data.get(ARMED) or {}
    found = timer_definitions(task)
    return next((d for d in found if d.element_id == armed.get("timer")), found[0] if found else None)


def timer_kind(definition: Any) -> str:
    if not isinstance(definition, EngineTimer):
        raise TypeError(f"not an engine timer: {definition!r}")
    return definition.kind


def evaluate_expression(task: Any, definition: EngineTimer) -> Any:
    """Camunda text is literal unless it is JUEL; SpiffWorkflow text is always a Python expression."""
    expression = definition.expression
    if definition.dialect == "camunda" and not is_juel(expression):
        return (expression or "").strip()
    return task.workflow.script_engine.evaluate(task, expression)


def evaluate_standalone(definition: EngineTimer, script_engine: Any) -> Any:
    """A timer start event's value, at deployment: there is no instance, hence no variables."""
    expression = definition.expression
    if definition.dialect == "camunda" and not is_juel(expression):
        return (expression or "").strip()
    try:
        return script_engine.environment.evaluate(expression, {})
    except Exception as exc:
        raise TimerExpressionError(f"start timer '{definition.name}': {exc}") from None


def waiting_timer_tasks(workflow: Any) -> Iterator[Any]:
    for task in list(workflow.event_manager.tasks.values()):
        if task.state == TaskState.WAITING and timer_definitions(task):
            yield task


def arm_waiting_timers(workflow: Any, now: datetime, tz: tzinfo) -> None:
    """Give every newly waiting timer its schedule, computed once from ``now``. Of a gateway's
    several timers only the earliest can win the race, so it is the one armed."""
    for task in waiting_timer_tasks(workflow):
        if ARMED in task.internal_data:
            continue
        schedules = [(_schedule(task, d, now, tz), d) for d in timer_definitions(task)]
        schedule, definition = min(schedules, key=lambda pair: pair[0].due)
        task.internal_data[ARMED] = {**schedule.to_dict(), "timer": definition.element_id,
                                     "expression": str(definition.expression)}


def _schedule(task: Any, definition: EngineTimer, now: datetime, tz: tzinfo) -> Schedule:
    value = evaluate_expression(task, definition)
    try:
        return schedule_for(timer_kind(definition), value, now, tz)
    except TimerExpressionError as exc:
        label = f"'{definition.name}'"
        if definition.element_id and definition.element_id != definition.name:
            label += f" ({definition.element_id})"
        raise TimerExpressionError(f"Timer {label}: {exc}") from None


def armed_schedule(task: Any) -> Schedule | None:
    data = task.internal_data.get(ARMED)
    if not data or data.get("due") is None:
        return None
    return Schedule.from_dict(data)


def fire(task: Any, tz: tzinfo) -> None:
    """Let a waiting timer event go: a date or duration completes the event; a cycle sends
    one token on and re-arms for its next due time (or stops after the last); in an
    event-based gateway the timer's branch is taken."""
    definition = timer_definition(task)
    own = getattr(task.task_spec, "event_definition", None) is definition
    if own and isinstance(definition, CycleTimer) and not _is_start_event(task):
        schedule = armed_schedule(task)
        following = schedule.following(tz) if schedule else None
        task.internal_data[ARMED] = {**task.internal_data[ARMED],
                                     **(following.to_dict() if following else {"due": None})}
        task.internal_data[CYCLE_FIRE] = True
    elif own:
        task._set_internal_data(event_fired=True)
    else:
        task.internal_data[FIRED_IN_GATEWAY] = definition.element_id
    task.task_spec._update(task)


def _is_start_event(task: Any) -> bool:
    return isinstance(task.task_spec, StartEvent)


def event_kind(task_spec: Any) -> str:
    if isinstance(task_spec, BoundaryEvent):
        return "boundary"
    if isinstance(task_spec, StartEvent):
        return "start"
    return "intermediate"


def fire_start_timer(workflow: Any) -> bool:
    """A new instance of a process with a timer start event: the timer has just fired (that
    is why the instance exists, or a person started it by hand), so let the start event go."""
    for task in waiting_timer_tasks(workflow):
        if _is_start_event(task) and task.workflow is workflow:
            task._set_internal_data(event_fired=True)
            task.task_spec._update(task)
            return True
    return False
