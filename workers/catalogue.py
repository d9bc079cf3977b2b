"""The service tasks of a catalogue adjustment (事项动态调整): check the department's proposal, write the
approved record.

Both are the engine's own work (the catalogue's checks, a new item version in one transaction), so the
handlers only carry the case's variables to the REST endpoints and the answers back: a worker never
touches the database. Neither needs the ledger: checking writes nothing, and the engine keys the write
by the adjustment case, so a redelivered apply task gets the version the first delivery wrote.
"""
from __future__ import annotations

import functools
from typing import Any

from .client import EngineClient, EngineRequestError
from .runtime import BpmnError, ExternalTask
from .settings import WorkerSettings

#: the BPMN error the apply task's boundary event catches (processes/catalogue_adjustment.bpmn)
ITEM_CHANGED = "item-changed"


def engine_client(settings: WorkerSettings) -> EngineClient:
    """The engine's REST API as this worker's user (one client per engine and token, shared by threads)."""
    return _client(settings.engine_url, settings.worker_token)


@functools.lru_cache(maxsize=8)
def _client(url: str, token: str) -> EngineClient:
    return EngineClient(url, token)


def check_proposal(task: ExternalTask, client: EngineClient) -> dict[str, Any]:
    """catalogue-check: every problem of the proposed record goes back into the case (``checkPassed`` false
    sends the application back to the department); a problem is never a failure of the task."""
    answer = client.check_catalogue_item({
        "kind": task.get("kind"), "itemCode": task.get("itemCode"), "record": task.get("record"),
        "changes": task.get("changes"), "department": task.get("department")})
    return {"checkPassed": bool(answer["valid"]), "checkProblems": answer["problems"],
            "checkWarnings": answer["warnings"], "proposedRecord": answer["record"],
            "baseVersion": answer["baseVersion"]}


def apply_adjustment(task: ExternalTask, client: EngineClient) -> dict[str, Any]:
    """catalogue-apply: the approved record becomes the item's next version. When the item changed since the
    check (another adjustment took effect), the application goes back to the department (BPMN error) with
    the reason in ``applyProblem`` — a new variable: the error's variables do not override ones the case
    already has (the catching event inherits the task's data)."""
    record = task.get("proposedRecord") or {}
    try:
        answer = client.put_catalogue_item(str(record.get("code") or task.get("itemCode")), record,
                                           task.business_key or "", task.get("effectiveFrom"))
    except EngineRequestError as refused:
        if refused.status == 409 and refused.body.get("code") == "adjustment.item-changed":
            problem = {"field": "itemCode", "code": "adjustment.item-changed", "message": str(refused.body["message"]),
                       "params": {k: refused.body.get(k) for k in ("item", "currentVersion", "baseVersion")}}
            raise BpmnError(ITEM_CHANGED, problem["message"], {"applyProblem": problem})
        raise
    return {"appliedVersion": answer["version"], "appliedStatus": answer["status"],
            "takesEffect": answer["takesEffect"]}
