"""Clerk pages under load: inbox and task page latency with 50 signed-in clerks and 100,000 open tasks.

PostgreSQL; the app served by gunicorn (4 workers, 8 threads each) over loopback. The open tasks are
100 real cases at review (what the task page loads) plus 99,900 projection rows spread over the five
departments with random due dates (what the inbox queries scan; the clerks are the market bureau's, who
see its fifth of them and the real cases). Each clerk signs in once, then
alternates inbox pages (first page, a search, the next page) and task pages for the run's duration.
Prints p50 / p99 per page and requests per second. Not a test: nothing here asserts a speed.

Usage: python bench/clerk_pages.py [--clerks 50] [--seconds 30] [--tasks 100000] [--postgres URL]
"""
from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.demo import seed  # noqa: E402
from bench.harness import fresh_database, free_port  # noqa: E402
from engine import cases, deploy, external, identity  # noqa: E402
from engine.context import Services  # noqa: E402
from engine.db import make_engine, make_session_factory  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.models import UserTask  # noqa: E402
from engine.settings import Settings  # noqa: E402

PASSWORD = "bench-pass-1"
APPLICATION = {"applicantType": "enterprise", "applicantName": "上海青禾餐饮管理有限公司", "creditCode": "91310118MA1JL0001X",
               "legalRepresentative": "陆青禾", "contactName": "陆青禾", "phone": "13800000001",
               "address": "上海市青浦区盈港东路1号", "request": "变更食品经营许可"}


def prepare(url: str, clerks: int, total: int) -> list[str]:
    """Seed the center, `clerks` approval clerks, 100 real review tasks and synthetic open tasks."""
    fresh_database(url)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine, Services.create(Settings.from_env({}, database_url=url)))
    hashed = identity._HASHER.hash(PASSWORD)
    with sessions.begin() as session:
        deploy.deploy_directory(session, ROOT / "processes", actor="bench")
        seed(session, password=None)
        session.flush()
        for n in range(clerks):
            user = identity.create_user(session, f"clerk{n}", None, groups=["approval-clerk"], department="market")
            user.password_hash = hashed
    for _ in range(100):
        with sessions.begin() as session:
            cases.start_case(session, "310118-SCJ-003", APPLICATION, channel="window", actor="window",
                             actor_groups=["window-clerk"], materials=[{"code": "application-form"}])
        with sessions.begin() as session:
            for topic in ("shared-data", "materials-check"):
                for locked in external.fetch_and_lock(session, "bench", [external.TopicRequest(topic, 60_000)]):
                    external.complete(session, locked.row.id, "bench", {})
    with sessions.begin() as session:
        real = list(session.scalars(sa.select(UserTask.id)))
        template = session.get(UserTask, real[0])
        instance_id, definition_id = template.instance_id, template.definition_id
    synthetic = total - len(real)
    with engine.begin() as conn:  # set-based: the inbox reads projections only
        conn.execute(sa.text("""
            INSERT INTO user_task (id, instance_id, definition_id, definition_key, business_key, activity_id, name,
                                   item_name, applicant_name, form_key, priority, created_at, due_at, suspended)
            SELECT md5(g::text)::uuid::text, :instance, :definition, 'window_intake',
                   'QP-SYN-' || lpad(g::text, 7, '0'), 'Task_acceptance_review', '受理审查', '食品经营许可（新办）',
                   '申请人' || (g % 5000), 'acceptance_review', 50,
                   now() - (g % 720) * interval '1 hour', now() + ((g % 400) - 100) * interval '1 hour', false
            FROM generate_series(1, :n) AS g"""), {"instance": instance_id, "definition": definition_id, "n": synthetic})
        conn.execute(sa.text("""
            INSERT INTO task_candidate (task_id, group_id)
            SELECT md5(g::text)::uuid::text,
                   (ARRAY['market','planning','housing','ecology','culture'])[1 + g % 5] || '\\:approval-clerk'
            FROM generate_series(1, :n) AS g"""), {"n": synthetic})
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return real


def clerk_loop(base: str, username: str, task_ids: list[str], until: float, timings: dict[str, list[float]],
               lock: threading.Lock) -> None:
    web = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', web.get(f"{base}/sign-in").text).group(1)
    web.post(f"{base}/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token})
    rng = random.Random(username)
    while time.monotonic() < until:
        for page, url in (("inbox", f"{base}/inbox"), ("inbox search", f"{base}/inbox?q=申请人{rng.randrange(5000)}"),
                          ("case number search", f"{base}/inbox?q=QP-SYN-0{rng.randrange(1000):03d}"),
                          ("task page", f"{base}/task/{rng.choice(task_ids)}")):
            started = time.perf_counter()
            response = web.get(url)
            elapsed = time.perf_counter() - started
            if page == "inbox":
                cursor = re.search(r'after=([A-Za-z0-9_-]+)', response.text)
                if cursor:
                    started = time.perf_counter()
                    following = web.get(f"{base}/inbox?after={cursor.group(1)}")
                    with lock:
                        timings["inbox next page"].append(time.perf_counter() - started)
                        if following.status_code != 200:
                            timings.setdefault("errors", []).append(following.status_code)
            with lock:
                timings[page].append(elapsed)
                if response.status_code != 200:
                    timings.setdefault("errors", []).append(response.status_code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clerks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/onewindow_bench"))
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    started = time.perf_counter()
    real = prepare(args.postgres, args.clerks, args.tasks)
    print(f"prepared {args.tasks} open tasks in {time.perf_counter() - started:.0f} s")
    port = free_port()
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": args.postgres, "ONEWINDOW_SECRET_KEY": "bench"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", "4", "--threads", "8", "--reuse-port", "-b",
                               f"127.0.0.1:{port}", "--log-level", "warning", "api:create_app()"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/sign-in", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        timings: dict[str, list[float]] = {"inbox": [], "inbox next page": [], "inbox search": [],
                                           "case number search": [], "task page": []}
        lock = threading.Lock()
        market = [f"clerk{n}" for n in range(args.clerks)]
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=clerk_loop, args=(base, user, real, until, timings, lock)) for user in market]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(20)
    total = sum(len(v) for k, v in timings.items() if k != "errors")
    print(f"{args.clerks} clerks, {args.seconds:.0f} s: {total} requests, {total / wall:.0f} requests/s, "
          f"non-200 answers: {len(timings.get('errors', []))}")
    for page, values in timings.items():
        if page == "errors" or not values:
            continue
        values.sort()
        print(f"  {page:16s} p50 {statistics.median(values) * 1000:6.0f} ms   p99 {values[int(0.99 * (len(values) - 1))] * 1000:6.0f} ms"
              f"   ({len(values)} requests)")


if __name__ == "__main__":
    main()
