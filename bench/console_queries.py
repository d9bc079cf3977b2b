"""The supervisors' list and dashboard as the case table grows: 10,000 / 100,000 / 1,000,000 cases.

For each size: `onewindow seed-cases` adds synthetic cases (with their clocks and indicators) to a fresh
PostgreSQL bench database up to that size (its progress bar shows), VACUUM ANALYZE (what autovacuum does on
a live database), then each query runs 30 times through the engine functions the pages and the REST API
call, and its p50 and p99 are printed.
With --plans, PostgreSQL's plans of the list queries at the largest size are printed too. Not a test:
nothing here asserts a speed.

Usage: python bench/console_queries.py [--sizes 10000,100000,1000000] [--postgres URL] [--plans]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.demo import seed  # noqa: E402
from bench.harness import fresh_database  # noqa: E402
from engine import deploy, identity, indicators, supervision  # noqa: E402
from engine.context import Services, services  # noqa: E402
from engine.db import make_engine, make_session_factory  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.settings import Settings  # noqa: E402
from engine.supervision import InstanceFilter  # noqa: E402

CENTER = identity.Principal("supervisor", frozenset({"supervisor"}), "center")
MARKET = identity.Principal("market_boss", frozenset({"supervisor"}), "market")
REPEAT = 30


def queries(session) -> dict:
    today = services(session).clock.now().astimezone(services(session).tz).date()

    def deep_page():  # the twentieth page, following the cursors
        after = None
        for _ in range(20):
            after = supervision.instances(session, InstanceFilter(), CENTER, after=after).next_cursor
        return after

    return {
        "list: newest first": lambda: supervision.instances(session, InstanceFilter(), CENTER),
        "list: one department (its supervisor)": lambda: supervision.instances(session, InstanceFilter(), MARKET),
        "list: running, red card": lambda: supervision.instances(
            session, InstanceFilter(status="running", warning="red"), CENTER),
        "list: applicant prefix": lambda: supervision.instances(session, InstanceFilter(applicant="王李"), CENTER),
        "list: item, oldest first": lambda: supervision.instances(
            session, InstanceFilter(item_code="310118-SCJ-002", sort="oldest"), CENTER),
        "list: nearest deadline": lambda: supervision.instances(session, InstanceFilter(sort="deadline"), CENTER),
        "list: 20 pages deep": deep_page,
        "dashboard: 30 days, all": lambda: indicators.dashboard(session, today - timedelta(days=29), today),
        "dashboard: 30 days, market": lambda: indicators.dashboard(session, today - timedelta(days=29), today, "market"),
        "dashboard: 365 days, all": lambda: indicators.dashboard(session, today - timedelta(days=364), today),
    }


def measure(sessions) -> dict[str, tuple[float, float]]:
    found = {}
    with sessions() as session:
        for name, run in queries(session).items():
            run()  # warm: plans, caches
            times = []
            for _ in range(REPEAT):
                started = time.perf_counter()
                run()
                times.append((time.perf_counter() - started) * 1000)
                session.rollback()
            times.sort()
            found[name] = (statistics.median(times), times[int(len(times) * 0.99) - 1])
    return found


def explain(engine) -> None:
    statements = {
        "list: newest first": "SELECT * FROM process_instance LEFT JOIN case_clock ON case_clock.instance_id = "
                              "process_instance.id ORDER BY process_instance.started_at DESC, process_instance.id DESC "
                              "LIMIT 51",
        "list: one department": "SELECT * FROM process_instance LEFT JOIN case_clock ON case_clock.instance_id = "
                                "process_instance.id WHERE process_instance.department = 'market' ORDER BY "
                                "process_instance.started_at DESC, process_instance.id DESC LIMIT 51",
        "list: running, red card": "SELECT * FROM process_instance LEFT JOIN case_clock ON case_clock.instance_id = "
                                   "process_instance.id WHERE process_instance.status = 'running' AND "
                                   "case_clock.warning_state = 'red' ORDER BY process_instance.started_at DESC, "
                                   "process_instance.id DESC LIMIT 51",
        "list: nearest deadline": "SELECT * FROM process_instance LEFT JOIN case_clock ON case_clock.instance_id = "
                                  "process_instance.id WHERE case_clock.closed_at IS NULL AND case_clock.promised_deadline_at IS NOT NULL ORDER BY "
                                  "case_clock.promised_deadline_at, process_instance.id LIMIT 51",
        "open cases by warning": "SELECT warning_state, count(*) FROM case_clock WHERE closed_at IS NULL GROUP BY "
                                 "warning_state",
        "open cases by warning, one department": "SELECT warning_state, count(*) FROM case_clock WHERE closed_at IS "
                                                 "NULL AND department = 'market' GROUP BY warning_state",
    }
    with engine.connect() as conn:
        for name, sql in statements.items():
            print(f"\n-- {name}")
            for (line,) in conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)):
                print("   " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/onewindow_console"))
    parser.add_argument("--plans", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    fresh_database(args.postgres)
    engine = make_engine(args.postgres)
    upgrade(engine)
    sessions = make_session_factory(engine, Services.create(Settings.from_env({}, database_url=args.postgres)))
    with sessions.begin() as session:
        deploy.deploy_directory(session, ROOT / "processes", actor="bench")
        seed(session, password=None)
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": args.postgres, "ONEWINDOW_SECRET_KEY": "bench"}
    have, results = 0, {}
    for size in sizes:
        started = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "onewindow"), "seed-cases", str(size - have),
                        "--first", str(have)], cwd=ROOT, env=env, check=True)
        print(f"{size} cases: seeded {size - have} in {time.perf_counter() - started:.0f} s")
        have = size
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))  # what autovacuum does in a while on a live database
        results[size] = measure(sessions)
    names = list(next(iter(results.values())))
    print("\n| query | " + " | ".join(f"{s:,} p50 / p99 ms" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for name in names:
        print(f"| {name} | " + " | ".join(f"{results[s][name][0]:.1f} / {results[s][name][1]:.1f}" for s in sizes)
              + " |")
    if args.plans:
        explain(engine)
    engine.dispose()


if __name__ == "__main__":
    main()
