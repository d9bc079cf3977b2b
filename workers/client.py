"""A small client for the engine's Camunda 7 compatible external-task API (HTTP + bearer token)."""
from __future__ import annotations

from typing import Any, Mapping

import requests


class EngineRequestError(Exception):
    """The engine refused a call or could not be reached; ``status`` is None for network errors."""

    def __init__(self, message: str, status: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


class EngineClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def fetch_and_lock(self, worker_id: str, topics: list[dict[str, Any]], max_tasks: int,
                       long_poll_ms: int = 0) -> list[dict[str, Any]]:
        body = {"workerId": worker_id, "maxTasks": max_tasks, "usePriority": True, "topics": topics}
        if long_poll_ms:
            body["asyncResponseTimeout"] = long_poll_ms
        return self._post("/external-task/fetchAndLock", body, extra_timeout=long_poll_ms / 1000)

    def complete(self, task_id: str, worker_id: str, variables: Mapping[str, Any]) -> None:
        self._post(f"/external-task/{task_id}/complete", {"workerId": worker_id, "variables": _typed(variables)})

    def failure(self, task_id: str, worker_id: str, message: str, details: str, retries: int,
                retry_timeout_ms: int) -> None:
        self._post(f"/external-task/{task_id}/failure", {
            "workerId": worker_id, "errorMessage": message, "errorDetails": details, "retries": retries,
            "retryTimeout": retry_timeout_ms})

    def bpmn_error(self, task_id: str, worker_id: str, code: str, message: str,
                   variables: Mapping[str, Any]) -> None:
        self._post(f"/external-task/{task_id}/bpmnError", {
            "workerId": worker_id, "errorCode": code, "errorMessage": message, "variables": _typed(variables)})

    def _post(self, path: str, body: dict[str, Any], extra_timeout: float = 0.0) -> Any:
        try:
            response = self.session.post(self.base_url + path, json=body, timeout=self.timeout + extra_timeout)
        except requests.RequestException as exc:
            raise EngineRequestError(f"engine not reachable at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                error = response.json()
            except ValueError:
                error = {"message": response.text[:500]}
            raise EngineRequestError(f"{path}: {response.status_code} {error.get('message')}",
                                     response.status_code, error.get("type"))
        return response.json() if response.content else None


def _typed(variables: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Plain values; the engine infers each type from the JSON value, as Camunda does."""
    return {name: {"value": value} for name, value in variables.items()}
