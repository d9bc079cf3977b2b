"""Cases per second for the 5-step process, three ways side by side.

    start → service task (by a worker) → user task → exclusive gateway → end

1. SpiffWorkflow in memory, no persistence (the ceiling);
2. this engine on SQLite (one transaction per command: start, fetch-and-lock,
   complete external task, complete user task);
3. this engine on PostgreSQL (same commands).

Usage: python bench/engine_throughput.py [--cases N] [--postgres URL]
Prints a table and the ratios. Not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine import deploy, external, runtime, tasks  # noqa: E402
from engine.context import Services  # noqa: E402
from engine.db import make_engine, make_session_factory  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.parser import CamundaDialectParser  # noqa: E402
from engine.models import UserTask  # noqa: E402
from engine.settings import Settings  # noqa: E402

MODEL = ROOT / "tests" / "bpmn" / "camunda" / "five_step.bpmn"


def in_memory(cases: int) -> float:
    from engine.expressions import make_script_engine

    parser = CamundaDialectParser()
    parser.add_bpmn_file(str(MODEL))
    spec = parser.get_spec("five_step")
    script_engine = make_script_engine()
    began = time.perf_counter()
    for _ in range(cases):
        workflow = BpmnWorkflow(spec, script_engine=script_engine)
        workflow.do_engine_steps()
        service = workflow.get_next_task(state=TaskState.STARTED)
        service.data["score"] = 7
        service.complete()
        workflow.do_engine_steps()
        user = workflow.get_next_task(state=TaskState.READY, manual=True)
        user.data["approved"] = True
        user.run()
        workflow.do_engine_steps()
        assert workflow.completed
    return cases / (time.perf_counter() - began)


def persisted(url: str, cases: int) -> float:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine, Services.create(Settings.from_env({}, database_url=url)))
    with sessions.begin() as session:
        deploy.deploy(session, [(MODEL.name, MODEL.read_bytes())], actor="bench")
    topic = [external.TopicRequest("score", 60_000, variables=[])]
    began = time.perf_counter()
    for number in range(cases):
        with sessions.begin() as session:
            instance_id = runtime.start_instance(session, "five_step", business_key=f"B{number}").id
        with sessions.begin() as session:
            [locked] = external.fetch_and_lock(session, "bench", topic, max_tasks=1)
        with sessions.begin() as session:
            external.complete(session, locked.row.id, "bench", {"score": 7})
        with sessions.begin() as session:
            task_id = session.scalar(sa.select(UserTask.id).where(UserTask.instance_id == instance_id))
            tasks.complete(session, task_id, {"approved": True}, user="bench", groups=["admin"])
    rate = cases / (time.perf_counter() - began)
    engine.dispose()
    return rate


def fresh_postgres(admin_url: str) -> str | None:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text('DROP DATABASE IF EXISTS "onewindow_bench"'))
            conn.execute(sa.text('CREATE DATABASE "onewindow_bench"'))
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL not reachable ({exc.__class__.__name__}); skipping that run")
        return None
    finally:
        admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/onewindow_bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--postgres", default=os.environ.get(
        "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test").replace(
        "postgresql://", "postgresql+psycopg://"))
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {args.cases} cases per run")
    results = {"SpiffWorkflow in memory": in_memory(args.cases * 5)}
    with tempfile.TemporaryDirectory() as tmp:
        results["onewindow on SQLite"] = persisted(f"sqlite:///{tmp}/bench.db", args.cases)
    url = fresh_postgres(args.postgres)
    if url:
        results["onewindow on PostgreSQL"] = persisted(url, args.cases)
    base = results["SpiffWorkflow in memory"]
    print(f"{'run':28} {'cases/s':>10} {'ratio to in-memory':>20}")
    for name, rate in results.items():
        print(f"{name:28} {rate:10.1f} {rate / base:20.3f}")


if __name__ == "__main__":
    main()
