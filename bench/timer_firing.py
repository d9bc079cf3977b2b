"""10,000 timers due at the same moment on PostgreSQL, fired by 1 and by 2 scheduler processes.

For each run: create N instances of the intermediate-timer model, move every
timer row's due time to one moment a few seconds ahead, start the scheduler
processes (real OS processes, wall clock), and wait until the timer table is
empty. Prints seconds until all fired and the lateness (audit time of the
firing minus due time) at p50 and p99. Not a test: nothing here asserts a speed.

Usage: python bench/timer_firing.py [--timers N] [--postgres URL] [--batch B]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import fresh_database  # noqa: E402
from engine import deploy, runtime  # noqa: E402
from engine.context import Services  # noqa: E402
from engine.db import make_engine, make_session_factory  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.models import AuditEntry, Timer  # noqa: E402
from engine.settings import Settings  # noqa: E402

MODEL = ROOT / "tests" / "bpmn" / "camunda" / "timer_catch.bpmn"
WORKER = """
import sys, time
from engine.context import Services
from engine.db import make_engine, make_session_factory
from engine.scheduler import run_round
from engine.settings import Settings
url, batch = sys.argv[1], int(sys.argv[2])
engine = make_engine(url)
factory = make_session_factory(engine, Services.create(Settings.from_env({}, database_url=url)))
while True:  # until the bench terminates it, like `onewindow scheduler` with a 50 ms interval
    if run_round(factory, batch).claimed == 0:
        time.sleep(0.05)
"""


def prepare(url: str, timers: int) -> sa.Engine:
    fresh_database(url)
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine, Services.create(Settings.from_env({}, database_url=url)))
    with factory.begin() as session:
        deploy.deploy(session, [(MODEL.name, MODEL.read_bytes())])
    far = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    for start in range(0, timers, 500):
        with factory.begin() as session:
            for _ in range(min(500, timers - start)):
                runtime.start_instance(session, "timer_catch", variables={"waitUntil": far})
    return engine


def run(url: str, timers: int, processes: int, batch: int) -> tuple[float, float, float]:
    engine = prepare(url, timers)
    due = datetime.now(timezone.utc) + timedelta(seconds=3)
    with engine.begin() as conn:
        conn.execute(sa.update(Timer).values(due_at=due))
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, str(batch)], cwd=ROOT) for _ in range(processes)]
    while True:
        with engine.connect() as conn:
            left = conn.scalar(sa.select(sa.func.count()).select_from(Timer))
        if left == 0:
            break
        time.sleep(0.1)
    for proc in procs:
        proc.terminate()
        proc.wait()
    with engine.connect() as conn:
        fired_at = list(conn.scalars(sa.select(AuditEntry.at).where(AuditEntry.action == "timer")))
    engine.dispose()
    lateness = sorted((moment - due).total_seconds() for moment in fired_at)
    total = max(lateness)
    return total, statistics.median(lateness), lateness[int(len(lateness) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--postgres", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/onewindow_bench"))
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.timers} timers due at one moment, batch {args.batch}")
    print(f"{'schedulers':<12}{'all fired after s':>20}{'lateness p50 s':>16}{'p99 s':>10}")
    for processes in (1, 2):
        total, p50, p99 = run(args.postgres, args.timers, processes, args.batch)
        print(f"{processes:<12}{total:>20.1f}{p50:>16.1f}{p99:>10.1f}")


if __name__ == "__main__":
    main()
