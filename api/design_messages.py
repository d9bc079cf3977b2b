"""Validation and lint findings in the reader's language.

``engine.validation`` and ``engine.lint`` report a stable code, values (``params``) and an English
sentence; designers at the center read Chinese. Each code (and, where one code covers several
situations, its ``case``) has a template here whose msgid is English and whose translation lives in
the catalogue like every other text. A code without a template falls back to the engine's English
sentence, so a new rule is never silent, only untranslated.

Rule explanations are written once, in the rule modules, marked with ``engine.lint.N_`` so that
``make messages`` extracts them; ``explanation`` looks them up here.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from flask_babel import gettext as _

from engine.lint import Rule
from engine.validation import Finding

Template = Callable[[Mapping[str, str]], str]


def _kinds() -> dict[str, str]:
    """BPMN element names as the designer's tool shows them."""
    return {
        "userTask": _("user task"), "serviceTask": _("service task"), "scriptTask": _("script task"),
        "sendTask": _("send task"), "receiveTask": _("receive task"), "manualTask": _("manual task"),
        "task": _("task"), "businessRuleTask": _("business rule task"), "callActivity": _("call activity"),
        "subProcess": _("subprocess"), "transaction": _("transaction"), "startEvent": _("start event"),
        "endEvent": _("end event"), "intermediateCatchEvent": _("intermediate event"),
        "intermediateThrowEvent": _("intermediate event"), "boundaryEvent": _("boundary event"),
        "exclusiveGateway": _("exclusive gateway"), "parallelGateway": _("parallel gateway"),
        "inclusiveGateway": _("inclusive gateway"), "eventBasedGateway": _("event-based gateway"),
        "complexGateway": _("complex gateway"), "sequenceFlow": _("sequence flow"), "participant": _("participant"),
        "lane": _("lane"), "process": _("process"),
        # what a reference may name (engine.validation_checks)
        "flow node": _("flow node"), "flow node of the same process": _("flow node of the same process"),
        "activity": _("activity"), "outgoing sequence flow": _("outgoing sequence flow"),
        "bpmn:message": _("message (bpmn:message)"), "bpmn:error": _("error (bpmn:error)"),
        "bpmn:signal": _("signal (bpmn:signal)"), "bpmn:escalation": _("escalation (bpmn:escalation)"),
    }


def _validation_templates() -> dict[str, Template]:
    return {
        "size": lambda p: _("The file is %(size)s bytes; a BPMN file may be at most %(limit)s bytes.", **p),
        "xml.doctype": lambda p: _("DOCTYPE declarations are not allowed in BPMN files (they can read other files "
                                   "or expand without end)."),
        "xml.not-well-formed": lambda p: _("The file is not well-formed XML: %(detail)s", **p),
        "bpmn.root": lambda p: _("The root element must be bpmn:definitions, not %(found)s.", **p),
        "bpmn.no-process": lambda p: _("The file has no executable process (a bpmn:process with "
                                       "isExecutable=\"true\")."),
        "xsd": lambda p: _("Not valid against the BPMN 2.0 schema: %(detail)s", **p),
        "xsd.more": lambda p: _("There are more schema errors after the first %(limit)s.", **p),
        "unsupported": lambda p: _("%(construct)s is not supported by the engine.", **p),
        "reference": lambda p: _("%(attribute)s '%(target)s' names no %(kind)s.", **p),
        "reference.diagram": lambda p: _("The diagram draws '%(target)s', which is not in the model.", **p),
        "reference.call": lambda p: _("The call activity calls process '%(target)s', which is neither among the "
                                      "files checked nor in their directory.", **p),
        "timer": lambda p: _("The timer's %(kind)s '%(expression)s' cannot be read: %(detail)s", **p)
        if p.get("expression") else _("The timer has no timeDate, timeDuration or timeCycle."),
        "parse": lambda p: _("The engine cannot load this model: %(detail)s", **p),
        "internal": lambda p: _("Validation stopped on something unexpected: %(detail)s", **p),
        "lint-config.invalid": lambda p: _("The lint configuration is not valid: %(detail)s", **p),
        "lint-config.unknown-rule": lambda p: _("The lint configuration names an unknown rule '%(rule)s' "
                                                "(onewindow lint --list-rules lists them).", **p),
        "lint-config.bad-level": lambda p: _("Rule '%(rule)s': level %(level)s is not off, warn or error.", **p),
    }


def _structural_templates() -> dict[str, Template]:
    return {
        "no-disconnected": lambda p: _("%(name)s is not connected to anything.", **p),
        "no-implicit-split": lambda p: _("%(name)s splits the flow without a gateway (%(count)s unconditional "
                                         "outgoing flows): use a gateway.", **p),
        "start-event-required": lambda p: _("%(name)s has no start event.", **p),
        "end-event-required": lambda p: _("%(name)s has no end event.", **p),
        "label-required": lambda p: _("This %(kind)s has no name.", **p),
        "conditional-flows": lambda p: _("This flow leaves a conditional fork without a condition.")
        if p.get("case") == "condition" else _("Every flow out of %(name)s has a condition and none is the "
                                               "default: a case no condition matches stops with an incident.", **p),
        "no-gateway-join-fork": lambda p: _("%(name)s joins and forks at once: draw two gateways.", **p),
        "fake-join": lambda p: _("%(name)s has %(count)s incoming flows that do not wait for each other: merge "
                                 "them with a gateway.", **p),
        "single-blank-start-event": lambda p: _("%(name)s has %(count)s blank start events.", **p),
        "superfluous-gateway": lambda p: _("%(name)s has one incoming and one outgoing flow: it decides nothing.",
                                           **p),
        "no-duplicate-sequence-flows": lambda p: _("This flow duplicates another from %(source)s to %(target)s.",
                                                   **p),
        "no-implicit-start": lambda p: _("%(name)s has no incoming flow: it starts by itself.", **p),
        "no-implicit-end": lambda p: _("%(name)s has no outgoing flow: it ends its path without an end event.",
                                       **p),
        "no-bpmndi": lambda p: _("This %(kind)s is not drawn in the diagram.", **p),
        "single-event-definition": lambda p: _("%(name)s has %(count)s event definitions.", **p),
        "sub-process-blank-start-event": lambda p: _("%(name)s starts an embedded subprocess, so it must be "
                                                     "blank.", **p),
        "event-sub-process-typed-start-event": lambda p: _("%(name)s starts an event subprocess, so it needs an "
                                                           "event definition.", **p),
    }


def _domain_templates() -> dict[str, Template]:
    return {
        "onewindow/approval-levels": lambda p: _("%(count)s user tasks lead to the decision %(name)s (%(path)s); "
                                                 "internal approval has at most %(limit)s levels.", **p),
        "onewindow/user-task-assignment": lambda p: _("The user task %(name)s is offered to no one: give it a "
                                                      "candidate group or a lane.", **p),
        "onewindow/form-exists": _form_template,
        "onewindow/worker-registered": lambda p: _("No worker serves topic '%(topic)s' (registered: "
                                                   "%(registered)s).", **p),
        "onewindow/specialist-time-limit": lambda p: _("The specialist procedure %(name)s has no time limit: give "
                                                       "it a due date or a timer boundary event.", **p),
        "onewindow/case-clock": _clock_template,
        "onewindow/chinese-name": lambda p: _("This %(kind)s has no Chinese name.", **p)
        if p.get("kind") != "sequenceFlow" else _("This flow leaves a fork without a Chinese name saying when it "
                                                  "is taken."),
    }


def _form_template(p: Mapping[str, str]) -> str:
    if p.get("case") == "none":
        return _("The user task %(name)s names no form (camunda:formKey).", **p)
    if p.get("case") == "missing":
        return _("Form '%(form)s' does not exist: there is no forms/%(form)s.json.", **p)
    return _("Form '%(form)s' cannot be used: %(detail)s", **p)


def _clock_template(p: Mapping[str, str]) -> str:
    if p.get("case") == "unknown":
        return _("The case clock marker '%(marker)s' on %(name)s is not one the engine knows.", **p)
    if p.get("case") == "no-accept":
        return _("%(name)s asks for supplements or refuses acceptance but never accepts the case: mark the "
                 "acceptance.", **p)
    return _("%(name)s marks %(marker)s, but the case can reach %(end)s without %(closers)s.", **p)


def describe(finding: Finding) -> str:
    """The finding's sentence in the current locale; the engine's English one when a value is missing."""
    params = {**finding.params}
    if "kind" in params:
        params["kind"] = _kinds().get(params["kind"], params["kind"])
    template = {**_validation_templates(), **_structural_templates(), **_domain_templates()}.get(finding.code)
    if template is None:
        return finding.message
    try:
        return template(params)
    except KeyError:
        return finding.message


def severity(finding: Finding) -> str:
    return _("error") if finding.severity == "error" else _("warning")


def explanation(rule: Rule) -> str:
    """The rule's explanation in the current locale (its text is the msgid, marked in the rule module)."""
    return _(rule.explanation)


def as_page(finding: Finding) -> dict[str, Any]:
    """A finding as the designers' pages and the REST answer show it."""
    return {**finding.as_dict(), "text": describe(finding)}
