"""Races: two clerks completing one task, many workers fetching one topic."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from engine import external, runtime, tasks
from engine.errors import Conflict, EngineError
from engine.models import AuditEntry, ExternalTask, UserTask

from .test_runtime import start, user_tasks


def _race(workers: list, timeout: float = 60) -> list:
    barrier = threading.Barrier(len(workers))
    results: list = [None] * len(workers)

    def run(index: int, job) -> None:
        barrier.wait()
        try:
            results[index] = ("ok", job())
        except Exception as exc:  # collected and asserted below
            results[index] = ("error", exc)

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


def test_two_threads_completing_the_same_task(sessions, deploy):
    deploy("camunda/parallel.bpmn")
    iid = start(sessions, "parallel")
    task = user_tasks(sessions, iid)[0]

    def complete() -> None:
        with sessions.begin() as session:
            tasks.complete(session, task.id, {"by": threading.get_ident()}, user="x", groups=["admin"])

    results = _race([complete, complete])
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, EngineError) and error.status in (404, 409)
    with sessions.begin() as session:
        completions = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.action == "complete-task"))
        assert completions == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(UserTask)) == 1


def test_stale_version_is_a_conflict_and_writes_nothing(sessions, deploy, database_url):
    """A command that loaded version N loses to one that committed N+1 (PostgreSQL: no
    writer lock is held while reading; SQLite serialises whole commands instead)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs every command under BEGIN IMMEDIATE, so commands cannot interleave")
    deploy("camunda/parallel.bpmn")
    iid = start(sessions, "parallel")
    first, second = user_tasks(sessions, iid)
    slow = sessions()
    slow.begin()
    try:
        loaded = runtime.load(slow, iid)
        with sessions.begin() as fast:
            tasks.complete(fast, first.id, {}, user="x", groups=["admin"])
        from uuid import UUID

        loaded.workflow.get_task_from_id(UUID(second.id)).run()
        with pytest.raises(Conflict):
            runtime.advance(slow, loaded, "x", "complete-task")
    finally:
        slow.rollback()
        slow.close()
    assert [t.activity_id for t in user_tasks(sessions, iid)] == ["b"]


def test_workers_never_get_the_same_task(sessions, deploy):
    deploy("camunda/five_step.bpmn")
    for number in range(40):
        start(sessions, "five_step", business_key=f"B{number}")
    seen: list[str] = []
    lock = threading.Lock()

    def worker(name: str):
        def run() -> int:
            got = 0
            while True:
                with sessions.begin() as session:
                    batch = external.fetch_and_lock(session, name, [external.TopicRequest("score", 60_000)],
                                                    max_tasks=3)
                    ids = [t.row.id for t in batch]
                if not ids:
                    return got
                with lock:
                    seen.extend(ids)
                got += len(ids)
        return run

    results = _race([worker(f"w{i}") for i in range(4)])
    assert all(kind == "ok" for kind, _ in results), results
    assert len(seen) == 40 and len(set(seen)) == 40
    with sessions.begin() as session:
        owners = session.scalars(sa.select(ExternalTask.worker_id)).all()
        assert len(owners) == 40 and None not in owners
