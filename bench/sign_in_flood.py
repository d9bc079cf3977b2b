"""Worker calls while HTTP Basic is flooded with random names: what the sign-in throttle buys.

PostgreSQL; the app served by gunicorn (2 workers, 8 threads each) over loopback with ONEWINDOW_PROXY_COUNT=1,
so the flood can say which address it comes from in X-Forwarded-For. One "worker" thread calls
`GET /engine-rest/process-definition` with its bearer token, one call after another; meanwhile flood threads
send Basic credentials with a new random name each time. Three phases of the same length:

- quiet: no flood;
- one address: every flood request from the same address — after its first thirty names the throttle
  refuses it before any password is hashed (a second phase of it: refused from the start);
- many addresses: every flood request from an address of its own (a botnet) — each is a first failure of
  its pair and address, so each is hashed; what is left to the reverse proxy's rate limit.

Prints the worker's p50 / p99 per phase and how the flood was answered (401 = hashed and wrong, 429 =
refused before hashing). Not a test: nothing here asserts a speed.

Usage: python bench/sign_in_flood.py [--seconds 10] [--flooders 8] [--postgres URL]
"""
from __future__ import annotations

import argparse
import base64
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.harness import fresh_database, free_port  # noqa: E402
from engine import identity  # noqa: E402
from engine.context import Services  # noqa: E402
from engine.db import make_engine, make_session_factory  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.settings import Settings  # noqa: E402


def prepare(url: str) -> str:
    """A fresh database with one worker and its token."""
    fresh_database(url)
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_session_factory(engine, Services.create(Settings.from_env({}, database_url=url)))
    with sessions.begin() as session:
        identity.create_user(session, "worker", None, groups=["worker"])
        session.flush()
        token = identity.create_token(session, "worker", "bench")
    engine.dispose()
    return token


def worker_loop(base: str, token: str, until: float, timings: list[float]) -> None:
    with requests.Session() as http:
        while time.monotonic() < until:
            began = time.perf_counter()
            answer = http.get(f"{base}/engine-rest/process-definition", headers={"Authorization": f"Bearer {token}"})
            timings.append(time.perf_counter() - began)
            assert answer.status_code == 200, answer.text


def flood_loop(base: str, until: float, answers: Counter, lock: threading.Lock, *, spread: bool) -> None:
    with requests.Session() as http:
        while time.monotonic() < until:
            name = uuid.uuid4().hex[:12]
            address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}" if spread \
                else "203.0.113.66"
            credentials = base64.b64encode(f"{name}:guess".encode()).decode()
            status = http.get(f"{base}/engine-rest/process-definition",
                              headers={"Authorization": f"Basic {credentials}", "X-Forwarded-For": address}).status_code
            with lock:
                answers[status] += 1


def phase(base: str, token: str, seconds: float, flooders: int, spread: bool | None) -> tuple[list[float], Counter]:
    timings: list[float] = []
    answers: Counter = Counter()
    lock = threading.Lock()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=worker_loop, args=(base, token, until, timings))]
    if spread is not None:
        threads += [threading.Thread(target=flood_loop, args=(base, until, answers, lock), kwargs={"spread": spread})
                    for _ in range(flooders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--flooders", type=int, default=8)
    parser.add_argument("--postgres", default=os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/onewindow_bench_flood"))
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    token = prepare(args.postgres)
    port = free_port()
    env = {**os.environ, "ONEWINDOW_DATABASE_URL": args.postgres, "ONEWINDOW_SECRET_KEY": "bench",
           "ONEWINDOW_PROXY_COUNT": "1"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-w", "2", "--threads", "8", "-b",
                               f"127.0.0.1:{port}", "--log-level", "warning", "api:create_app()"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/engine-rest/engine", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        print(f"{args.seconds:.0f} s per phase, {args.flooders} flood threads")
        for label, spread in (("quiet", None), ("one address", False), ("same, 2nd phase", False),
                              ("many addresses", True)):
            timings, answers = phase(base, token, args.seconds, args.flooders, spread)
            timings.sort()
            flood = ", ".join(f"{count} × {status}" for status, count in sorted(answers.items())) or "none"
            print(f"  {label:16s} worker p50 {statistics.median(timings) * 1000:7.1f} ms   "
                  f"p99 {timings[int(0.99 * (len(timings) - 1))] * 1000:7.1f} ms   ({len(timings)} calls)   flood: {flood}")
    finally:
        server.terminate()
        server.wait(20)


if __name__ == "__main__":
    main()
