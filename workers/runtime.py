"""The worker runtime: fetch-and-lock service tasks over /engine-rest, run a handler, report back.

A handler is a function of one ``ExternalTask`` returning the variables to
complete with. It raises ``BpmnError`` for an outcome the model catches (a
business result, e.g. "licence not found"), and any other exception for a
technical failure: the runtime reports ``failure`` with the retries left and
an exponential back-off, so the engine hands the task out again later and,
with no retries left, raises an incident for an operator.

Delivery is at least once (a lock can expire while a slow handler runs), so
handlers with side effects key them on something stable — the task's
``business_key`` and activity, or ``task.id`` — and make the second call a
no-op. Workers see the engine only through HTTP; nothing here imports
``engine``.
"""
from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

from .client import EngineClient, EngineRequestError

log = logging.getLogger(__name__)


class BpmnError(Exception):
    """A business outcome the process models with an error boundary event (``errorCode``)."""

    def __init__(self, code: str, message: str = "", variables: Mapping[str, Any] | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message
        self.variables = dict(variables or {})


class RetryLater(Exception):
    """The task cannot be done now for a reason that is not a failure (another worker holds the effect);
    the engine hands it out again after ``seconds`` without spending a retry."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


@dataclass(frozen=True)
class ExternalTask:
    """What a handler sees of a locked task: its identity and the process variables (plain values)."""

    id: str
    topic: str
    activity_id: str
    process_instance_id: str
    business_key: str | None
    variables: Mapping[str, Any]
    retries: int | None
    worker_id: str

    def get(self, name: str, default: Any = None) -> Any:
        return self.variables.get(name, default)


class Handler(Protocol):
    def __call__(self, task: ExternalTask) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per task and the back-off between them (seconds, doubling)."""

    attempts: int = 3
    first_delay: float = 5.0
    max_delay: float = 300.0

    def next(self, retries_left_before: int | None) -> tuple[int, int]:
        """(retries left after this failure, retryTimeout in ms)."""
        left = (self.attempts if retries_left_before is None else retries_left_before) - 1
        done = self.attempts - 1 - left
        delay = min(self.first_delay * (2 ** max(done, 0)), self.max_delay)
        return max(left, 0), int(delay * 1000)


@dataclass
class Worker:
    """Runs handlers for their topics. ``run_once`` is one fetch-and-work cycle (tests, cron);
    ``run`` polls until ``stop`` is set, with long polling so an idle worker costs nothing."""

    client: EngineClient
    handlers: Mapping[str, Handler]
    worker_id: str
    lock_ms: int = 60_000
    max_tasks: int = 10
    threads: int = 4
    long_poll_ms: int = 20_000
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def run_once(self, long_poll_ms: int = 0) -> int:
        topics = [{"topicName": topic, "lockDuration": self.lock_ms} for topic in self.handlers]
        locked = self.client.fetch_and_lock(self.worker_id, topics, self.max_tasks, long_poll_ms)
        tasks = [self._task(raw) for raw in locked]
        if self.threads <= 1 or len(tasks) <= 1:
            for task in tasks:
                self.work(task)
        else:
            with ThreadPoolExecutor(max_workers=self.threads) as pool:
                list(pool.map(self.work, tasks))
        return len(tasks)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once(self.long_poll_ms)
            except EngineRequestError as exc:  # engine down or restarting: wait, then try again
                log.warning("fetch failed: %s", exc)
                stop.wait(2.0)

    def work(self, task: ExternalTask) -> str:
        """Run one task's handler and report the outcome; returns completed|bpmn-error|failed."""
        handler = self.handlers[task.topic]
        try:
            result = handler(task) or {}
        except BpmnError as error:
            self.client.bpmn_error(task.id, self.worker_id, error.code, error.message, error.variables)
            return "bpmn-error"
        except RetryLater as later:  # not a failure: someone else is on it; keep the retries
            self.client.failure(task.id, self.worker_id, str(later)[:500], "", task.retries if task.retries is not None
                                else self.retry.attempts, int(later.seconds * 1000))
            return "later"
        except Exception as exc:  # a technical failure: the engine retries it later
            return self._fail(task, exc)
        try:
            self.client.complete(task.id, self.worker_id, dict(result))
        except EngineRequestError as refused:
            if refused.status in (400, 403):  # the engine refused the step: an operator must see it
                return self._fail(task, refused)
            raise
        return "completed"

    def _fail(self, task: ExternalTask, exc: BaseException) -> str:
        """Report a failure with the retries the policy leaves; an error marked ``final`` (a refusal retrying
        cannot mend, such as a refused approval seal) with none, and its own message, which the engine said
        in the center's language: an incident at once."""
        if getattr(exc, "final", False):
            log.warning("task %s (%s) failed for good: %s", task.id, task.topic, exc)
            self.client.failure(task.id, self.worker_id, str(exc)[:500], _details(exc), 0, 0)
            return "failed"
        retries, timeout = self.retry.next(task.retries)
        log.warning("task %s (%s) failed, %d retries left: %s", task.id, task.topic, retries, exc)
        self.client.failure(task.id, self.worker_id, f"{exc.__class__.__name__}: {exc}"[:500],
                            _details(exc), retries, timeout)
        return "failed"

    def _task(self, raw: Mapping[str, Any]) -> ExternalTask:
        return ExternalTask(id=raw["id"], topic=raw["topicName"], activity_id=raw["activityId"],
                            process_instance_id=raw["processInstanceId"], business_key=raw.get("businessKey"),
                            variables={k: _plain(v) for k, v in (raw.get("variables") or {}).items()},
                            retries=raw.get("retries"), worker_id=self.worker_id)


def _plain(variable: Mapping[str, Any]) -> Any:
    """A typed Camunda variable as a plain value: Json values travel as JSON text."""
    value = variable.get("value")
    if variable.get("type") == "Json" and isinstance(value, str):
        return json.loads(value)
    return value


def _details(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(exc))[-4000:]

