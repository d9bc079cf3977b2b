"""A small client for the engine's Camunda 7 compatible external-task API (HTTP + bearer token), and the
engine's seal check (``seal``) the certificate and decision-letter handlers ask right before signing."""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import quote

import requests


class EngineRequestError(Exception):
    """The engine refused a call or could not be reached; ``status`` is None for network errors."""

    def __init__(self, message: str, status: int | None = None, kind: str | None = None,
                 body: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        #: the error body the engine sent ({type, message, ...}), empty for network errors
        self.body = dict(body or {})
        #: retrying cannot mend it (see ``SealRefused``)
        self.final = False


class SealRefused(EngineRequestError):
    """The engine refused the approval seal for a task (403): final, retrying cannot make a revoked or expired
    letter valid. ``str()`` is the refusal in the center's language, for the incident supervisors read."""

    def __init__(self, message: str, *, code: str | None, body: Mapping[str, Any]) -> None:
        super().__init__(message, 403, body.get("type"), body)
        self.code = code
        #: the runtime reports a final error with retries 0 and this message: an incident at once
        self.final = True




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

    def seal(self, task_id: str, worker_id: str, department: str) -> None:
        """Ask the engine whether the case's decider may use ``department``'s approval seal now; raises
        ``SealRefused`` (final: the runtime raises an incident at once) when it may not."""
        try:
            self._post(f"/external-task/{task_id}/seal", {"workerId": worker_id, "department": department})
        except EngineRequestError as error:
            if error.status != 403:
                raise
            message = str(error.body.get("localizedMessage") or error.body.get("message") or error)
            raise SealRefused(message, code=error.body.get("code"), body=error.body) from error

    def rating_token(self, task_id: str, worker_id: str) -> str:
        """The token of the applicant's rating link for the task's case (the engine keeps it out of variables)."""
        return self._post(f"/external-task/{task_id}/rating-link", {"workerId": worker_id})["token"]

    def check_catalogue_item(self, proposal: Mapping[str, Any]) -> dict[str, Any]:
        """The catalogue's own checks on a proposed item record (``{kind, itemCode, record | changes,
        department}``): ``{valid, record, baseVersion, problems, warnings}``; nothing is saved."""
        return self._post("/catalogue-item/check", dict(proposal))

    def put_catalogue_item(self, code: str, record: Mapping[str, Any], business_key: str,
                           effective_from: str | None) -> dict[str, Any]:
        """Write the record adjustment case ``business_key`` approved as the item's next version; a
        redelivered task gets the same version back (``repeated``)."""
        path = f"/catalogue-item/{quote(code, safe='')}"
        body = {"record": dict(record), "businessKey": business_key, "effectiveFrom": effective_from}
        try:
            response = self.session.put(self.base_url + path, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise EngineRequestError(f"engine not reachable at {self.base_url}: {exc}") from exc
        return _answer(path, response)

    def _post(self, path: str, body: dict[str, Any], extra_timeout: float = 0.0) -> Any:
        try:
            response = self.session.post(self.base_url + path, json=body, timeout=self.timeout + extra_timeout)
        except requests.RequestException as exc:
            raise EngineRequestError(f"engine not reachable at {self.base_url}: {exc}") from exc
        return _answer(path, response)


def _typed(variables: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Plain values; the engine infers each type from the JSON value, as Camunda does."""
    return {name: {"value": value} for name, value in variables.items()}


def _answer(path: str, response: requests.Response) -> Any:
    """The JSON of a response, or ``EngineRequestError`` with the engine's error body."""
    if response.status_code >= 400:
        try:
            error = response.json()
        except ValueError:
            error = {"message": response.text[:500]}
        if not isinstance(error, dict):
            error = {"message": str(error)[:500]}
        raise EngineRequestError(f"{path}: {response.status_code} {error.get('message')}",
                                 response.status_code, error.get("type"), error)
    return response.json() if response.content else None
