"""What changed between two versions of a process, element by element, for people to review.

Elements are matched by their BPMN id: flow nodes (boundary events included), sequence flows,
lanes, data objects and stores, artifacts, and the messages, errors, signals and escalations the
process refers to. A changed element lists each *aspect* that differs — name, type, incoming and
outgoing flows, condition, script, event definition (a timer's expression, a message's name),
multi-instance settings, every ``camunda:`` / ``spiffworkflow:`` attribute and each extension
element (topic, formKey, candidateGroups, dueDate, properties, input/output mappings, …) — with the
old and new value as short text, so a side-by-side page can show both. Moving shapes in the
diagram is not a change of the process: elements whose only difference is their drawing (BPMN DI)
are reported apart, in ``moved``.

Why not SpiffWorkflow's ``SpecDiff`` (``bpmn/util/diff.py``)? It compares *parsed task specs*
through the serializer registry (which has no converter for this engine's own specs), knows
nothing of sequence flows, lanes, messages or the diagram, and aligns renamed elements by
structure — the right tool for moving a running workflow (``engine.instance_migration`` uses it
for that), the wrong one for telling a designer what they changed. This module reads the XML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .errors import InvalidInput
from .models import ProcessDefinition
from .parser import CAMUNDA_MODEL_NS, SPIFF_NS, hardened_xml_parser

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"
_PREFIXES = {CAMUNDA_MODEL_NS: "camunda", SPIFF_NS: "spiffworkflow", BPMN_NS: "",
             "http://www.w3.org/2001/XMLSchema-instance": "xsi"}

#: elements that hold other flow elements (their contents are elements of their own)
CONTAINERS = frozenset({"subProcess", "transaction", "adHocSubProcess"})
FLOW_NODES = frozenset({
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "manualTask", "scriptTask",
    "businessRuleTask", "callActivity", "startEvent", "endEvent", "intermediateCatchEvent",
    "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway", "complexGateway", *CONTAINERS})
#: other things inside a process that have an id of their own and are worth reviewing
OTHER_ELEMENTS = frozenset({"sequenceFlow", "dataObject", "dataObjectReference", "dataStoreReference",
                            "textAnnotation", "association", "group", "property"})
#: document-level elements a process refers to, by the attribute that refers to them
REFERENCED = {"messageRef": "message", "errorRef": "error", "signalRef": "signal",
              "escalationRef": "escalation", "dataStoreRef": "dataStore"}
#: children that are the element's structure, shown through computed aspects instead
_STRUCTURE = frozenset({"incoming", "outgoing", "flowNodeRef", "childLaneSet", "laneSet"})
_EVENT_DEFINITION = re.compile(r"^(\w+)EventDefinition$")
#: the longest value shown for one aspect (a long script is cut, with a mark)
MAX_TEXT = 2000


@dataclass
class Element:
    """One element of a process as the diff sees it: its aspects are short texts."""

    id: str
    kind: str
    name: str | None
    #: the id of the process or subprocess it sits in ("" for document-level messages, errors, ...)
    scope: str
    aspects: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "scope": self.scope}


@dataclass(frozen=True)
class AspectChange:
    aspect: str
    old: str | None
    new: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"aspect": self.aspect, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class ElementChange:
    """An element present in both versions whose aspects differ (``kind`` and ``name`` are the new ones)."""

    id: str
    kind: str
    name: str | None
    scope: str
    changes: tuple[AspectChange, ...]

    @property
    def aspects(self) -> tuple[str, ...]:
        return tuple(c.aspect for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "name": self.name, "scope": self.scope,
                "changes": [c.as_dict() for c in self.changes]}


@dataclass
class DefinitionDiff:
    """Elements added, removed and changed from ``old`` to ``new``; ``moved``: drawn differently only."""

    old_process: str
    new_process: str
    added: list[Element] = field(default_factory=list)
    removed: list[Element] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    #: whether the diagram (BPMN DI) was compared at all
    layout_compared: bool = True
    old_definition_id: str | None = None
    new_definition_id: str | None = None

    @property
    def unchanged(self) -> bool:
        """Nothing a process runs on differs (the drawing may)."""
        return not (self.added or self.removed or self.changed)

    def change_of(self, element_id: str) -> ElementChange | None:
        return next((c for c in self.changed if c.id == element_id), None)

    def as_dict(self) -> dict[str, Any]:
        return {"oldDefinitionId": self.old_definition_id, "newDefinitionId": self.new_definition_id,
                "oldProcess": self.old_process, "newProcess": self.new_process,
                "added": [e.as_dict() for e in self.added], "removed": [e.as_dict() for e in self.removed],
                "changed": [c.as_dict() for c in self.changed], "moved": list(self.moved),
                "layoutCompared": self.layout_compared, "unchanged": self.unchanged}


def diff_definitions(old: ProcessDefinition, new: ProcessDefinition, *, layout: bool = True) -> DefinitionDiff:
    """Two deployed versions (usually of one key; any two processes can be compared)."""
    found = diff_xml(old.xml, new.xml, old.key, new.key, layout=layout)
    found.old_definition_id, found.new_definition_id = old.id, new.id
    return found


def diff_xml(old_xml: str | bytes, new_xml: str | bytes, process_id: str, new_process_id: str | None = None,
             *, layout: bool = True) -> DefinitionDiff:
    """Two BPMN documents, e.g. a draft against the version it started from; ``InvalidInput`` when a
    document does not parse or lacks the process."""
    new_process_id = new_process_id or process_id
    old_root, new_root = _parse(old_xml, "old"), _parse(new_xml, "new")
    before, after = elements_of(old_root, process_id), elements_of(new_root, new_process_id)
    result = DefinitionDiff(process_id, new_process_id, layout_compared=layout)
    result.added = [after[i] for i in sorted(after.keys() - before.keys())]
    result.removed = [before[i] for i in sorted(before.keys() - after.keys())]
    for element_id in sorted(before.keys() & after.keys()):
        changes = _aspect_changes(before[element_id], after[element_id])
        if changes:
            element = after[element_id]
            result.changed.append(ElementChange(element.id, element.kind, element.name, element.scope, changes))
    if layout:
        common = (before.keys() & after.keys()) - {c.id for c in result.changed}
        old_shapes, new_shapes = _layout(old_root), _layout(new_root)
        result.moved = sorted(i for i in common if old_shapes.get(i) != new_shapes.get(i))
    return result


def elements_of(document: etree._Element | str | bytes, process_id: str) -> dict[str, Element]:
    """Every reviewable element of one process by id (see the module docstring for which)."""
    root = document if isinstance(document, etree._Element) else _parse(document, "document")
    process = next((p for p in root.iterfind(f"{{{BPMN_NS}}}process") if p.get("id") == process_id), None)
    if process is None:
        raise InvalidInput(f"The document has no process with id '{process_id}'", code="diff.no-process",
                           process=process_id)
    found: dict[str, Element] = {}
    _collect(process, process_id, found)
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        found[lane.get("id")] = _element(lane, "lane", process_id, {
            "members": ", ".join(sorted((r.text or "").strip() for r in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef")))})
    for element_id, kind in _references(process).items():
        target = root.find(f"{{{BPMN_NS}}}{kind}[@id='{element_id}']")
        if target is not None:
            found[element_id] = _element(target, kind, "", {})
    return found


# --- reading elements ----------------------------------------------------------------------------

def _parse(xml: str | bytes, which: str) -> etree._Element:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        return etree.fromstring(data, hardened_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"The {which} BPMN document is not well-formed XML: {exc.msg}",
                           code="diff.not-xml") from None


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _collect(scope_element: etree._Element, scope: str, found: dict[str, Element]) -> None:
    flows = [c for c in scope_element if _local(c.tag) == "sequenceFlow"]
    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for flow in flows:
        outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow.get("id", ""))
        incoming.setdefault(flow.get("targetRef", ""), []).append(flow.get("id", ""))
    for child in scope_element:
        kind = _local(child.tag)
        element_id = child.get("id")
        if element_id is None or (kind not in FLOW_NODES and kind not in OTHER_ELEMENTS):
            continue
        extra = {}
        if kind in FLOW_NODES:
            extra = {"incoming": ", ".join(sorted(incoming.get(element_id, []))),
                     "outgoing": ", ".join(sorted(outgoing.get(element_id, [])))}
        found[element_id] = _element(child, kind, scope, extra)
        if kind in CONTAINERS:
            _collect(child, element_id, found)


def _element(element: etree._Element, kind: str, scope: str, extra: dict[str, str]) -> Element:
    aspects: dict[str, str] = {"type": kind}
    if element.get("name") is not None:
        aspects["name"] = element.get("name")
    for name, value in sorted(element.attrib.items()):
        label = _label(name)
        if label not in ("id", "name"):
            aspects[label] = value
    for child in element:
        kind_of_child = _local(child.tag)
        if not kind_of_child or kind_of_child in _STRUCTURE or kind_of_child in FLOW_NODES \
                or kind_of_child in OTHER_ELEMENTS or kind_of_child == "lane":
            continue
        for label, text in _child_aspects(child, kind_of_child):
            aspects[label] = f"{aspects[label]}; {text}" if label in aspects else text
    aspects.update({k: v for k, v in extra.items()})
    return Element(element.get("id"), kind, element.get("name"), scope,
                   {k: _short(v) for k, v in aspects.items()})


def _child_aspects(child: etree._Element, kind: str) -> list[tuple[str, str]]:
    if kind == "extensionElements":
        return [(_label(c.tag), _render_inner(c)) for c in child if isinstance(c.tag, str)]
    event = _EVENT_DEFINITION.match(kind)
    if event:
        return [("event", _render_event(child, event.group(1)))]
    if kind == "multiInstanceLoopCharacteristics":
        mode = "sequential" if child.get("isSequential") == "true" else "parallel"
        rest = _render_inner(child, skip=("isSequential",))
        return [("multiInstance", mode + (f" {rest}" if rest else ""))]
    if kind == "standardLoopCharacteristics":
        return [("loop", _render_inner(child) or "loop")]
    if kind in ("conditionExpression", "script", "documentation", "text"):
        return [({"conditionExpression": "condition"}.get(kind, kind), _text(child))]
    return [(_label(child.tag), _render_inner(child))]


def _render_event(definition: etree._Element, kind: str) -> str:
    """``timer timeDuration=P3D``, ``message messageRef=Message_x``, ``terminate``."""
    details = []
    for part in definition:
        if isinstance(part.tag, str):
            details.append(f"{_local(part.tag)}={_text(part)}")
    inner = _render_inner(definition, skip=("id",), children=False)
    return " ".join(x for x in (kind, inner, *details) if x)


def _render_inner(element: etree._Element, *, skip: tuple[str, ...] = (), children: bool = True) -> str:
    """An element's attributes, text and children as one line: ``a=1, b=2 text {child; child}``."""
    if set(element.attrib) == {"name", "value"} and not len(element):
        return f"{element.get('name')}={element.get('value')}"
    attrs = ", ".join(f"{_label(k)}={v}" for k, v in sorted(element.attrib.items()) if _label(k) not in skip)
    text = _text(element)
    parts = [p for p in (attrs, text) if p]
    inner = [_render_child(c) for c in element if isinstance(c.tag, str)] if children else []
    if inner:
        parts.append("; ".join(inner) if not parts else "{" + "; ".join(inner) + "}")
    return " ".join(parts)


def _render_child(element: etree._Element) -> str:
    inner = _render_inner(element)
    if set(element.attrib) == {"name", "value"} and not len(element):
        return inner
    return f"{_local(element.tag)}({inner})" if inner else _local(element.tag)


def _text(element: etree._Element) -> str:
    return " ".join((element.text or "").split())


def _label(name: Any) -> str:
    """``{camunda ns}topic`` → ``camunda:topic``; BPMN's own and unqualified names stay bare."""
    qname = etree.QName(name)
    prefix = _PREFIXES.get(qname.namespace or "", None)
    if prefix is None:
        prefix = qname.namespace.rsplit("/", 1)[-1] if qname.namespace else ""
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def _references(process: etree._Element) -> dict[str, str]:
    found = {}
    for element in process.iter():
        if not isinstance(element.tag, str):
            continue
        for attribute, kind in REFERENCED.items():
            if element.get(attribute):
                found[element.get(attribute)] = kind
    return found


def _aspect_changes(old: Element, new: Element) -> tuple[AspectChange, ...]:
    names = sorted(old.aspects.keys() | new.aspects.keys(), key=_aspect_order)
    return tuple(AspectChange(n, old.aspects.get(n), new.aspects.get(n)) for n in names
                 if old.aspects.get(n) != new.aspects.get(n))


_FIRST = ("type", "name", "incoming", "outgoing", "sourceRef", "targetRef", "condition", "event")


def _aspect_order(name: str) -> tuple[int, str]:
    return (_FIRST.index(name), "") if name in _FIRST else (len(_FIRST), name)


# --- the drawing ---------------------------------------------------------------------------------

def _layout(root: etree._Element) -> dict[str, tuple]:
    """Each drawn element's shape bounds, label bounds and edge waypoints (one entry per bpmnElement)."""
    drawn: dict[str, tuple] = {}
    for shape in root.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"):
        element_id = shape.get("bpmnElement")
        if not element_id:
            continue
        bounds = tuple(tuple(b.get(k) for k in ("x", "y", "width", "height")) for b in shape.iter(f"{{{DC_NS}}}Bounds"))
        points = tuple((p.get("x"), p.get("y")) for p in shape.iterfind(f"{{{DI_NS}}}waypoint"))
        flags = tuple(sorted((k, v) for k, v in shape.attrib.items() if k not in ("id", "bpmnElement")))
        drawn[element_id] = (bounds, points, flags)
    return drawn
