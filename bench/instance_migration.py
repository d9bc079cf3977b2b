"""Moving running cases to a new version: the dry run and the migration itself, per instance.

Deploys tests/bpmn/versions/review_v1.bpmn, starts N cases (each waits at its first user task), deploys
review_v2.bpmn and times `plan_migration` (the dry run: each instance loaded, its waiting elements
matched in the new version, nothing written) and `migrate_instances` (the same, then every instance
rewritten with its projections and an audit entry), each in one transaction as the REST call and
`onewindow migrate` do. Prints milliseconds per instance. Not a test: nothing here asserts a speed.

Usage: python bench/instance_migration.py [--cases N] [--postgres URL]
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import fresh_database  # noqa: E402
from engine import deploy, instance_migration, runtime  # noqa: E402
from engine.context import Services  # noqa: E402
from engine.db import make_engine, make_session_factory  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.settings import Settings  # noqa: E402

VERSIONS = ROOT / "tests" / "bpmn" / "versions"


def run(url: str, cases: int) -> tuple[float, float]:
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine, Services.create(Settings.from_env({}, database_url=url)))
    first = VERSIONS / "review_v1.bpmn"
    with sessions.begin() as session:
        source = deploy.deploy(session, [(first.name, first.read_bytes())], actor="bench").new_definitions[0].id
    for _ in range(cases):
        with sessions.begin() as session:
            runtime.start_instance(session, "review_versions", actor="bench")
    second = VERSIONS / "review_v2.bpmn"
    with sessions.begin() as session:
        target = deploy.deploy(session, [(second.name, second.read_bytes())], actor="bench").new_definitions[0].id
    began = time.perf_counter()
    with sessions.begin() as session:
        plan = instance_migration.plan_migration(session, source, target)
    dry = time.perf_counter() - began
    assert len(plan.migratable) == cases, plan
    began = time.perf_counter()
    with sessions.begin() as session:
        moved = instance_migration.migrate_instances(session, source, target, actor="bench")
    wet = time.perf_counter() - began
    assert len(moved.migrated) == cases, moved
    engine.dispose()
    return dry * 1000 / cases, wet * 1000 / cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--postgres", default=os.environ.get("ONEWINDOW_BENCH_POSTGRES",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/bench_migration"))
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {args.cases} cases waiting at their first task")
    with tempfile.TemporaryDirectory() as folder:
        results = {"SQLite": run(f"sqlite:///{folder}/bench.db", args.cases)}
    fresh_database(args.postgres)
    results["PostgreSQL"] = run(args.postgres, args.cases)
    print(f"{'database':12} {'dry run ms/case':>16} {'migrate ms/case':>16}")
    for name, (dry, wet) in results.items():
        print(f"{name:12} {dry:16.2f} {wet:16.2f}")


if __name__ == "__main__":
    main()
