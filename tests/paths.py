"""A service center in a test: the reform's processes deployed, the demo catalogue and staff seeded,
real worker handlers (PDF, seal, SMTP, shared data) run against the engine's external-task commands."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from api.demo import seed
from engine import cases, deploy, external, identity, messages, scheduler, tasks
from engine.materials import store as store_material
from engine.models import ExternalTask, ProcessInstance, User, UserTask
from engine.settings import PROJECT_ROOT
from workers.handlers import WorkerContext, build_handlers
from workers.runtime import ExternalTask as WorkerTask

from .flows import completed_activities, variables

ENTERPRISE = {"applicantType": "enterprise", "applicantName": "上海青禾餐饮管理有限公司",
              "creditCode": "91310118MA1JL0001X", "legalRepresentative": "陆青禾", "contactName": "陆青禾",
              "phone": "13800000001", "email": "luqinghe@example.com", "address": "上海市青浦区盈港东路1号",
              "request": "新开一家中式快餐店，经营面积120平方米"}
PERSON = {"applicantType": "individual", "applicantName": "沈小明", "idNumber": "310229199001011234",
          "phone": "13900000002", "email": "shenxm@example.com", "address": "上海市青浦区朱家角镇1号",
          "request": "在朱家角镇开一家小吃店"}
FOOD_LICENCE, FOOD_CHANGE, PHARMACY = "310118-SCJ-002", "310118-SCJ-003", "310118-SCJ-004"
SOLE_TRADER, PERFORMANCE, RESTAURANT_BUNDLE = "310118-SCJ-001", "310118-WHLY-002", "310118-YJS-001"
GRANT = {"decision": "grant", "opinion": "符合条件，准予许可", "sealConfirmed": True}
ALL_FOOD_MATERIALS = [{"code": c} for c in ("application-form", "layout", "safety-rules")]


@dataclass
class Center:
    sessions: Any
    clock: Any
    context: WorkerContext
    handlers: dict = field(default_factory=dict)

    def groups(self, username: str) -> frozenset[str]:
        with self.sessions.begin() as session:
            return identity.principal_of(session.get(User, username)).groups

    def receive(self, item: str, application: dict, materials: list[dict] | None = None,
                user: str = "window", channel: str = "window", files: dict[str, tuple[str, bytes]] | None = None
                ) -> str:
        """Receive an application; ``files`` (material code → file name and bytes) are stored and received with
        it in the same command, as the window's receive page does."""
        groups = self.groups(user)
        with self.sessions.begin() as session:
            stored = [store_material(session, code, name, data) for code, (name, data) in (files or {}).items()]
            received = [*(materials or []), *stored] if materials is not None or stored else None
            instance = cases.start_case(session, item, application, channel=channel, actor=user,
                                        actor_groups=groups, materials=received)
            return instance.business_key

    def instance_id(self, key: str) -> str:
        with self.sessions.begin() as session:
            return session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.business_key == key))

    def work(self, worker: str = "test-worker", rounds: int = 50) -> list[str]:
        """Fetch and do every service task until none is left; returns the topics done, in order."""
        done = []
        for _ in range(rounds):
            with self.sessions.begin() as session:
                locked = external.fetch_and_lock(session, worker, [external.TopicRequest(t, 60_000) for t in self.handlers],
                                                 max_tasks=10)
                batch = [self._worker_task(item, worker) for item in locked]
            if not batch:
                return done
            for task in batch:
                result = self.handlers[task.topic](task)
                with self.sessions.begin() as session:
                    external.complete(session, task.id, worker, result or {})
                done.append(task.topic)
        raise AssertionError("service tasks kept coming")

    @staticmethod
    def _worker_task(locked: external.LockedTask, worker: str) -> WorkerTask:
        row: ExternalTask = locked.row
        return WorkerTask(id=row.id, topic=row.topic, activity_id=row.activity_id,
                          process_instance_id=row.instance_id, business_key=row.business_key,
                          variables=locked.variables, retries=row.retries, worker_id=worker)

    def tasks(self, key: str) -> list[UserTask]:
        with self.sessions.begin() as session:
            return list(session.scalars(sa.select(UserTask).where(UserTask.business_key == key)
                                        .order_by(UserTask.created_at, UserTask.activity_id)))

    def waiting(self, key: str) -> list[str]:
        return [t.activity_id for t in self.tasks(key)]

    def complete(self, key: str, activity: str, user: str, data: dict, *, department: str | None = None) -> None:
        """Complete the waiting ``activity`` (of ``department``, where several departments have one)."""
        found = [t for t in self.tasks(key) if t.activity_id == activity
                 and (department is None or any(g.startswith(f"{department}:") for g in t.candidate_groups))]
        assert found, f"no '{activity}' task waits in {key}; waiting: {self.waiting(key)}"
        with self.sessions.begin() as session:
            tasks.complete(session, found[0].id, data, user=user, groups=self.groups(user))

    def message(self, name: str, key: str, data: dict, user: str = "portal") -> None:
        with self.sessions.begin() as session:
            messages.correlate(session, name, business_key=key, variables=data, actor=user,
                               actor_groups=self.groups(user))

    def pass_days(self, days: float) -> int:
        """Move the clock on and let the scheduler fire what came due."""
        self.clock.advance(timedelta(days=days))
        return scheduler.run_until_idle(self.sessions)

    def variables(self, key: str) -> dict:
        return variables(self.sessions, self.instance_id(key))

    def completed(self, key: str) -> set[str]:
        return completed_activities(self.sessions, self.instance_id(key))

    def status(self, key: str) -> str:
        with self.sessions.begin() as session:
            return session.scalar(sa.select(ProcessInstance.status).where(ProcessInstance.business_key == key))


def seeded_app(app, password: str, *users: str):
    """The demo center (departments, catalogue, processes) in ``app``, with ``users`` able to sign in with
    ``password`` (one hash each, not the whole center's)."""
    from api import state

    with state(app).sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
        session.flush()
        for user in users:
            session.get(User, user).password_hash = identity._HASHER.hash(password)
    return app


def make_center(sessions, clock, worker_settings, *, seeded: bool = False) -> Center:
    """The center's processes and staff (unless ``seeded`` already) and real worker handlers."""
    if not seeded:
        with sessions.begin() as session:
            deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
            seed(session, password=None)
    context = WorkerContext.create(worker_settings)
    context.now = clock.now
    context.engine = DirectEngine(sessions)
    return Center(sessions, clock, context, build_handlers(context))


class DirectEngine:
    """What the handlers ask the engine, asked directly as the REST routes ask it (``workers.handlers.
    EngineQuestions``): one transaction each; a seal refusal recorded after the rollback and raised (the
    handler then signs nothing)."""

    def __init__(self, sessions) -> None:
        self.sessions = sessions

    def seal(self, task_id: str, worker_id: str, department: str) -> None:
        from engine import authorizations, seals

        try:
            with self.sessions.begin() as session:
                seals.check_seal(session, task_id, worker_id, department)
        except authorizations.AuthorizationRefused as refused:
            with self.sessions.begin() as session:
                authorizations.record_refusal(session, refused)
            raise

    def rating_token(self, task_id: str, worker_id: str) -> str:
        from engine import ratings

        with self.sessions.begin() as session:
            return ratings.link_token(session, task_id, worker_id)


def at_decision(center) -> str:
    """A 食品经营许可变更 received at the window and accepted by market_clerk: it waits for the chief
    representative's decision, its receipt sealed."""
    key = center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "材料齐全"})
    center.work()
    return key


def delivered(center, delivery: dict | None = None, *, stop_before_rating: bool = False) -> str:
    """A granted performance licence handed over (at the window unless ``delivery`` says otherwise);
    the rating invitation has gone out (or waits for its worker, with ``stop_before_rating``)."""
    key = center.receive(PERFORMANCE, ENTERPRISE, [{"code": "application-form"}, {"code": "programme"}])
    center.work()
    center.complete(key, "Task_acceptance_review", "culture_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    center.complete(key, "Task_chief_decision", "culture_chief", GRANT)
    center.work()
    center.complete(key, "Task_delivery", "window", delivery or {"deliveryMethod": "window", "recipientName": "陆青禾"})
    if not stop_before_rating:
        assert center.work() == ["rating-request"]
    return key
