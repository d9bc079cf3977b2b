"""Deploying to a onewindow server over its REST API, as `onewindow deploy --url` does.

The files go to ``POST /engine-rest/deployment/create`` as multipart file fields with Camunda's option
names (``deployment-name``, ``deployment-source``), signed with a bearer token like the workers' calls.
The server validates and versions them exactly as a local deploy does; a rejected deployment comes back
as a 400 whose ``problems`` name file, line and element. Versions left unchanged by duplicate filtering
are not in the server's answer, so they are read back by key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import requests
from lxml import etree

from engine.parser import hardened_xml_parser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


class RemoteDeployError(Exception):
    """The server refused the deployment or could not be reached; ``problems`` as the server listed them."""

    def __init__(self, message: str, problems: list[dict[str, Any]] | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
        self.status = status


@dataclass
class RemoteResult:
    #: (key, version, resource) of each version the deployment created
    new: list[tuple[str, int, str]] = field(default_factory=list)
    #: (key, version) of each process whose file had not changed
    unchanged: list[tuple[str, int]] = field(default_factory=list)


def engine_rest_url(url: str) -> str:
    """The server's address (``http://host:5000``) or its ``/engine-rest`` address, as the REST base."""
    base = url.rstrip("/")
    return base if base.endswith("/engine-rest") else base + "/engine-rest"


def deploy_remotely(url: str, token: str, resources: Sequence[tuple[str, bytes]], *, name: str,
                    timeout: float = 60.0) -> RemoteResult:
    base = engine_rest_url(url)
    with requests.Session() as http:
        http.headers["Authorization"] = f"Bearer {token}"
        files = [(resource, (resource, data, "application/xml")) for resource, data in resources]
        answer = _call(http, "post", f"{base}/deployment/create", timeout, files=files,
                       data={"deployment-name": name, "deployment-source": "cli"})
        result = RemoteResult()
        created = answer.get("deployedProcessDefinitions") or {}
        for definition in created.values():
            result.new.append((definition["key"], definition["version"], definition["resource"]))
        new_keys = {key for key, _v, _r in result.new}
        for key in process_keys(resources):
            if key not in new_keys:
                latest = _call(http, "get", f"{base}/process-definition/key/{key}", timeout)
                result.unchanged.append((key, latest["version"]))
        return result


def process_keys(resources: Sequence[tuple[str, bytes]]) -> list[str]:
    """The executable processes' ids, in file order (the server has accepted the files by now)."""
    keys: list[str] = []
    for _resource, data in resources:
        root = etree.fromstring(data, hardened_xml_parser())
        for process in root.iterfind(f"{{{BPMN_NS}}}process"):
            if process.get("isExecutable", "true") != "false" and process.get("id") not in keys:
                keys.append(process.get("id"))
    return keys


def _call(http: requests.Session, method: str, url: str, timeout: float, **kwargs: Any) -> dict[str, Any]:
    try:
        response = http.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        raise RemoteDeployError(f"The server at {url} could not be reached: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        body = {"message": response.text[:500]}
    if response.status_code >= 400:
        raise RemoteDeployError(f"{response.status_code}: {body.get('message')}", body.get("problems"),
                                response.status_code)
    return body
