"""Instance state <-> JSON, without the specs.

SpiffWorkflow's serializer writes the whole parsed spec into every workflow
document; we store definitions once (as XML) and cache parsed specs, so an
instance's state holds only its task tree and data. The format is ours:
``FORMAT_VERSION`` is stored in each document and checked on load.
"""
from __future__ import annotations

import json
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .parser import CAMUNDA
from .timers import ALL_TIMER_CLASSES

FORMAT_VERSION = "onewindow-1"


class InstanceConverter(BpmnWorkflowConverter):
    """Like SpiffWorkflow's workflow converter, minus the specs (supplied at load)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore(self, dct: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    """One per dialect: event definitions differ between the dialects' specs. Our Camunda
    dialect parses events with SpiffWorkflow's plain BPMN classes, hence DEFAULT_CONFIG."""

    def __init__(self, config: dict) -> None:
        config = deepcopy(config)
        config.pop(BpmnWorkflow, None)
        # an event-based gateway remembers the timer event that won (engine.timers)
        config.update({cls: TimerConditionalEventDefinitionConverter for cls in ALL_TIMER_CLASSES})
        self.registry = BpmnWorkflowSerializer.configure(config)
        self.converter = InstanceConverter(BpmnWorkflow, self.registry)
        self.encoder = create_encoder(self.registry, None)

    def dumps(self, workflow: BpmnWorkflow) -> str:
        # The registry's "encoder mode" shortcut is a shared flag, unsafe across threads: not used.
        dct = self.converter.to_dict(workflow)
        dct["format"] = FORMAT_VERSION
        return json.dumps(dct, cls=self.encoder, separators=(",", ":"), ensure_ascii=False)

    def loads(self, text: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        dct = json.loads(text)
        found = dct.pop("format", None)
        if found != FORMAT_VERSION:
            raise ValueError(f"instance state has format {found!r}, this engine reads {FORMAT_VERSION!r}")
        return self.converter.restore(dct, spec, subprocess_specs)


_SERIALIZERS = {"spiff": StateSerializer(SPIFF_CONFIG), CAMUNDA: StateSerializer(DEFAULT_CONFIG)}


def serializer_for(dialect: str) -> StateSerializer:
    return _SERIALIZERS[dialect]
