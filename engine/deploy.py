"""Deploying BPMN: read safely, validate, parse, version, checksum.

Every resource is read with a hardened lxml parser (no DTDs, no entities, no
network, size limit), validated against the BPMN 2.0 XSD and parsed by
SpiffWorkflow before anything is written; any problem in any resource fails
the whole deployment with a list of problems (file, line, element id).
Unchanged XML is recognised by its SHA-256 and does not create a version.
"""
from __future__ import annotations

import functools
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from lxml import etree
from SpiffWorkflow.bpmn.parser.util import DEFAULT_NSMAP
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent

from . import audit
from .context import services
from .errors import DeploymentError
from .models import Deployment, MessageSubscription, ProcessDefinition
from .access import offer_problems
from .parser import UserTaskMeta, detect_dialect, hardened_xml_parser, make_parser, user_task_meta
from .scheduler import StartTimer, replace_start_timers
from .timers import EngineTimer, TimerExpressionError

BPMN_NS = DEFAULT_NSMAP["bpmn"]
NS = {"bpmn": BPMN_NS}
_XSD_DIR = Path(__import__("SpiffWorkflow").__file__).parent / "bpmn" / "parser" / "schema"


@dataclass
class Problem:
    resource: str
    message: str
    line: int | None = None
    element_id: str | None = None
    #: a stable name for the kind of problem (``engine.validation`` reports it to designers)
    code: str = "parse"

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "line": self.line, "elementId": self.element_id, "message": self.message}

    def __str__(self) -> str:
        where = self.resource + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}"


@dataclass
class ParsedProcess:
    key: str
    name: str | None
    called_keys: list[str]
    message_starts: list[str]
    start_timers: list[StartTimer] = field(default_factory=list)
    #: (element id, what the user task says about its assignment) of each user task
    user_tasks: list[tuple[str, UserTaskMeta]] = field(default_factory=list)


@dataclass
class DeployResult:
    deployment: Deployment | None
    new_definitions: list[ProcessDefinition] = field(default_factory=list)
    unchanged_definitions: list[ProcessDefinition] = field(default_factory=list)


def read_bpmn(data: bytes, resource: str, max_bytes: int) -> etree._ElementTree:
    """Parse untrusted XML; DOCTYPEs are refused outright (XXE, billion laughs)."""
    tree, problem = read_document(data, resource, max_bytes)
    if problem is not None:
        raise DeploymentError(str(problem), [problem.as_dict()])
    assert tree is not None
    return tree


def read_document(data: bytes, resource: str, max_bytes: int) -> tuple[etree._ElementTree | None, Problem | None]:
    """The tree of a BPMN document, or the first reason it is not one (deploy and validate share this)."""
    if len(data) > max_bytes:
        return None, Problem(resource, f"document is {len(data)} bytes, the limit is {max_bytes}", code="size")
    if b"<!DOCTYPE" in data.upper():
        return None, Problem(resource, "DOCTYPE declarations are not allowed in BPMN documents", 1, code="xml.doctype")
    try:
        tree = etree.ElementTree(etree.fromstring(data, hardened_xml_parser()))
    except etree.XMLSyntaxError as exc:
        return None, Problem(resource, f"not well-formed XML: {exc.msg}", exc.lineno, code="xml.not-well-formed")
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        return None, Problem(resource, "DOCTYPE declarations are not allowed in BPMN documents", 1, code="xml.doctype")
    root = tree.getroot()
    if root.tag != f"{{{BPMN_NS}}}definitions":
        return None, Problem(resource, f"root element must be bpmn:definitions, found {root.tag}", root.sourceline,
                             code="bpmn.root")
    return tree, None


@functools.lru_cache(maxsize=1)
def _bpmn_schema() -> etree.XMLSchema:
    schema_doc = etree.parse(str(_XSD_DIR / "BPMN20.xsd"), hardened_xml_parser())
    return etree.XMLSchema(schema_doc)


def xsd_problems(tree: etree._ElementTree, resource: str, limit: int | None = None) -> list[Problem]:
    """The XSD errors of a tree (the first ``limit`` of them), each with the id of the element on its line."""
    schema = _bpmn_schema()
    if schema.validate(tree):
        return []
    errors = list(schema.error_log)[:limit]
    ids = _ids_by_line(tree)
    return [Problem(resource, error.message, error.line, ids.get(error.line), code="xsd") for error in errors]


def _ids_by_line(tree: etree._ElementTree) -> dict[int, str]:
    ids: dict[int, str] = {}
    for element in tree.getroot().iter():
        if isinstance(element.tag, str) and element.sourceline and element.get("id"):
            ids.setdefault(element.sourceline, element.get("id"))
    return ids


def parse_processes(tree: etree._ElementTree, resource: str) -> tuple[str, list[ParsedProcess]]:
    """Run SpiffWorkflow's parser over every executable process; never lets its errors escape raw."""
    root = tree.getroot()
    dialect = detect_dialect(root)
    processes = [p for p in root.iterfind("bpmn:process", NS) if p.get("isExecutable", "true") != "false"]
    if not processes:
        raise DeploymentError(f"{resource}: no executable process (isExecutable=\"true\") in this file",
                              [Problem(resource, "no executable process").as_dict()])
    parser = make_parser(dialect)
    try:
        parser.add_bpmn_xml(root, filename=resource)
    except Exception as exc:  # SpiffWorkflow raises many types; all become problems
        _raise_parse_error(exc, resource)
    parsed = []
    for process in processes:
        key = process.get("id")
        try:
            spec = parser.get_spec(key)
        except Exception as exc:
            _raise_parse_error(exc, resource, key)
        parsed.append(ParsedProcess(
            key=key,
            name=process.get("name"),
            called_keys=sorted({c.get("calledElement") for c in process.iter(f"{{{BPMN_NS}}}callActivity")
                                if c.get("calledElement")}),
            message_starts=_message_start_names(root, process),
            start_timers=_start_timers(spec),
            user_tasks=[(t.bpmn_id, user_task_meta(t)) for t in spec.task_specs.values() if getattr(t, "manual", False)],
        ))
    return dialect, parsed


def _raise_parse_error(exc: Exception, resource: str, key: str | None = None) -> None:
    message = str(exc.args[0]) if exc.args else exc.__class__.__name__
    notes = getattr(exc, "__notes__", None)
    if notes:
        message += " (" + "; ".join(notes) + ")"
    line = getattr(exc, "line_number", None) or None
    element_id = getattr(exc, "id", None) or key
    if not hasattr(exc, "line_number") and not isinstance(exc, (ValueError, KeyError)):
        message = f"{exc.__class__.__name__}: {message}"
    problem = Problem(resource, message, int(line) if str(line or "").isdigit() else None, element_id)
    raise DeploymentError(str(problem), [problem.as_dict()]) from None


def _message_start_names(root: etree._Element, process: etree._Element) -> list[str]:
    names = []
    for definition in process.iterfind("bpmn:startEvent/bpmn:messageEventDefinition", NS):
        ref = definition.get("messageRef")
        message = root.find(f"bpmn:message[@id='{ref}']", NS) if ref else None
        if message is not None and message.get("name"):
            names.append(message.get("name"))
    return names


def _start_timers(spec: Any) -> list[StartTimer]:
    return [StartTimer(task_spec.bpmn_id, task_spec.event_definition) for task_spec in spec.task_specs.values()
            if isinstance(task_spec, StartEvent) and isinstance(getattr(task_spec, "event_definition", None),
                                                               EngineTimer)]


def _offer_problems(session: so.Session, tree: etree._ElementTree, resource: str,
                    processes: list[ParsedProcess]) -> list[Problem]:
    """User tasks offered to those who handle no case (``engine.access.offer_problems``), each on its line."""
    lines = {element_id: line for line, element_id in _ids_by_line(tree).items()}
    return [Problem(resource, text, lines.get(element_id), element_id, code="offer.no-case-role")
            for process in processes for element_id, meta in process.user_tasks
            for text in offer_problems(session, element_id, meta)]


def latest_definition(session: so.Session, key: str) -> ProcessDefinition | None:
    return session.scalar(
        sa.select(ProcessDefinition).where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc()).limit(1)
    )


def deploy(session: so.Session, resources: Iterable[tuple[str, bytes]], *, name: str | None = None,
           source: str | None = None, actor: str | None = None,
           duplicate_filtering: bool = True) -> DeployResult:
    """Validate every resource, then write a deployment with one definition per changed process."""
    svc = services(session)
    checked = []
    problems: list[Problem] = []
    for resource, data in resources:
        try:
            tree = read_bpmn(data, resource, svc.settings.max_bpmn_bytes)
            found = xsd_problems(tree, resource)
            if found:
                problems.extend(found)
                continue
            dialect, processes = parse_processes(tree, resource)
        except DeploymentError as exc:
            problems.extend(Problem(p["resource"], p["message"], p["line"], p["elementId"]) for p in exc.problems)
            continue
        problems.extend(_offer_problems(session, tree, resource, processes))
        checked.append((resource, data, dialect, processes))
    if problems:
        raise DeploymentError("Deployment rejected: " + "; ".join(str(p) for p in problems[:10]),
                              [p.as_dict() for p in problems])
    if not checked:
        raise DeploymentError("Deployment has no BPMN resource (expected files ending in .bpmn)")
    return _write_deployment(session, checked, name, source, actor, duplicate_filtering)


def _write_deployment(session: so.Session, checked: list, name: str | None, source: str | None,
                      actor: str | None, duplicate_filtering: bool) -> DeployResult:
    now = services(session).clock.now()
    result = DeployResult(deployment=None)
    deployment = Deployment(id=str(uuid.uuid4()), name=name, source=source, deployed_at=now, deployed_by=actor)
    for resource, data, dialect, processes in checked:
        checksum = hashlib.sha256(data).hexdigest()
        xml = data.decode("utf-8")
        for process in processes:
            previous = latest_definition(session, process.key)
            if duplicate_filtering and previous is not None and previous.checksum == checksum:
                result.unchanged_definitions.append(previous)
                continue
            version = (previous.version if previous else 0) + 1
            definition = ProcessDefinition(
                id=f"{process.key}:{version}:{uuid.uuid4()}", key=process.key, version=version,
                name=process.name, deployment_id=deployment.id, resource_name=resource,
                checksum=checksum, dialect=dialect, xml=xml, called_keys=process.called_keys,
                deployed_at=now, deployed_by=actor,
            )
            result.new_definitions.append(definition)
            _replace_start_subscriptions(session, definition, process.message_starts, now)
    if result.new_definitions:
        session.add(deployment)
        session.flush()
        session.add_all(result.new_definitions)
        session.flush()
        _replace_start_timers(session, checked, result.new_definitions, now)
        result.deployment = deployment
        audit.record(session, "deploy", actor=actor, entity_id=deployment.id, details={
            "name": name, "definitions": [d.id for d in result.new_definitions]})
    return result


def _replace_start_timers(session: so.Session, checked: list, definitions: list[ProcessDefinition],
                          now: Any) -> None:
    by_key = {process.key: process for *_rest, processes in checked for process in processes}
    for definition in definitions:
        try:
            replace_start_timers(session, definition, by_key[definition.key].start_timers, now)
        except TimerExpressionError as exc:
            problem = Problem(definition.resource_name, str(exc))
            raise DeploymentError(f"Deployment rejected: {problem}", [problem.as_dict()]) from None


def _replace_start_subscriptions(session: so.Session, definition: ProcessDefinition,
                                 message_names: list[str], now: Any) -> None:
    old_ids = sa.select(ProcessDefinition.id).where(ProcessDefinition.key == definition.key)
    session.execute(sa.delete(MessageSubscription).where(
        MessageSubscription.instance_id.is_(None), MessageSubscription.definition_id.in_(old_ids)))
    for message in message_names:
        session.add(MessageSubscription(message_name=message, instance_id=None, definition_id=definition.id,
                                        activity_id="start", created_at=now))


def deploy_directory(session: so.Session, directory: Path, actor: str | None = None) -> DeployResult:
    """Deploy every .bpmn file of a directory as one deployment (unchanged files are filtered)."""
    files = sorted(directory.rglob("*.bpmn"))
    resources = [(str(path.relative_to(directory)), path.read_bytes()) for path in files]
    if not resources:
        return DeployResult(deployment=None)
    return deploy(session, resources, name=directory.name, source="directory", actor=actor)
