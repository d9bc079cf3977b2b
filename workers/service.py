"""A worker process: settings → handlers → engine client → poll loops (`onewindow worker`, `make demo`)."""
from __future__ import annotations

import os
import socket
import threading
import time
from typing import Iterable

import requests

from .client import EngineClient
from .handlers import WorkerContext, build_handlers
from .runtime import Worker
from .settings import WorkerSettings


def make_worker(settings: WorkerSettings, topics: Iterable[str] = (), context: WorkerContext | None = None) -> Worker:
    """A worker for the chosen topics (all registered topics when none are named)."""
    context = context or WorkerContext.create(settings)
    handlers = build_handlers(context)
    chosen = list(topics) or sorted(handlers)
    unknown = [t for t in chosen if t not in handlers]
    if unknown:
        raise ValueError(f"no worker for topic(s) {', '.join(unknown)}; known topics: {', '.join(sorted(handlers))}")
    if not settings.worker_token:
        raise ValueError("ONEWINDOW_WORKER_TOKEN is not set: create one with `onewindow token create worker`")
    return Worker(EngineClient(settings.engine_url, settings.worker_token), {t: handlers[t] for t in chosen},
                  worker_id=f"{socket.gethostname()}-{os.getpid()}", lock_ms=settings.worker_lock_ms,
                  threads=settings.worker_threads)


def start_in_process(settings: WorkerSettings, stop: threading.Event) -> threading.Thread:
    """`make demo`: one worker for every topic on a daemon thread of the web process, polling once
    the web server in the same process answers."""
    worker = make_worker(settings)

    def run() -> None:
        wait_for_engine(settings.engine_url, stop)
        worker.run(stop)

    thread = threading.Thread(target=run, name=f"worker-{worker.worker_id}", daemon=True)
    thread.start()
    return thread


def wait_for_engine(engine_url: str, stop: threading.Event, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            requests.get(f"{engine_url}/engine", timeout=2)
            return
        except requests.RequestException:
            stop.wait(0.5)
