"""BPMN parsing for both dialects this engine accepts.

Camunda Modeler files (Camunda 7 attributes) and SpiffWorkflow/bpmn.io files
(``spiffworkflow:`` extensions, lanes as candidate groups) parse into the same
engine-facing shape: every user task carries a ``UserTaskMeta`` and every
service task is an ``ExternalServiceTask`` with a topic, so the rest of the
engine never looks at dialects. We extend SpiffWorkflow by subclassing its
parsers; its module globals are never touched.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.util import first
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser,
    EndEventParser,
    IntermediateCatchEventParser,
    IntermediateThrowEventParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    ServiceTask,
    StartEvent,
)
from SpiffWorkflow.spiff.specs.defaults import ParallelMultiInstanceTask as SpiffParallelMI
from SpiffWorkflow.spiff.specs.defaults import SequentialMultiInstanceTask as SpiffSequentialMI
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, CamundaTaskParser
from SpiffWorkflow.camunda.parser.task_spec import UserTaskParser as CamundaUserTaskParser
from SpiffWorkflow.spiff.parser.event_parsers import (
    SpiffBoundaryEventParser,
    SpiffIntermediateCatchEventParser,
    SpiffStartEventParser,
)
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.parser.task_spec import UserTaskParser as SpiffUserTaskParser

from .juel import is_juel
from .timers import TIMER_CLASSES, TimerExpressionError, make_timer_definition, schedule_for

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
CAMUNDA = "camunda"
SPIFF = "spiff"


@dataclass(frozen=True)
class UserTaskMeta:
    """What the inbox and forms need to know about a user task, whatever the dialect."""

    form_key: str | None = None
    candidate_groups: tuple[str, ...] = ()
    candidate_users: tuple[str, ...] = ()
    assignee: str | None = None
    due_date: str | None = None
    follow_up_date: str | None = None
    priority: str | None = None
    properties: dict[str, str] = field(default_factory=dict)


class ExternalServiceTask(ServiceTask):
    """A service task done by an external worker: it starts and waits (STARTED).

    The worker fetches it by ``topic`` and completes it through the external
    task API; ``params`` (SpiffWorkflow dialect) are expressions evaluated when
    the task starts and handed to the worker beside the process variables.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str, priority: str | None = None,
                 params: dict[str, str] | None = None, result_variable: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.priority = priority
        self.params = params or {}
        self.result_variable = result_variable

    def _execute(self, task: Any) -> None:
        engine = task.workflow.script_engine
        task.internal_data["external_params"] = {
            name: engine.evaluate(task, expression) for name, expression in self.params.items()
        }
        return None


class ElementLocalMerge:
    """Multi-instance children keep their element variable to themselves.

    Without an output collection SpiffWorkflow merges all of a child's data back,
    element variable included, so the next sequential instance refuses to start
    ("input item already exists") and the last element leaks into the process.
    Camunda treats the element variable as local; so do we, for both dialects.
    """

    def merge_child(self, workflow: Any, child: Any) -> None:
        keeps_element = self.data_output is None and self.input_item is not None
        if not keeps_element or self.input_item.bpmn_id not in child.data:
            return super().merge_child(workflow, child)
        name = self.input_item.bpmn_id
        element = child.data.pop(name)
        try:
            super().merge_child(workflow, child)
        finally:
            child.data[name] = element


class LocalParallelMI(ElementLocalMerge, ParallelMultiInstanceTask):
    pass


class LocalSequentialMI(ElementLocalMerge, SequentialMultiInstanceTask):
    pass


class SpiffLocalParallelMI(ElementLocalMerge, SpiffParallelMI):
    pass


class SpiffLocalSequentialMI(ElementLocalMerge, SpiffSequentialMI):
    pass


def _juel_reference(value: str | None) -> str | None:
    """`${signers}` → `signers` (Camunda collections are expressions naming a variable)."""
    if value is None:
        return None
    text = value.strip()
    if text.startswith(("${", "#{")) and text.endswith("}"):
        text = text[2:-1].strip()
    return text


def _split_list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


# --- timers (both dialects) -----------------------------------------------

PROBE_MOMENT = datetime(2000, 1, 1, tzinfo=timezone.utc)


class EngineTimerParsing:
    """Timer events become the engine's own definitions (``engine.timers``), which only fire
    when the scheduler says so. Literal Camunda values are checked at deployment."""

    timer_dialect = SPIFF

    def parse_timer_event(self, event: Any) -> Any:
        name = self.node.get("name", self.node.get("id"))
        for kind in TIMER_CLASSES:
            node = first(self.xpath(f".//bpmn:{kind}"))
            if node is None:
                continue
            text = (node.text or "").strip()
            if not text:
                raise ValidationException(f"Timer '{name}' has an empty {kind}", node=self.node,
                                          file_name=self.filename)
            if self.timer_dialect == CAMUNDA and not is_juel(text):
                try:
                    schedule_for(kind, text, PROBE_MOMENT, timezone.utc)
                except TimerExpressionError as exc:
                    raise ValidationException(f"Timer '{name}': {exc}", node=self.node,
                                              file_name=self.filename) from None
            return make_timer_definition(kind, name, text, self.timer_dialect, self.get_event_description(event),
                                         self.node.get("id"), start_event=self.node.tag.endswith("startEvent"))
        raise ValidationException(f"Timer '{name}' needs a timeDate, timeDuration or timeCycle", node=self.node,
                                  file_name=self.filename)


def _timer_parser(base: type, dialect: str) -> type:
    return type(f"Timer{base.__name__}", (EngineTimerParsing, base), {"timer_dialect": dialect})


# --- Camunda 7 dialect -----------------------------------------------------

class CamundaLoopMixin:
    """Camunda's multi-instance attributes (collection, elementVariable, cardinality)
    mapped onto SpiffWorkflow's standard BPMN multi-instance specs."""

    def _add_multiinstance_task(self, loop_characteristics: Any) -> None:
        sequential = loop_characteristics.get("isSequential") == "true"
        prefix = "bpmn:multiInstanceLoopCharacteristics"
        cardinality = self.xpath(f"./{prefix}/bpmn:loopCardinality")
        cardinality = cardinality[0].text if len(cardinality) > 0 else None
        collection = _juel_reference(self.attribute("collection", CAMUNDA, loop_characteristics))
        if cardinality is None and collection is None:
            self.raise_validation_exception("A multi-instance activity needs camunda:collection or loopCardinality")
        element = self.attribute("elementVariable", CAMUNDA, loop_characteristics)
        condition = self.xpath(f"./{prefix}/bpmn:completionCondition")
        original = self.spec.task_specs.pop(self.task.name)
        # Camunda 7 has no output collection; the properties outputCollection / outputElement give one
        # (each instance's outputElement, in input order), as SpiffWorkflow's data outputs do
        properties = self.parse_extensions()
        output, output_element = properties.get("outputCollection"), properties.get("outputElement")
        if bool(output) != bool(output_element):
            self.raise_validation_exception("A multi-instance output needs both outputCollection and outputElement")
        params = {
            "task_spec": "",
            "cardinality": cardinality if collection is None else None,
            "data_input": TaskDataReference(collection) if collection else None,
            "data_output": TaskDataReference(output) if output else None,
            "input_item": TaskDataReference(element) if element else None,
            "output_item": TaskDataReference(output_element) if output_element else None,
            "condition": condition[0].text if len(condition) > 0 else None,
        }
        spec_class = LocalSequentialMI if sequential else LocalParallelMI
        self.task = spec_class(self.spec, original.name, **params)
        TaskParser._copy_task_attrs(self, original)


def _with_loops(parsers: dict, mixin: type | None = None, **attrs: Any) -> dict:
    """Give every activity parser our multi-instance handling (SpiffWorkflow's parser
    design offers no single hook, so we subclass each one)."""
    out = {}
    for tag, (parser_class, spec_class) in parsers.items():
        if issubclass(parser_class, TaskParser) and not tag.endswith(("Event", "Gateway")):
            bases = (mixin, parser_class) if mixin else (parser_class,)
            parser_class = type(f"Onewindow{parser_class.__name__}", bases, dict(attrs))
        out[tag] = (parser_class, spec_class)
    return out


class CamundaUserTaskMetaParser(CamundaUserTaskParser):
    def create_task(self) -> Any:
        spec = super().create_task()
        spec.onewindow = UserTaskMeta(
            form_key=self.attribute("formKey", CAMUNDA),
            candidate_groups=_split_list(self.attribute("candidateGroups", CAMUNDA)),
            candidate_users=_split_list(self.attribute("candidateUsers", CAMUNDA)),
            assignee=self.attribute("assignee", CAMUNDA),
            due_date=self.attribute("dueDate", CAMUNDA),
            follow_up_date=self.attribute("followUpDate", CAMUNDA),
            priority=self.attribute("priority", CAMUNDA),
            properties=self.parse_extensions(),
        )
        return spec


class CamundaExternalTaskParser(CamundaTaskParser):
    def create_task(self) -> Any:
        kind = self.attribute("type", CAMUNDA)
        topic = self.attribute("topic", CAMUNDA)
        if kind != "external" or not topic:
            self.raise_validation_exception(
                "Service task must be an external task: set camunda:type=\"external\" and camunda:topic "
                "(Java delegates, expressions and connectors are not supported by this engine)"
            )
        return self.spec_class(self.spec, self.bpmn_id, topic=topic,
                               priority=self.attribute("taskPriority", CAMUNDA), **self.bpmn_attributes)


class CamundaDialectParser(CamundaParser):
    """Camunda Modeler files. Message events use the plain BPMN definition so a
    message's variables land in the process data as Camunda 7 does it."""

    OVERRIDE_PARSER_CLASSES = _with_loops({
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (CamundaUserTaskMetaParser, CamundaParser.OVERRIDE_PARSER_CLASSES[full_tag("userTask")][1]),
        full_tag("serviceTask"): (CamundaExternalTaskParser, ExternalServiceTask),
        full_tag("sendTask"): (CamundaExternalTaskParser, ExternalServiceTask),
        full_tag("startEvent"): (_timer_parser(StartEventParser, CAMUNDA), StartEvent),
        full_tag("endEvent"): (EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (_timer_parser(IntermediateCatchEventParser, CAMUNDA),
                                             IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (IntermediateThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (_timer_parser(BoundaryEventParser, CAMUNDA), BoundaryEvent),
    }, CamundaLoopMixin)


# --- SpiffWorkflow dialect -------------------------------------------------

class SpiffUserTaskMetaParser(SpiffUserTaskParser):
    def create_task(self) -> Any:
        spec = super().create_task()
        props = self.parse_extensions().get("properties", {})
        lane = self.lane
        spec.onewindow = UserTaskMeta(
            form_key=props.get("formJsonSchemaFilename") or props.get("formKey"),
            candidate_groups=_split_list(props.get("candidateGroups")) or ((lane,) if lane else ()),
            candidate_users=_split_list(props.get("candidateUsers")),
            assignee=props.get("assignee"),
            due_date=props.get("dueDate"),
            follow_up_date=props.get("followUpDate"),
            priority=props.get("priority"),
            properties=props,
        )
        return spec


class SpiffExternalTaskParser(SpiffTaskParser):
    def create_task(self) -> Any:
        operator = self.parse_extensions().get("serviceTaskOperator")
        if not operator or not operator.get("name"):
            self.raise_validation_exception(
                "Service task needs a spiffworkflow:serviceTaskOperator whose id is the worker topic"
            )
        params = {name: p["value"] for name, p in operator.get("parameters", {}).items()}
        return self.spec_class(self.spec, self.bpmn_id, topic=operator["name"], params=params,
                               result_variable=operator.get("resultVariable") or None,
                               **self.bpmn_attributes)


class SpiffDialectParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES = _with_loops({
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (SpiffUserTaskMetaParser, SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("userTask")][1]),
        full_tag("serviceTask"): (SpiffExternalTaskParser, ExternalServiceTask),
        full_tag("startEvent"): (_timer_parser(SpiffStartEventParser, SPIFF),
                                 SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("startEvent")][1]),
        full_tag("intermediateCatchEvent"): (_timer_parser(SpiffIntermediateCatchEventParser, SPIFF),
                                             SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("intermediateCatchEvent")][1]),
        full_tag("boundaryEvent"): (_timer_parser(SpiffBoundaryEventParser, SPIFF),
                                    SpiffBpmnParser.OVERRIDE_PARSER_CLASSES[full_tag("boundaryEvent")][1]),
    }, PARALLEL_MI_CLASS=SpiffLocalParallelMI, SEQUENTIAL_MI_CLASS=SpiffLocalSequentialMI)


def detect_dialect(root: etree._Element) -> str:
    """Camunda when the document uses the Camunda namespace on any element or attribute."""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag.startswith("{" + CAMUNDA_MODEL_NS):
            return CAMUNDA
        for name in element.attrib:
            if name.startswith("{" + CAMUNDA_MODEL_NS):
                return CAMUNDA
    return SPIFF


def make_parser(dialect: str) -> Any:
    """A fresh parser; XSD validation happens before parsing, in ``engine.deploy``."""
    return CamundaDialectParser() if dialect == CAMUNDA else SpiffDialectParser()


def user_task_meta(task_spec: Any) -> UserTaskMeta:
    return getattr(task_spec, "onewindow", None) or UserTaskMeta()


def hardened_xml_parser() -> etree.XMLParser:
    """lxml parser for untrusted documents: no DTD loading, no entities, no network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False)
