"""What a scenario expects of its case, and the model it checks names against.

``expect`` compares what the engine shows — the projections the inbox, the
workers and the scheduler read (user tasks, external tasks, message
subscriptions, timers, incidents), the process variables, the order in which
elements completed and the case clock — with what the scenario file says, and
names the element where they part.
"""
from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import sqlalchemy.orm as so
from lxml import etree

from .deploy import latest_definition
from .parser import hardened_xml_parser

if TYPE_CHECKING:
    from .scenario_run import Case

#: elements that are not steps of a path
NOT_NODES = {"sequenceFlow", "laneSet", "lane", "extensionElements", "documentation", "textAnnotation",
             "association", "conditionExpression", "multiInstanceLoopCharacteristics", "incoming", "outgoing"}


class StepFailed(Exception):
    """A step that cannot be done or an expectation that does not hold; ``step`` when it is not the step
    being taken (the ids of every step are checked before the first)."""

    def __init__(self, message: str, element_id: str | None = None, step: int | None = None) -> None:
        super().__init__(message)
        self.message, self.element_id, self.step = message, element_id, step


@dataclass
class Model:
    """What the deployed BPMN of a case holds: its elements (kind, name), topics and message names."""

    keys: list[str]
    elements: dict[str, tuple[str, str]] = field(default_factory=dict)
    topics: set[str] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)

    def describe(self, element_id: str | None) -> str:
        _kind, name = self.elements.get(element_id or "", ("", ""))
        return f"{element_id} ({name})" if name else str(element_id)

    def listing(self, ids: Iterable[str]) -> str:
        found = [self.describe(i) for i in ids]
        return ", ".join(found) if found else "nothing"


def model_of(session: so.Session, root_key: str) -> Model:
    """The root process and every process it calls, as deployed."""
    model, pending = Model([]), [root_key]
    while pending:
        key = pending.pop(0)
        definition = latest_definition(session, key)
        if definition is None or key in model.keys:
            continue
        model.keys.append(key)
        tree = etree.fromstring(definition.xml.encode("utf-8"), hardened_xml_parser())
        for process in tree.iter("{*}process"):
            if process.get("id") != key:
                continue
            for element in process.iter():
                if not isinstance(element.tag, str) or element is process:
                    continue
                kind = etree.QName(element).localname
                topic = element.get("{http://camunda.org/schema/1.0/bpmn}topic")
                if topic:
                    model.topics.add(topic)
                if element.get("id") and kind not in NOT_NODES:
                    model.elements.setdefault(element.get("id"), (kind, element.get("name") or ""))
        model.messages |= {m.get("name") for m in tree.iter("{*}message") if m.get("name")}
        pending.extend(definition.called_keys or [])
    return model


def check(case: "Case", expect: Mapping[str, Any]) -> None:
    """Every expectation of an ``expect``, in a fixed order: status, what waits, variables, path, clock."""
    model = case.model
    if "status" in expect:
        status = case.status()
        if status != expect["status"]:
            raise StepFailed(f"the case is {status}, expected {expect['status']}; waiting: {case.waiting_text()}")
    for key, read in (("waiting", case.waiting), ("timers", case.timers), ("incidents", case.incidents)):
        if key in expect:
            _same_elements(key, list(expect[key]), read(), model)
    if {"variables", "unset"} & set(expect):
        found = case.variables()
        for name, wanted in (expect.get("variables") or {}).items():
            present, actual = _lookup(found, name)
            if not present:
                raise StepFailed(f"variable '{name}' is not set (variables: {', '.join(sorted(found))})")
            if not _matches(wanted, actual):
                raise StepFailed(f"variable '{name}' is {_show(actual)}, expected {_show(wanted)}")
        for name in expect.get("unset") or []:
            present, actual = _lookup(found, name)
            if present:
                raise StepFailed(f"variable '{name}' should not be set, but is {_show(actual)}")
    if {"path", "includes", "not_visited"} & set(expect):
        _check_path(case, expect)
    if "case_clock" in expect:
        _check_case_clock(case, expect["case_clock"])


def _check_case_clock(case: "Case", wanted: Mapping[str, Any]) -> None:
    found = case.case_clock()
    if found is None:
        raise StepFailed("the case has no case clock (it was not received for a catalogue item)")
    for name, value in wanted.items():
        if name not in found:
            raise StepFailed(f"the case clock has no '{name}'{close(name, found)}")
        if not _matches(value, found[name]):
            raise StepFailed(f"case clock {name} is {_show(found[name])}, expected {_show(value)}")


def _check_path(case: "Case", expect: Mapping[str, Any]) -> None:
    path, model = case.path(), case.model
    position = 0
    for index, element in enumerate(expect.get("path") or []):
        try:
            position = path.index(element, position) + 1
        except ValueError:
            if element not in path:
                why = "was never completed"
            else:
                why = f"was not completed after {model.describe(expect['path'][index - 1])}"
            raise StepFailed(f"path: {model.describe(element)} {why}; completed in order: {', '.join(path)}",
                             element) from None
    for element in expect.get("includes") or []:
        if element not in path:
            raise StepFailed(f"{model.describe(element)} was never completed; completed: {', '.join(path)}",
                             element)
    for element in expect.get("not_visited") or []:
        if element in path:
            raise StepFailed(f"{model.describe(element)} should not have been visited, but was completed",
                             element)


def close(name: Any, known: Iterable[str]) -> str:
    """A suggestion for a name that is not there: the nearest known one, if any is near."""
    found = difflib.get_close_matches(str(name), [str(k) for k in known], n=1, cutoff=0.6)
    return f" — did you mean '{found[0]}'?" if found else ""


def _same_elements(key: str, wanted: list[str], actual: list[str], model: Model) -> None:
    missing = Counter(wanted) - Counter(actual)
    extra = Counter(actual) - Counter(wanted)
    if missing or extra:
        first = next(iter(missing or extra))
        parts = []
        if missing:
            parts.append(f"expected {model.listing(missing.elements())}")
        if extra:
            parts.append(f"not expected {model.listing(extra.elements())}")
        raise StepFailed(f"{key}: {'; '.join(parts)} — actually {model.listing(actual)}", first)


def _lookup(variables: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    """``a.b.0.c``: nested mappings and list indexes; a name that is itself a key wins."""
    if name in variables:
        return True, variables[name]
    value: Any = variables
    for part in name.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return False, None
    return True, value


def _matches(wanted: Any, actual: Any) -> bool:
    """Mappings match as subsets (only the keys the scenario names), lists item by item, the rest by equality
    (a boolean is not a number)."""
    if isinstance(wanted, Mapping):
        return isinstance(actual, Mapping) and all(k in actual and _matches(v, actual[k]) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(actual, list) and len(wanted) == len(actual) and all(map(_matches, wanted, actual))
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return type(wanted) is type(actual) and wanted == actual
    return wanted == actual


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:297] + "..."
