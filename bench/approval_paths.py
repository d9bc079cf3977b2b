"""Whole cases through the approval paths: receive → workers → decision → certificate → delivery → rating.

Each case is an instant item (个体工商户设立登记): the window receives it, the workers fetch shared data,
check materials and issue the signed receipt, the representative decides, the worker makes and signs
the certificate and mails it, the window delivers, the worker invites a rating and the rating arrives.
Every step is one engine command in its own transaction, as over HTTP (HTTP itself is left out); the
worker handlers are the real ones (reportlab + pyHanko signatures, SMTP to a local aiosmtpd server,
the shared-data stand-in over HTTP). Prints cases per second, the time per case, and where it goes
(engine commands against each worker topic). Not a test: nothing here asserts a speed.

Usage: python bench/approval_paths.py [--cases N] [--postgres URL]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from api.demo import seed  # noqa: E402
from bench.harness import fresh_database, free_port  # noqa: E402
from engine import cases, deploy, external, identity, messages, tasks  # noqa: E402
from engine.context import Services  # noqa: E402
from engine.db import make_engine, make_session_factory  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.models import User, UserTask  # noqa: E402
from engine.settings import Settings  # noqa: E402
from standins.shared_data import serve_in_thread  # noqa: E402
from tests.paths import DirectEngine  # noqa: E402
from workers.handlers import WorkerContext, build_handlers  # noqa: E402
from workers.runtime import ExternalTask  # noqa: E402
from workers.settings import WorkerSettings  # noqa: E402

APPLICATION = {"applicantType": "individual", "applicantName": "沈小明", "idNumber": "310229199001011234",
               "phone": "13900000002", "email": "shenxm@example.com", "address": "上海市青浦区朱家角镇1号",
               "request": "在朱家角镇开一家小吃店",
               "materials": [{"code": "application-form"}, {"code": "premises"}]}


class Sink:
    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler protocol
        return "250 OK"


class Run:
    def __init__(self, url: str, workdir: Path, smtp_port: int, shared_url: str) -> None:
        engine = make_engine(url)
        upgrade(engine)
        self.sessions = make_session_factory(engine, Services.create(Settings.from_env({}, database_url=url)))
        with self.sessions.begin() as session:
            deploy.deploy_directory(session, ROOT / "processes", actor="bench")
            seed(session, password=None)
        with self.sessions.begin() as session:
            self.groups = {u: identity.principal_of(session.get(User, u)).groups for u in ("window", "market_chief")}
        context = WorkerContext.create(WorkerSettings(
            worker_store_url=f"sqlite:///{workdir / 'ledger.db'}", documents_dir=workdir / "documents",
            seal_dir=workdir / "seal", smtp_port=smtp_port, shared_data_url=shared_url))
        context.engine = DirectEngine(self.sessions)  # the tests' harness asks the engine directly too
        self.handlers = build_handlers(context)
        self.engine_seconds = 0.0
        self.topic_seconds: dict[str, list[float]] = defaultdict(list)

    def command(self, function, *args, **kwargs):
        started = time.perf_counter()
        with self.sessions.begin() as session:
            result = function(session, *args, **kwargs)
        self.engine_seconds += time.perf_counter() - started
        return result

    def work(self) -> None:
        while True:
            locked = self.command(lambda s: [(l.row, l.variables) for l in external.fetch_and_lock(
                s, "bench", [external.TopicRequest(t, 60_000) for t in self.handlers], max_tasks=10)])
            if not locked:
                return
            for row, variables in locked:
                task = ExternalTask(row.id, row.topic, row.activity_id, row.instance_id, row.business_key,
                                    variables, row.retries, "bench")
                started = time.perf_counter()
                result = self.handlers[row.topic](task)
                self.topic_seconds[row.topic].append(time.perf_counter() - started)
                self.command(external.complete, row.id, "bench", result)

    def user_task(self, key: str) -> str:
        return self.command(lambda s: s.scalar(sa.select(UserTask.id).where(UserTask.business_key == key)))

    def one_case(self) -> None:
        key = self.command(lambda s: cases.start_case(s, "310118-SCJ-001", APPLICATION, channel="window", actor="window",
                                                      actor_groups=self.groups["window"]).business_key)
        self.work()
        self.command(tasks.complete, self.user_task(key), {"decision": "grant", "opinion": "符合条件",
                                                           "sealConfirmed": True},
                     user="market_chief", groups=self.groups["market_chief"])
        self.work()
        self.command(tasks.complete, self.user_task(key), {"deliveryMethod": "window", "recipientName": "沈小明"},
                     user="window", groups=self.groups["window"])
        self.work()
        self.command(lambda s: messages.correlate(s, "rating-received", business_key=key, variables={"rating": "满意"},
                                                  actor="portal"))


def measure(label: str, url: str, count: int, smtp_port: int, shared_url: str) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        run = Run(url, Path(workdir), smtp_port, shared_url)
        run.one_case()  # warm up: parse specs, make the demo seal
        run.engine_seconds, run.topic_seconds = 0.0, defaultdict(list)
        per_case = []
        started = time.perf_counter()
        for _ in range(count):
            begun = time.perf_counter()
            run.one_case()
            per_case.append(time.perf_counter() - begun)
        total = time.perf_counter() - started
    per_case.sort()
    print(f"{label}: {count} cases in {total:.1f} s = {count / total:.1f} cases/s; per case p50 "
          f"{statistics.median(per_case) * 1000:.0f} ms, p99 {per_case[int(0.99 * (count - 1))] * 1000:.0f} ms")
    print(f"  engine commands {run.engine_seconds / count * 1000:.0f} ms per case; worker handlers:")
    for topic, seconds in sorted(run.topic_seconds.items()):
        print(f"    {topic:20s} {statistics.mean(seconds) * 1000:7.1f} ms mean over {len(seconds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/onewindow_bench"))
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    port = free_port()
    smtp = Controller(Sink(), hostname="127.0.0.1", port=port)
    smtp.start()
    shared = serve_in_thread()
    try:
        shared_url = f"http://127.0.0.1:{shared.server_port}"
        with tempfile.TemporaryDirectory() as directory:
            measure("SQLite", f"sqlite:///{directory}/bench.db", args.cases, port, shared_url)
        try:
            fresh_database(args.postgres)
        except sa.exc.OperationalError as exc:
            print(f"PostgreSQL: skipped ({exc.__class__.__name__})")
            return
        measure("PostgreSQL", args.postgres, args.cases, port, shared_url)
    finally:
        shared.shutdown()
        smtp.stop()


if __name__ == "__main__":
    main()
