"""One scenario against the engine: each step is the command the API would run, in its own transaction.

``engine.scenarios`` reads the files and prepares the database; this module
takes the steps. A step that cannot be done (the task it names does not wait,
the engine refuses it, an expectation does not hold) ends the scenario with a
``ScenarioResult`` that names the step, its line and the element, and says what
waits instead — the words a designer needs to find the place in the model.
"""
from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import sqlalchemy as sa
import sqlalchemy.orm as so
from SpiffWorkflow.util.task import TaskState

from . import access, cases, caseclock, deploy, external, identity, messages, runtime, scheduler, tasks
from .clock import FixedClock, as_utc
from .context import Services
from .db import make_engine, make_session_factory
from .errors import EngineError
from .migrate import upgrade
from .projections import containing_process
from .models import (CaseClock, CatalogueItem, ExternalTask, Incident, MessageSubscription, ProcessDefinition,
                     ProcessInstance, Timer, User, UserTask)
from .scenario_checks import Model, StepFailed, check, close, model_of
from .scenarios import Scenario, ScenarioResult, Seed, Step
from .settings import Settings
from .workdays import CalendarCache, current_calendar

WORKER = "scenario"
LOCK_MS = 5 * 60_000
#: what to write instead, for an element named in the wrong kind of step
HINTS = {"userTask": " (use complete: for a user task)", "serviceTask": " (use work: for a service task)",
         "intermediateCatchEvent": " (use message: or wait: for a catch event)",
         "boundaryEvent": " (use wait: for a timer)", "eventBasedGateway": " (use message: or wait:)"}


@dataclass
class World:
    """The directory deployed and the center seeded, once, in a template database; each scenario
    gets a copy of it, its own clock and the parsed specs the copies share (same definition ids)."""

    directory: Path
    settings: Settings
    seed: Seed | None
    workdir: Path
    services: Services = field(init=False)
    runs: int = 0

    def __post_init__(self) -> None:
        template = self.workdir / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        try:
            upgrade(engine)
            self.services = Services.create(self._settings(template), FixedClock())
            with make_session_factory(engine, self.services).begin() as session:
                deploy.deploy_directory(session, self.directory, actor="scenarios")
                if self.seed is not None:
                    self.seed(session)
        finally:
            engine.dispose()

    def _settings(self, database: Path) -> Settings:
        return self.settings.with_(database_url=f"sqlite:///{database}", uploads_dir=self.workdir / "uploads",
                                   documents_dir=self.workdir / "documents")

    @contextmanager
    def sessions(self, clock: FixedClock) -> Iterator[so.sessionmaker]:
        """A fresh copy of the template for one scenario (SQLite's backup API); gone afterwards."""
        self.runs += 1
        path = self.workdir / f"scenario-{self.runs}.db"
        source, target = sqlite3.connect(self.workdir / "template.db"), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        engine = make_engine(f"sqlite:///{path}")
        services = Services(settings=self._settings(path), clock=clock, specs=self.services.specs,
                            calendars=CalendarCache(), forms=self.services.forms)
        try:
            yield make_session_factory(engine, services)
        finally:
            engine.dispose()
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)


def start_moment(clock: str | None, settings: Settings) -> datetime | None:
    """The scenario's start time in UTC; a date-time without offset is the center's local time."""
    if clock is None:
        return None
    moment = datetime.fromisoformat(clock)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.timezone))
    return moment.astimezone(timezone.utc)


def run_scenario(world: World, scenario: Scenario) -> ScenarioResult:
    """Run one scenario on its own copy of the world's database."""
    began = time.perf_counter()

    def result(passed: bool, step: int | None = None, element: str | None = None, message: str = "",
               line: int | None = None, visited: tuple = ()) -> ScenarioResult:
        return ScenarioResult(scenario.file, scenario.name, passed, step, element, message, line,
                              round(time.perf_counter() - began, 3), visited)

    if scenario.problem is not None:
        return result(False, scenario.problem.step, None, scenario.problem.message, scenario.problem.line)
    clock = FixedClock(start_moment(scenario.clock, world.settings))
    final = len(scenario.steps) + 1
    with world.sessions(clock) as sessions:
        case = Case(sessions, clock, scenario, world.services.tz)
        number, line = 0, scenario.line
        try:
            case.prepare()
            case.start()
            for step in scenario.steps:
                number, line = step.number, step.line
                case.take(step)
            number, line = final, scenario.expect_line
            check(case, scenario.expect)
            visited = tuple(case.visited())
        except StepFailed as exc:
            if exc.step is not None:
                number = exc.step
                line = scenario.steps[number - 1].line if number < final else scenario.expect_line
            return result(False, number, exc.element_id, _where(scenario, number, final) + exc.message, line)
        except EngineError as exc:
            return result(False, number, None, _where(scenario, number, final) + f"the engine refused it: {exc}", line)
        except Exception as exc:  # a bug in a model's script or in the engine: still this scenario's failure
            return result(False, number, None, _where(scenario, number, final) + f"{exc.__class__.__name__}: {exc}",
                          line)
    return result(True, message=f"{len(scenario.steps)} step(s)", visited=visited)


def _where(scenario: Scenario, number: int, final: int) -> str:
    if number == 0:
        return "start: "
    if number == final:
        return "final expect: "
    step = scenario.steps[number - 1]
    inherited = f" of '{step.written_in}'" if step.written_in != scenario.name else ""
    return f"step {number}{inherited} ({step.action}): "


class Case:
    """The scenario's case: its instance, the center's users, and the steps on it."""

    def __init__(self, sessions: so.sessionmaker, clock: FixedClock, scenario: Scenario, tz: tzinfo) -> None:
        self.sessions, self.clock, self.scenario, self.tz = sessions, clock, scenario, tz
        self.instance_id: str | None = None
        self.users: dict[str, frozenset[str]] = {}
        self.model = Model([])

    # --- before the first step: every id the scenario names must be in the model --------------

    def prepare(self) -> None:
        scenario, start = self.scenario, self.scenario.start
        with self.sessions.begin() as session:
            self.users = {u.username: identity.principal_of(u).groups
                          for u in session.scalars(sa.select(User).where(User.active.is_(True)))}
            deployed = set(session.scalars(sa.select(ProcessDefinition.key).distinct()))
            if scenario.process not in deployed:
                raise StepFailed(f"process '{scenario.process}' is in no BPMN file of the directory "
                                 f"(deployed: {', '.join(sorted(deployed)) or 'none'})")
            if "item" in start:
                root = session.scalar(sa.select(CatalogueItem.process_key).where(
                    CatalogueItem.code == str(start["item"]), CatalogueItem.current.is_(True)))
                if root is None:
                    codes = session.scalars(sa.select(CatalogueItem.code).where(CatalogueItem.current.is_(True)))
                    raise StepFailed(f"no catalogue item '{start['item']}'{close(start['item'], codes)}")
            else:
                root = str(start.get("process") or scenario.process)
            if root not in deployed:
                raise StepFailed(f"process '{root}' is not deployed{close(root, deployed)}")
            self.model = model_of(session, root)
        if scenario.process not in self.model.keys:
            raise StepFailed(f"the case runs '{root}', which never reaches '{scenario.process}' "
                             f"(it runs {', '.join(self.model.keys)})")
        self._check_ids("start", None, start, 0)
        for step in scenario.steps:
            self._check_ids(step.action, step.target, step.options, step.number)
        self._check_ids("expect", scenario.expect, {}, len(scenario.steps) + 1)

    def _check_ids(self, action: str, target: Any, options: Mapping[str, Any], number: int) -> None:
        model = self.model
        if action in ("complete", "work"):
            known = set(model.elements) | (model.topics if action == "work" else set())
            if target not in known:
                raise self._unknown(number, target, known, "element" if action == "complete" else "element or topic")
            kind = model.elements.get(target, ("serviceTask",))[0]
            wanted = ("userTask",) if action == "complete" else ("serviceTask", "sendTask", "businessRuleTask")
            if kind not in wanted:
                hint = HINTS.get(kind, "")
                raise self._unknown(number, target, (), f"{wanted[0]}: it is a {kind}{hint}", known_as=True)
        elif action == "message" and target not in model.messages:
            raise self._unknown(number, target, model.messages, "message name")
        elif action == "expect":
            for key in ("waiting", "timers", "incidents", "path", "includes", "not_visited"):
                for element in target.get(key, []):
                    if element not in model.elements:
                        raise self._unknown(number, element, model.elements, f"element (in expect.{key})")
        if "as" in options and options["as"] not in self.users:
            raise self._unknown(number, options["as"], self.users, "user (as:)")

    def _unknown(self, number: int, name: Any, known: Iterable[str], what: str, known_as: bool = False
                 ) -> StepFailed:
        if known_as:
            return StepFailed(f"{name} is not a {what}", str(name), number)
        if what.startswith("user"):
            return StepFailed(f"there is no user '{name}' in the center{close(name, known)}", None, number)
        return StepFailed(f"'{name}' is no {what} of {', '.join(self.model.keys)}{close(name, known)}",
                          str(name) if "element" in what else None, number)

    # --- start and steps ----------------------------------------------------------------------

    def start(self) -> None:
        start = self.scenario.start
        with self.sessions.begin() as session:
            if "item" in start:
                channel = str(start.get("channel", "window"))
                actor = start.get("as") or self._first_user(cases.CHANNELS.get(channel, ()))
                instance = cases.start_case(session, str(start["item"]), dict(start.get("application") or {}),
                                            channel=channel, actor=actor, actor_groups=self.users.get(actor, ()),
                                            materials=start.get("materials"))
            else:
                instance = runtime.start_instance(session, str(start.get("process") or self.scenario.process),
                                                  business_key=start.get("business_key"),
                                                  variables=dict(start.get("variables") or {}),
                                                  actor=start.get("as") or WORKER)
            self.instance_id = instance.id

    def take(self, step: Step) -> None:
        if step.action == "expect":
            return check(self, step.target)
        if step.action == "wait":
            return self.wait(step.target)
        act = {"complete": self.complete, "work": self.work, "message": self.message}[step.action]
        expected = step.options.get("refused")
        try:
            act(step)
        except EngineError as exc:
            if expected is None:
                raise StepFailed(f"the engine refused it: {exc}", self._element_of(step)) from None
            if expected is not True and str(expected) not in str(exc):
                raise StepFailed(f"the engine refused it, but not for '{expected}': {exc}",
                                 self._element_of(step)) from None
            return None
        if expected is not None:
            raise StepFailed(f"expected the engine to refuse it ({expected}), but it went through",
                             self._element_of(step))
        return None

    def _element_of(self, step: Step) -> str | None:
        if step.action == "message":
            return next((s.activity_id for s in self._rows(MessageSubscription) if s.message_name == step.target), None)
        return step.target if step.target in self.model.elements else None

    def complete(self, step: Step) -> None:
        target, options = step.target, step.options
        found = [t for t in self._rows(UserTask, UserTask.created_at, UserTask.id) if t.activity_id == target]
        if not found:
            raise StepFailed(f"{self.model.describe(target)} is not waiting; waiting: {self.waiting_text()}", target)
        department = options.get("department")
        if department:
            found = [t for t in found if any(g.startswith(f"{department}:") for g in t.candidate_groups)]
            if not found:
                raise StepFailed(f"no {self.model.describe(target)} of department '{department}' waits", target)
        actor = options.get("as")
        if actor is None:
            choice = next(((t, u) for t in found for u in self._candidates(t)), None)
            if choice is None:
                groups = ", ".join(found[0].candidate_groups) or "no group"
                raise StepFailed(f"nobody in the center may complete {self.model.describe(target)} (it is for "
                                 f"{groups}); say who with 'as:'", target)
            row, actor = choice
        else:
            row = next((t for t in found if access.can_act(t, actor, self.users[actor])), found[0])
        with self.sessions.begin() as session:
            tasks.complete(session, row.id, dict(options.get("data") or {}), user=actor, groups=self.users[actor])

    def work(self, step: Step) -> None:
        target, options = step.target, step.options
        found = [t for t in self._rows(ExternalTask, ExternalTask.created_at, ExternalTask.id)
                 if target in (t.activity_id, t.topic)]
        if not found:
            raise StepFailed(f"no service task {self.model.describe(target)} waits; waiting: {self.waiting_text()}",
                             target if target in self.model.elements else None)
        row = found[0]
        if row.retries is not None and row.retries <= 0:
            raise StepFailed(f"{self.model.describe(row.activity_id)} has an incident and is not fetched: "
                             f"{row.error_message}", row.activity_id)
        with self.sessions.begin() as session:
            locked = external.fetch_and_lock(session, WORKER, [external.TopicRequest(row.topic, LOCK_MS)],
                                             max_tasks=1000)
            if row.id not in {t.row.id for t in locked}:
                raise StepFailed(f"{self.model.describe(row.activity_id)} waits but a worker cannot fetch it "
                                 "(suspended or locked)", row.activity_id)
            for other in locked:
                if other.row.id != row.id:
                    external.unlock(session, other.row.id, WORKER)
            if "error" in options:
                error = options["error"]
                external.bpmn_error(session, row.id, WORKER, error_code=str(error["code"]),
                                    error_message=error.get("message"), variables=error.get("variables"))
            elif "failure" in options:
                failure = options["failure"]
                detail = failure if isinstance(failure, dict) else {"message": failure}
                text = detail.get("message") if isinstance(detail.get("message"), str) else "the worker failed"
                external.failure(session, row.id, WORKER, error_message=text, error_details=None,
                                 retries=int(detail.get("retries", 0)), retry_timeout_ms=None)
            else:
                external.complete(session, row.id, WORKER, dict(options.get("result") or {}))

    def message(self, step: Step) -> None:
        waiting = [s for s in self._rows(MessageSubscription) if s.message_name == step.target]
        if not waiting:
            raise StepFailed(f"nothing waits for message '{step.target}'; waiting: {self.waiting_text()}")
        actor = step.options.get("as")
        with self.sessions.begin() as session:
            messages.correlate(session, step.target, instance_id=self.instance_id,
                               variables=dict(step.options.get("data") or {}), actor=actor or WORKER,
                               actor_groups=self.users[actor] if actor else None)

    def wait(self, target: Any) -> None:
        """Move the clock, then let the scheduler fire what came due (and move the case clocks), as the
        scheduler process would."""
        from .tasks import parse_duration

        tz = self.tz
        now = self.clock.now()
        if isinstance(target, str):
            self.clock.advance(parse_duration(target))
        elif "until" in target:
            moment = datetime.fromisoformat(str(target["until"]))
            moment = (moment if moment.tzinfo else moment.replace(tzinfo=tz)).astimezone(timezone.utc)
            if moment < now:
                raise StepFailed(f"the clock cannot go back (it is {now.astimezone(tz).isoformat()})")
            self.clock.set(moment)
        else:
            local = now.astimezone(tz)
            with self.sessions.begin() as session:
                day = current_calendar(session).add_working_days(local, int(target["workdays"])).day
            at = datetime.strptime(str(target["at"]), "%H:%M").time() if "at" in target else local.time()
            moment = datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)
            self.clock.set(max(moment, now))
        scheduler.run_until_idle(self.sessions)
        caseclock.check_due(self.sessions)
        failed = [t for t in self._rows(Timer) if t.last_error]
        if failed:
            timer = failed[0]
            raise StepFailed(f"timer {self.model.describe(timer.activity_id)} could not fire: {timer.last_error}",
                             timer.activity_id)

    # --- what the case is doing ---------------------------------------------------------------

    def _rows(self, model: Any, *order: Any) -> list[Any]:
        with self.sessions.begin() as session:
            return list(session.scalars(sa.select(model).where(model.instance_id == self.instance_id)
                                        .order_by(*(order or [model.activity_id]))))

    def waiting(self) -> list[str]:
        """What the case waits for: user tasks, service tasks and message catch events (timers apart)."""
        return [r.activity_id for model in (UserTask, ExternalTask, MessageSubscription) for r in self._rows(model)]

    def waiting_text(self) -> str:
        waiting = self.waiting()
        if waiting:
            return self.model.listing(waiting)
        return f"nothing (the case is {self.status()})"

    def timers(self) -> list[str]:
        return [t.activity_id for t in self._rows(Timer)]

    def incidents(self) -> list[str]:
        return [i.activity_id for i in self._rows(Incident) if i.resolved_at is None]

    def case_clock(self) -> dict[str, Any] | None:
        """The case clock (engine.caseclock) as the supervisors see it: its columns, times in the center's
        zone, and ``suspended`` / ``closed`` for the pause and the stop."""
        with self.sessions.begin() as session:
            row = session.get(CaseClock, self.instance_id)
            if row is None:
                return None
            found = {c.key: getattr(row, c.key) for c in sa.inspect(CaseClock).column_attrs}
        found = {k: as_utc(v).astimezone(self.tz).isoformat(timespec="seconds") if isinstance(v, datetime) else v
                 for k, v in found.items()}
        found.update(suspended=found["suspended_since"] is not None, closed=found["closed_at"] is not None)
        return found

    def status(self) -> str:
        with self.sessions.begin() as session:
            return session.get(ProcessInstance, self.instance_id).status

    def variables(self) -> dict[str, Any]:
        with self.sessions.begin() as session:
            return runtime.instance_variables(runtime.load(session, self.instance_id).workflow)

    def path(self) -> list[str]:
        """Element ids in the order they completed (a loop's elements as often as it went round)."""
        return [element for _key, element in self.visited()]

    def visited(self) -> list[tuple[str, str]]:
        """(process key, element id) in the order the elements completed; called processes run inside the
        instance, so each element is named with the process whose model holds it."""
        with self.sessions.begin() as session:
            workflow = runtime.load(session, self.instance_id).workflow
        done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if getattr(t.task_spec, "bpmn_id", None)]
        done.sort(key=lambda t: t.last_state_change)
        return [(containing_process(t, self.model.keys), t.task_spec.bpmn_id) for t in done]

    def _first_user(self, roles: Iterable[str]) -> str | None:
        roles = set(roles)
        return next((u for u in sorted(self.users) if self.users[u] & roles and "admin" not in self.users[u]), None)

    def _candidates(self, row: UserTask) -> Iterable[str]:
        """Who may complete a task without being named: its candidates, never an administrator (who may do
        anything, and so would prove nothing)."""
        for username in sorted(self.users):
            groups = self.users[username]
            if "admin" in groups:
                continue
            if row.assignee == username or (not row.assignee and (
                    groups & set(row.candidate_groups) or username in (row.candidate_users or []))):
                yield username
