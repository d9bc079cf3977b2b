"""Parsed process specs, cached per set of definition versions.

Parsing BPMN is the expensive part of loading an instance, and definitions
never change once deployed, so a spec parsed for a tuple of definition ids is
valid forever. The cache is per process and bounded; correctness never
depends on it (a miss just parses again).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Sequence

from lxml import etree
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask

from .properties import attach, element_properties
from .parser import hardened_xml_parser, make_parser

SpecBundle = tuple[Any, dict[str, Any]]


class SpecCache:
    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, ...], SpecBundle] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ids: Sequence[str], load_definitions: Callable[[], Sequence[Any]]) -> SpecBundle:
        """Spec and subprocess specs for the first id, with the others as call targets.

        ``load_definitions`` is only called on a miss, so a hit costs no query.
        """
        key = tuple(ids)
        with self._lock:
            bundle = self._entries.get(key)
            if bundle is not None:
                self._entries.move_to_end(key)
                return bundle
        bundle = parse_bundle(load_definitions())
        with self._lock:
            self._entries[key] = bundle
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return bundle


def parse_bundle(definitions: Sequence[Any]) -> SpecBundle:
    root = definitions[0]
    parser = make_parser(root.dialect)
    seen_xml: set[str] = set()
    properties: dict = {}
    for definition in definitions:
        if definition.checksum in seen_xml:
            continue
        seen_xml.add(definition.checksum)
        tree = etree.fromstring(definition.xml.encode("utf-8"), hardened_xml_parser())
        properties.update(element_properties(tree))
        parser.add_bpmn_xml(tree, filename=definition.resource_name)
    spec, subprocess_specs = parser.get_spec(root.key), parser.get_subprocess_specs(root.key)
    attach([spec, *subprocess_specs.values()], properties)
    connect_loops([spec, *subprocess_specs.values()])
    return spec, subprocess_specs


def connect_loops(specs: list[Any]) -> None:
    """A loop or multi-instance task learns that an instance finished through its child spec's
    completed event, which SpiffWorkflow connects only when it creates the first instance — or when
    it restores specs from JSON. Specs parsed from XML for an instance started elsewhere (another
    node, before a restart, another version) would never hear of it and the loop would wait forever,
    so connect them here, as SpiffWorkflow's spec deserializer does."""
    for process_spec in specs:
        for task_spec in process_spec.task_specs.values():
            if isinstance(task_spec, LoopTask):
                child = process_spec.task_specs.get(task_spec.task_spec)
                if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)
