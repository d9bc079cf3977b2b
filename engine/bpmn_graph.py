"""A BPMN document as the checks read it: elements by id, sequence flows in and out of each node,
boundary events by host, lanes, extension properties — built once from the lxml tree.

``engine.validation`` and ``engine.lint`` look at models the way a designer drew them, before
(or without) SpiffWorkflow parsing them, so they need the raw structure in both dialects
(Camunda 7 attributes, SpiffWorkflow extensions) rather than the parsed specs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator

from lxml import etree

from .parser import CAMUNDA, SPIFF_NS, detect_dialect

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

ACTIVITIES = frozenset({
    "task", "userTask", "serviceTask", "sendTask", "receiveTask", "manualTask", "scriptTask", "businessRuleTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess"})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                      "complexGateway"})
CHOREOGRAPHY_NODES = frozenset({"choreographyTask", "subChoreography", "callChoreography"})
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS | CHOREOGRAPHY_NODES
#: elements whose children are flow elements of their own (a sequence flow never crosses their border)
CONTAINERS = frozenset({"process", "subProcess", "transaction", "adHocSubProcess", "choreography",
                        "subChoreography"})
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})


def local(element: etree._Element | None) -> str:
    """The local name of an element ('' for none, comments and processing instructions)."""
    tag = element.tag if element is not None else None
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def is_bpmn(element: etree._Element) -> bool:
    return isinstance(element.tag, str) and element.tag.startswith("{" + BPMN_NS + "}")


def reference(value: str | None) -> str | None:
    """A QName reference (``messageRef="tns:Message_1"``) as the id it names."""
    if value is None:
        return None
    return value.strip().rsplit(":", 1)[-1] or None


def split_list(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


@dataclass
class Model:
    """Indexes over one document; every list keeps document order so findings come out in that order."""

    tree: etree._ElementTree
    dialect: str = ""
    by_id: dict[str, etree._Element] = field(default_factory=dict)
    nodes: list[etree._Element] = field(default_factory=list)
    flows: list[etree._Element] = field(default_factory=list)
    incoming: dict[str, list[etree._Element]] = field(default_factory=dict)
    outgoing: dict[str, list[etree._Element]] = field(default_factory=dict)
    boundaries: dict[str, list[etree._Element]] = field(default_factory=dict)
    lane_of: dict[str, etree._Element] = field(default_factory=dict)

    @classmethod
    def of(cls, tree: etree._ElementTree) -> "Model":
        root = tree.getroot()
        model = cls(tree, detect_dialect(root))
        for element in root.iter():
            if not is_bpmn(element):
                continue
            element_id = element.get("id")
            if element_id:
                model.by_id.setdefault(element_id, element)
            name = local(element)
            if name == "sequenceFlow":
                model.flows.append(element)
            elif name in FLOW_NODES and element_id:
                model.nodes.append(element)
        for flow in model.flows:
            model.outgoing.setdefault(flow.get("sourceRef") or "", []).append(flow)
            model.incoming.setdefault(flow.get("targetRef") or "", []).append(flow)
        for node in model.nodes:
            if local(node) == "boundaryEvent" and node.get("attachedToRef"):
                model.boundaries.setdefault(reference(node.get("attachedToRef")) or "", []).append(node)
        for ref in root.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            lane = ref.getparent()
            if ref.text and lane is not None:
                model.lane_of.setdefault(ref.text.strip(), lane)
        return model

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()

    def of_kind(self, *names: str) -> Iterator[etree._Element]:
        return (node for node in self.nodes if local(node) in names)

    def containers(self) -> Iterator[etree._Element]:
        """Processes and subprocesses, outermost first."""
        return (e for e in self.root.iter() if is_bpmn(e) and local(e) in ("process", *SUBPROCESSES))

    def children(self, container: etree._Element, *names: str) -> list[etree._Element]:
        return [c for c in container if is_bpmn(c) and (not names or local(c) in names)]

    def process_of(self, element: etree._Element) -> etree._Element | None:
        return next((a for a in element.iterancestors() if local(a) == "process"), None)

    def is_executable(self, element: etree._Element) -> bool:
        """Inside a process the engine would run (``isExecutable`` other than false)."""
        process = element if local(element) == "process" else self.process_of(element)
        return process is not None and process.get("isExecutable", "true") != "false"

    # --- flows ----------------------------------------------------------------------------

    def targets(self, node: etree._Element) -> list[etree._Element]:
        """Where the token goes when the node completes (flows whose target exists)."""
        return [self.by_id[t] for t in (f.get("targetRef") for f in self.outgoing.get(node.get("id") or "", []))
                if t in self.by_id]

    def successors(self, node: etree._Element, *, side_branches: bool = True) -> list[etree._Element]:
        """The elements a token can reach next, subprocesses entered and left: the outgoing flows' targets,
        the boundary events of an activity (without non-interrupting ones unless ``side_branches``), a
        subprocess's start events, and for the end of a subprocess, whatever follows the subprocess."""
        name = local(node)
        found: list[etree._Element] = []
        if name in SUBPROCESSES and node.get("triggeredByEvent") != "true":
            starts = self.children(node, "startEvent")
            found.extend(starts)
            if not starts:
                found.extend(self.targets(node))
        else:
            found.extend(self.targets(node))
        for boundary in self.boundaries.get(node.get("id") or "", []):
            if side_branches or boundary.get("cancelActivity", "true") != "false":
                found.append(boundary)
        parent = node.getparent()
        if name == "endEvent" and parent is not None and local(parent) in SUBPROCESSES:
            found.extend(self.targets(parent))
        return found

    def start_events(self) -> list[etree._Element]:
        """The start events of processes and of event subprocesses (where cases begin or break in)."""
        return [n for n in self.of_kind("startEvent")
                if (p := n.getparent()) is not None and (local(p) == "process" or p.get("triggeredByEvent") == "true")]

    # --- what elements say ----------------------------------------------------------------

    def properties(self, element: etree._Element) -> dict[str, str]:
        """Extension properties (``camunda:property`` / ``spiffworkflow:property``) of one element."""
        found: dict[str, str] = {}
        for extension in element:
            if local(extension) != "extensionElements":
                continue
            for group in extension:
                if local(group) != "properties":
                    continue
                for prop in group:
                    if local(prop) == "property" and prop.get("name"):
                        found[prop.get("name")] = prop.get("value") or ""
        return found

    def camunda(self, element: etree._Element, name: str) -> str | None:
        return element.get(f"{{{CAMUNDA_NS}}}{name}")

    def user_task_value(self, task: etree._Element, name: str) -> str | None:
        """A user-task setting in either dialect: ``camunda:<name>`` or the SpiffWorkflow property."""
        if self.dialect == CAMUNDA:
            return self.camunda(task, name)
        props = self.properties(task)
        if name == "formKey":
            return props.get("formJsonSchemaFilename") or props.get("formKey")
        return props.get(name)

    def topic(self, task: etree._Element) -> str | None:
        """The external-task topic of a service task, or None when it names none."""
        if self.dialect == CAMUNDA:
            return self.camunda(task, "topic")
        for extension in task:
            if local(extension) == "extensionElements":
                for child in extension:
                    if child.tag == f"{{{SPIFF_NS}}}serviceTaskOperator":
                        return child.get("id")
        return None

    def event_definitions(self, event: etree._Element) -> list[str]:
        return [local(c) for c in event if is_bpmn(c) and local(c).endswith("EventDefinition")]

    def name(self, element: etree._Element) -> str:
        return (element.get("name") or "").strip()

    @cached_property
    def diagram_elements(self) -> frozenset[str]:
        """Ids drawn in the diagram (shapes and edges)."""
        return frozenset(reference(e.get("bpmnElement")) or "" for e in self.root.iter(
            f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"))
