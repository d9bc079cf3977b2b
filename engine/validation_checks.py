"""The engine's own checks on a readable BPMN document (``engine.validation`` runs them).

* ``unsupported`` — constructs SpiffWorkflow 3.2 with our dialect parsers does not run, found by
  trying each one on the engine (see tests/test_validate.py): complex gateways, ad-hoc
  subprocesses, business rule tasks (no DMN here), compensation, link events, conditional events
  (a waiting condition is never evaluated again), signal start events (nothing signals the engine
  from outside), scripts in languages other than Python, Camunda listeners and input/output
  mappings. Errors inside executable processes; warnings for what only behaves differently
  (signals and thrown messages stay inside the case, call-activity mappings pass every variable,
  Camunda generated forms) and for choreographies and conversations, which the engine ignores.
  Supported and therefore not reported: the three other gateways, embedded, event and transaction
  subprocesses, call activities, multi-instance and standard loops, message, timer, error,
  escalation, cancel and terminate events, receive, manual, script, service and send tasks.
* ``references`` — sequence flows, defaults, boundary hosts, lanes, messages, errors, signals,
  escalations and diagram shapes that name nothing; called processes that are not known.
* ``timers`` — timer expressions ``engine.timers`` cannot read (Camunda literals are tried the way
  the engine will schedule them; SpiffWorkflow expressions are compiled as Python).
"""
from __future__ import annotations

import ast
from datetime import timezone
from typing import Iterable, Iterator

from lxml import etree

from .bpmn_graph import BPMN_NS, BPMNDI_NS, CAMUNDA_NS, FLOW_NODES, Model, is_bpmn, local, reference
from .juel import is_juel
from .parser import CAMUNDA, PROBE_MOMENT
from .timers import schedule_for
from .validation import WARNING, Finding, at

#: element -> why the engine does not run it
UNSUPPORTED_ELEMENTS = {
    "complexGateway": "complex gateways are not supported: use an exclusive, inclusive or parallel gateway",
    "adHocSubProcess": "ad-hoc subprocesses are not supported by the engine",
    "businessRuleTask": "business rule tasks (DMN decisions) are not supported: use a script task or a service task",
}
UNSUPPORTED_EVENTS = {
    "compensateEventDefinition": "compensation events are not supported",
    "linkEventDefinition": "link events are not supported: connect the sequence flows directly",
    "conditionalEventDefinition": "conditional events are not supported: the engine does not evaluate a waiting "
                                  "condition again; wait for a message or a timer instead",
}
UNSUPPORTED_CAMUNDA = {
    "executionListener": "Camunda execution listeners are not run by this engine",
    "taskListener": "Camunda task listeners are not run by this engine",
    "inputOutput": "Camunda input/output mappings are not applied by this engine",
}
#: root and collaboration elements the engine ignores
IGNORED = frozenset({"choreography", "globalConversation", "conversation", "subConversation", "callConversation",
                     "globalTask", "globalUserTask", "globalManualTask", "globalScriptTask",
                     "globalBusinessRuleTask"})
#: (element, attribute, kind of root element it names)
REFERENCES = (("messageEventDefinition", "messageRef", "message"), ("receiveTask", "messageRef", "message"),
              ("sendTask", "messageRef", "message"), ("errorEventDefinition", "errorRef", "error"),
              ("signalEventDefinition", "signalRef", "signal"),
              ("escalationEventDefinition", "escalationRef", "escalation"))
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")


def unsupported(resource: str, model: Model) -> Iterator[Finding]:
    for element in model.root.iter():
        if not isinstance(element.tag, str):
            continue
        name = local(element)
        if is_bpmn(element) and name in IGNORED:
            yield at(resource, element, "unsupported", f"bpmn:{name} is ignored by the engine (choreographies and "
                     "conversations are not executed)", WARNING, construct=f"bpmn:{name}")
            continue
        if not model.is_executable(element):
            continue
        yield from _unsupported_in_process(resource, model, element, name)


def _unsupported_in_process(resource: str, model: Model, element: etree._Element, name: str) -> Iterator[Finding]:
    if element.tag.startswith(f"{{{CAMUNDA_NS}}}"):
        host = _host(element)
        if name in UNSUPPORTED_CAMUNDA:
            yield at(resource, host, "unsupported", UNSUPPORTED_CAMUNDA[name], construct=f"camunda:{name}")
        elif name == "formData":
            yield at(resource, host, "unsupported", "Camunda generated forms (camunda:formData) are ignored: user "
                     "tasks name a form in forms/ with camunda:formKey", WARNING, construct="camunda:formData")
        elif name in ("in", "out") and element.get("variables") != "all":
            yield at(resource, host, "unsupported", f"camunda:{name} mappings are ignored: a called process "
                     "receives and returns every variable", WARNING, construct=f"camunda:{name}")
        return
    if not is_bpmn(element):
        return
    if name in UNSUPPORTED_ELEMENTS:
        yield at(resource, element, "unsupported", UNSUPPORTED_ELEMENTS[name], construct=f"bpmn:{name}")
    elif name in UNSUPPORTED_EVENTS:
        yield at(resource, element.getparent(), "unsupported", UNSUPPORTED_EVENTS[name], construct=f"bpmn:{name}")
    elif name == "signalEventDefinition":
        event = element.getparent()
        if local(event) == "startEvent" and local(event.getparent()) == "process":
            yield at(resource, event, "unsupported", "signal start events are not supported: nothing sends signals "
                     "to the engine from outside; use a message start event", construct="bpmn:signalEventDefinition")
        else:
            yield at(resource, event, "unsupported", "signals reach only the signal events of the same case: the "
                     "engine sends none to other cases and receives none from outside", WARNING,
                     construct="bpmn:signalEventDefinition")
    elif name == "messageEventDefinition" and local(element.getparent()) in ("intermediateThrowEvent", "endEvent"):
        yield at(resource, element.getparent(), "unsupported", "a thrown message reaches only the catch events of "
                 "the same case; to tell another case or system use a service task", WARNING,
                 construct="bpmn:messageEventDefinition")
    elif element.get("isForCompensation") == "true":
        yield at(resource, element, "unsupported", "compensation handlers are not supported",
                 construct="isForCompensation")
    elif name == "scriptTask":
        language = (element.get("scriptFormat") or "python").strip().lower()
        if language not in ("python", "python3"):
            yield at(resource, element, "unsupported", f"script tasks run Python only, not {element.get('scriptFormat')}",
                     construct=f"scriptFormat={element.get('scriptFormat')}")
        elif element.get(f"{{{CAMUNDA_NS}}}resource"):
            yield at(resource, element, "unsupported", "scripts from external resources (camunda:resource) are "
                     "not supported: write the script in the model", construct="camunda:resource")


def _host(element: etree._Element) -> etree._Element:
    """The BPMN element an extension belongs to."""
    for ancestor in element.iterancestors():
        if is_bpmn(ancestor) and local(ancestor) != "extensionElements":
            return ancestor
    return element


# --- references ----------------------------------------------------------------------------

def references(resource: str, model: Model, known_processes: Iterable[str] | None = None) -> Iterator[Finding]:
    yield from _flow_references(resource, model)
    yield from _defaults(resource, model)
    kinds: dict[str, set[str]] = {}
    for element in model.root.iter():
        if is_bpmn(element) and element.get("id"):
            kinds.setdefault(local(element), set()).add(element.get("id"))
    for element_name, attribute, kind in REFERENCES:
        for element in model.root.iter(f"{{{BPMN_NS}}}{element_name}"):
            target = reference(element.get(attribute))
            if target is not None and target not in kinds.get(kind, set()):
                host = element if local(element).endswith("Task") else element.getparent()
                yield at(resource, host, "reference", f"{attribute} '{target}' names no bpmn:{kind} in this file",
                         attribute=attribute, target=target, kind=f"bpmn:{kind}")
    for ref in model.root.iter(f"{{{BPMN_NS}}}flowNodeRef"):
        target = (ref.text or "").strip()
        if target and (target not in model.by_id or local(model.by_id[target]) not in FLOW_NODES):
            yield at(resource, ref.getparent(), "reference", f"flowNodeRef '{target}' names no flow node in this file",
                     attribute="flowNodeRef", target=target, kind="flow node")
    for shape in model.root.iter(f"{{{BPMNDI_NS}}}BPMNShape", f"{{{BPMNDI_NS}}}BPMNEdge"):
        target = reference(shape.get("bpmnElement"))
        if target and target not in model.by_id:
            yield at(resource, shape, "reference.diagram", f"the diagram draws '{target}', which is not in the model",
                     WARNING, target=target)
    if known_processes is not None:
        yield from _called(resource, model, set(known_processes) | kinds.get("process", set()))


def _flow_references(resource: str, model: Model) -> Iterator[Finding]:
    for flow in model.flows:
        container = flow.getparent()
        for attribute in ("sourceRef", "targetRef"):
            target = flow.get(attribute)
            if not target:
                continue  # the XSD says it is missing
            node = model.by_id.get(target)
            if node is None or local(node) not in FLOW_NODES:
                yield at(resource, flow, "reference", f"{attribute} '{target}' names no flow node in this file",
                         attribute=attribute, target=target, kind="flow node")
            elif node.getparent() is not container:
                yield at(resource, flow, "reference", f"{attribute} '{target}' is in another process or subprocess: "
                         "a sequence flow stays inside its own", attribute=attribute, target=target,
                         kind="flow node of the same process")
    for boundary in model.of_kind("boundaryEvent"):
        target = reference(boundary.get("attachedToRef"))
        host = model.by_id.get(target or "")
        if target and (host is None or local(host) not in FLOW_NODES or host.getparent() is not boundary.getparent()):
            yield at(resource, boundary, "reference", f"attachedToRef '{target}' names no activity beside this "
                     "boundary event", attribute="attachedToRef", target=target, kind="activity")


def _defaults(resource: str, model: Model) -> Iterator[Finding]:
    for node in model.nodes:
        default = node.get("default")
        if default and default not in {f.get("id") for f in model.outgoing.get(node.get("id") or "", [])}:
            yield at(resource, node, "reference", f"default '{default}' is not one of its outgoing sequence flows",
                     attribute="default", target=default, kind="outgoing sequence flow")


def _called(resource: str, model: Model, known: set[str]) -> Iterator[Finding]:
    for call in model.of_kind("callActivity"):
        called = call.get("calledElement")
        if called and not is_juel(called) and called not in known:
            yield at(resource, call, "reference.call", f"calls process '{called}', which is neither in the files "
                     "checked together nor in their directory", WARNING, target=called)


# --- timers -----------------------------------------------------------------------------------

def timers(resource: str, model: Model) -> Iterator[Finding]:
    for definition in model.root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        event = definition.getparent()
        if not model.is_executable(definition):
            continue
        kinds = [c for c in definition if is_bpmn(c) and local(c) in TIMER_KINDS]
        if not kinds:
            yield at(resource, event, "timer", "the timer has no timeDate, timeDuration or timeCycle",
                     detail="no timeDate, timeDuration or timeCycle")
            continue
        kind, text = local(kinds[0]), (kinds[0].text or "").strip()
        problem = _timer_problem(kind, text, model.dialect) if text else f"the {kind} is empty"
        if problem:
            yield at(resource, event, "timer", f"{kind} '{text}': {problem}", kind=kind, expression=text,
                     detail=problem)


def _timer_problem(kind: str, text: str, dialect: str) -> str | None:
    """Why the engine could not schedule this timer, or None when it can (or can tell only at run time)."""
    if dialect == CAMUNDA:
        if is_juel(text):
            return None
        value: object = text
    else:
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError) as exc:
            return f"not a Python expression ({exc.__class__.__name__}: {getattr(exc, 'msg', exc)})"
        if not isinstance(tree.body, ast.Constant):
            return None  # evaluated when the case reaches the timer
        value = tree.body.value
    try:
        schedule_for(kind, value, PROBE_MOMENT, timezone.utc)
    except Exception as exc:  # TimerExpressionError, and whatever a strange value makes the libraries raise
        return str(exc) or exc.__class__.__name__
    return None
