"""The structural lint rules, with bpmnlint's ids and meaning (https://github.com/bpmn-io/bpmnlint, docs/rules).

Where a rule here says more than bpmnlint's, its explanation says so (``conditional-flows`` also
treats every exclusive or inclusive fork as conditional and asks for a default flow there).
Complex gateways, which bpmnlint flags with ``no-complex-gateway``, are reported by validation as
unsupported; inclusive gateways run on this engine, so ``no-inclusive-gateway`` is not here.
"""
from __future__ import annotations

from typing import Iterator

from lxml import etree

from .bpmn_graph import ACTIVITIES, BPMN_NS, EVENTS, GATEWAYS, SUBPROCESSES, Model, local
from .lint import Hit, LintContext, N_, Rule
from .validation import ERROR, WARNING


def _has_condition(flow: etree._Element) -> bool:
    return any(local(c) == "conditionExpression" for c in flow)


def _is_default(model: Model, flow: etree._Element) -> bool:
    source = model.by_id.get(flow.get("sourceRef") or "")
    return source is not None and source.get("default") == flow.get("id")


def _ins(model: Model, node: etree._Element) -> list[etree._Element]:
    return model.incoming.get(node.get("id") or "", [])


def _outs(model: Model, node: etree._Element) -> list[etree._Element]:
    return model.outgoing.get(node.get("id") or "", [])


def _is_event_subprocess(node: etree._Element) -> bool:
    return local(node) == "subProcess" and node.get("triggeredByEvent") == "true"


def _is_compensation(model: Model, node: etree._Element) -> bool:
    return node.get("isForCompensation") == "true" or "compensateEventDefinition" in model.event_definitions(node)


def _in_ad_hoc(node: etree._Element) -> bool:
    return local(node.getparent()) == "adHocSubProcess"


def _label(element: etree._Element) -> str:
    return element.get("name") or element.get("id") or local(element)


def no_disconnected(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        if _is_event_subprocess(node) or _is_compensation(model, node) or _in_ad_hoc(node):
            continue
        if not _ins(model, node) and not _outs(model, node):
            yield Hit(node, f"{_label(node)} is not connected", {"name": _label(node)})


def no_implicit_split(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        if local(node) in GATEWAYS:
            continue
        plain = [f for f in _outs(model, node) if not _has_condition(f) and not _is_default(model, f)]
        if len(plain) > 1:
            yield Hit(node, f"{_label(node)} splits the flow implicitly ({len(plain)} unconditional outgoing flows): "
                      "use a gateway", {"name": _label(node), "count": len(plain)})


def _scopes(model: Model) -> Iterator[etree._Element]:
    return (c for c in model.containers() if local(c) != "adHocSubProcess")


def start_event_required(model: Model, context: LintContext) -> Iterator[Hit]:
    for scope in _scopes(model):
        if not model.children(scope, "startEvent"):
            yield Hit(scope, f"{_label(scope)} has no start event", {"name": _label(scope)})


def end_event_required(model: Model, context: LintContext) -> Iterator[Hit]:
    for scope in _scopes(model):
        if not model.children(scope, "endEvent"):
            yield Hit(scope, f"{_label(scope)} has no end event", {"name": _label(scope)})


def label_required(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        name = local(node)
        if name in ("parallelGateway", "eventBasedGateway", "boundaryEvent") or name in SUBPROCESSES:
            continue
        if name in GATEWAYS and len(_outs(model, node)) <= 1:
            continue  # a joining gateway needs no question
        if not model.name(node):
            yield Hit(node, f"{name} {node.get('id')} has no label (name)", {"kind": name})
    for element in model.root.iter(f"{{{BPMN_NS}}}participant", f"{{{BPMN_NS}}}lane"):
        if not model.name(element):
            yield Hit(element, f"{local(element)} {element.get('id')} has no label (name)", {"kind": local(element)})


def conditional_flows(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        outs = _outs(model, node)
        name = local(node)
        if name in ("parallelGateway", "eventBasedGateway") or not outs:
            continue
        fork = name in ("exclusiveGateway", "inclusiveGateway") and len(outs) > 1
        if not (fork or node.get("default") or any(_has_condition(f) for f in outs)):
            continue
        for flow in outs:
            if not _has_condition(flow) and not _is_default(model, flow):
                yield Hit(flow, f"sequence flow {flow.get('id')} leaves a conditional fork without a condition",
                          {"case": "condition", "flow": flow.get("id")})
        if fork and not node.get("default") and all(_has_condition(f) for f in outs):
            yield Hit(node, f"{_label(node)}: every outgoing flow is conditional and none is the default; a case "
                      "no condition matches stops with an incident", {"case": "default", "name": _label(node)})


def no_gateway_join_fork(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        if local(node) in GATEWAYS and len(_ins(model, node)) > 1 and len(_outs(model, node)) > 1:
            yield Hit(node, f"{_label(node)} joins and forks at once: use two gateways", {"name": _label(node)})


def fake_join(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        if (local(node) in ACTIVITIES or local(node) in EVENTS) and len(_ins(model, node)) > 1:
            yield Hit(node, f"{_label(node)} has {len(_ins(model, node))} incoming flows that do not join: "
                      "merge them with a gateway", {"name": _label(node), "count": len(_ins(model, node))})


def single_blank_start_event(model: Model, context: LintContext) -> Iterator[Hit]:
    for scope in _scopes(model):
        blank = [s for s in model.children(scope, "startEvent") if not model.event_definitions(s)]
        if len(blank) > 1:
            yield Hit(scope, f"{_label(scope)} has {len(blank)} blank start events", {"name": _label(scope),
                                                                                     "count": len(blank)})


def superfluous_gateway(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        if local(node) in GATEWAYS and len(_ins(model, node)) == 1 and len(_outs(model, node)) == 1:
            yield Hit(node, f"{_label(node)} is superfluous: it has one incoming and one outgoing flow",
                      {"name": _label(node)})


def no_duplicate_sequence_flows(model: Model, context: LintContext) -> Iterator[Hit]:
    seen: set[tuple[str, str, str]] = set()
    for flow in model.flows:
        condition = next(((c.text or "").strip() for c in flow if local(c) == "conditionExpression"), "")
        key = (flow.get("sourceRef") or "", flow.get("targetRef") or "", condition)
        if key in seen:
            yield Hit(flow, f"sequence flow {flow.get('id')} duplicates another from {key[0]} to {key[1]}",
                      {"source": key[0], "target": key[1]})
        seen.add(key)


def _starts_by_itself(model: Model, node: etree._Element) -> bool:
    name = local(node)
    return (name in ("startEvent", "boundaryEvent") or _is_event_subprocess(node) or _is_compensation(model, node)
            or _in_ad_hoc(node) or "linkEventDefinition" in model.event_definitions(node))


def no_implicit_start(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        if not _starts_by_itself(model, node) and not _ins(model, node) and _outs(model, node):
            yield Hit(node, f"{_label(node)} has no incoming flow: it starts implicitly", {"name": _label(node)})


def no_implicit_end(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        if local(node) == "endEvent" or _is_event_subprocess(node) or _is_compensation(model, node) \
                or _in_ad_hoc(node) or "linkEventDefinition" in model.event_definitions(node):
            continue
        if not _outs(model, node) and (_ins(model, node) or local(node) == "boundaryEvent"):
            yield Hit(node, f"{_label(node)} has no outgoing flow: it ends implicitly", {"name": _label(node)})


def no_bpmndi(model: Model, context: LintContext) -> Iterator[Hit]:
    drawn = model.diagram_elements
    for element in [*model.nodes, *model.flows]:
        if element.get("id") not in drawn:
            yield Hit(element, f"{local(element)} {element.get('id')} is not drawn in the diagram",
                      {"kind": local(element)})


def single_event_definition(model: Model, context: LintContext) -> Iterator[Hit]:
    for node in model.nodes:
        definitions = model.event_definitions(node)
        if local(node) in EVENTS and len(definitions) > 1:
            yield Hit(node, f"{_label(node)} has {len(definitions)} event definitions", {"name": _label(node),
                                                                                        "count": len(definitions)})


def sub_process_blank_start_event(model: Model, context: LintContext) -> Iterator[Hit]:
    for scope in model.containers():
        if local(scope) in SUBPROCESSES and not _is_event_subprocess(scope):
            for start in model.children(scope, "startEvent"):
                if model.event_definitions(start):
                    yield Hit(start, f"{_label(start)} starts an embedded subprocess, so it must be blank",
                              {"name": _label(start)})


def event_sub_process_typed_start_event(model: Model, context: LintContext) -> Iterator[Hit]:
    for scope in model.containers():
        if _is_event_subprocess(scope):
            for start in model.children(scope, "startEvent"):
                if not model.event_definitions(start):
                    yield Hit(start, f"{_label(start)} starts an event subprocess, so it needs an event definition",
                              {"name": _label(start)})


RULES = (
    Rule("no-disconnected", ERROR, N_("An element without incoming and outgoing flows is never reached: the engine "
         "skips it silently, which is rarely what the drawing meant."), no_disconnected),
    Rule("no-implicit-split", ERROR, N_("Several unconditional flows out of an activity or event all fire at once; "
         "say so with a parallel gateway, or with an exclusive one if only one should."), no_implicit_split),
    Rule("start-event-required", ERROR, N_("A process or subprocess needs a start event to show where its work "
         "begins; the engine refuses one without."), start_event_required),
    Rule("end-event-required", ERROR, N_("An end event shows where the work is finished and what the result is; "
         "without one, readers cannot tell an ending from an omission."), end_event_required),
    Rule("label-required", ERROR, N_("Clerks and supervisors read element names in the inbox, the case history and "
         "the heat map; an unnamed task, event or forking gateway reads as its technical id."), label_required),
    Rule("conditional-flows", ERROR, N_("Every flow out of a conditional fork needs a condition or must be the "
         "default (bpmnlint); beyond bpmnlint, every exclusive or inclusive fork is conditional and one whose "
         "flows are all conditional needs a default flow, or a case no condition matches stops with an "
         "incident."), conditional_flows),
    Rule("no-gateway-join-fork", ERROR, N_("A gateway that joins and forks at once hides two decisions in one shape "
         "and behaves differently across engines; draw a joining and a forking gateway."), no_gateway_join_fork),
    Rule("fake-join", WARNING, N_("Several flows into an activity do not wait for each other: each arriving token "
         "runs the activity again. Merge them with a gateway so the drawing says whether they join."), fake_join),
    Rule("single-blank-start-event", ERROR, N_("With two blank start events nobody can tell where a case begins."),
         single_blank_start_event),
    Rule("superfluous-gateway", WARNING, N_("A gateway with one way in and one way out decides nothing; remove it."),
         superfluous_gateway),
    Rule("no-duplicate-sequence-flows", ERROR, N_("Two identical flows between the same elements make the token "
         "travel twice."), no_duplicate_sequence_flows),
    Rule("no-implicit-start", ERROR, N_("An element with outgoing but no incoming flows starts work nobody "
         "triggers; connect it or use a start event."), no_implicit_start),
    Rule("no-implicit-end", ERROR, N_("An element with no outgoing flow ends its path without saying how it ended; "
         "end it with an end event."), no_implicit_end),
    Rule("no-bpmndi", ERROR, N_("Every element must be drawn, or Camunda Modeler and the console's diagrams show "
         "the model incompletely."), no_bpmndi),
    Rule("single-event-definition", ERROR, N_("An event with several definitions (a BPMN multiple event) is hard to "
         "read and rarely meant; use one definition per event."), single_event_definition),
    Rule("sub-process-blank-start-event", ERROR, N_("An embedded subprocess starts when the token arrives, so its "
         "start event must be blank."), sub_process_blank_start_event),
    Rule("event-sub-process-typed-start-event", ERROR, N_("An event subprocess starts on an event, so its start "
         "event must say which (message, timer, error, ...)."), event_sub_process_typed_start_event),
)
