"""Materials: fetch what the government already holds, then check the set against the item's list.

两个免于提交: a material marked ``shared`` in the catalogue is fetched from the
e-licence / shared-data service by the applicant's credit code or ID number;
the applicant is never asked for it again. The check itself is pure: the
item version's list against what was submitted and what was fetched.
"""
from __future__ import annotations

from typing import Any, Mapping

import requests

from .runtime import ExternalTask


class SharedDataClient:
    """HTTP client of the shared-data service: GET /licences?holder=..&type=.. → {"licences": [...]}."""

    def __init__(self, base_url: str, timeout: float = 10.0, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def licences(self, holder: str, kind: str) -> list[dict[str, Any]]:
        response = self.session.get(f"{self.base_url}/licences", params={"holder": holder, "type": kind},
                                    timeout=self.timeout)
        if response.status_code == 404:
            return []
        response.raise_for_status()  # a down service is a technical failure: the task is retried
        return list(response.json().get("licences", []))


def holder_of(application: Mapping[str, Any]) -> str | None:
    return application.get("creditCode") or application.get("idNumber")


def fetch_shared(task: ExternalTask, client: SharedDataClient) -> dict[str, Any]:
    application = task.get("application") or {}
    holder = holder_of(application)
    found = []
    for material in task.get("requiredMaterials") or []:
        if not material.get("shared") or holder is None:
            continue
        for licence in client.licences(holder, material["code"]):
            found.append({"code": material["code"], "name": material["name"], "source": "电子证照库",
                          "licenceNumber": licence.get("number"), "issuer": licence.get("issuer")})
            break
    return {"sharedMaterials": found}


def check_materials(task: ExternalTask) -> dict[str, Any]:
    """Every mandatory material must be either submitted or obtained by sharing."""
    have = {m.get("code") for m in task.get("submittedMaterials") or []}
    have |= {m.get("code") for m in task.get("sharedMaterials") or []}
    missing = [m["name"] for m in task.get("requiredMaterials") or [] if m.get("mandatory") and m["code"] not in have]
    return {"materialsComplete": not missing, "missingMaterials": missing}
