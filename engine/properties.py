"""Extension properties of BPMN elements (``camunda:property`` / ``spiffworkflow:property``).

Read from the XML once per parsed spec and hung on the task specs, so the
engine can ask an element what it is marked with (``engine.markers`` explains
the markers) without the dialect parsers knowing about them.
"""
from __future__ import annotations

from typing import Any

from lxml import etree

_PROPERTY_TAGS = ("{http://camunda.org/schema/1.0/bpmn}property", "{http://spiffworkflow.org/bpmn/schema/1.0/core}property")
_SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")


def element_properties(root: etree._Element) -> dict[tuple[str, str], dict[str, str]]:
    """Extension properties of every flow element, keyed by (enclosing process or subprocess id, element id)."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    for prop in root.iter(*_PROPERTY_TAGS):
        extension = prop.getparent().getparent()
        if extension is None or etree.QName(extension).localname != "extensionElements":
            continue
        element = extension.getparent()
        scope = next((a for a in element.iterancestors() if etree.QName(a).localname in _SCOPES), None)
        if scope is None or element.get("id") is None:
            continue
        found.setdefault((scope.get("id"), element.get("id")), {})[prop.get("name")] = prop.get("value") or ""
    return found


def attach(specs: list[Any], properties: dict[tuple[str, str], dict[str, str]]) -> None:
    """Give each task spec its properties and connect the completion hook (once per parsed spec)."""
    for process_spec in specs:
        for task_spec in process_spec.task_specs.values():
            props = properties.get((process_spec.name, getattr(task_spec, "bpmn_id", None) or ""), {})
            task_spec.onewindow_properties = props
            if props.get("caseClock") or props.get("stamp") or props.get("indicator"):
                task_spec.completed_event.connect(_on_completed)
            if props.get("caseClockOnReady"):
                task_spec.ready_event.connect(_on_ready)


def properties_of(task_spec: Any) -> dict[str, str]:
    return getattr(task_spec, "onewindow_properties", {})


def _list(task_spec: Any, name: str) -> list[str]:
    return [p.strip() for p in properties_of(task_spec).get(name, "").split(",") if p.strip()]


def powers_required(task_spec: Any) -> list[str]:
    return _list(task_spec, "authorization")


def not_by(task_spec: Any) -> list[str]:
    """Activities whose completer may not complete this task (four eyes)."""
    return _list(task_spec, "notBy")


def _on_completed(workflow: Any, task: Any) -> None:
    from .markers import on_completed  # markers need the engine's services; properties must not

    on_completed(workflow, task)


def _on_ready(workflow: Any, task: Any) -> None:
    from .markers import on_ready

    on_ready(workflow, task)
