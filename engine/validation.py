"""`onewindow validate`: is this file a BPMN model the engine can run, and if not, where and why.

Validation answers for one document, before deployment and without a database: well-formed and
safe XML (the hardened reader of ``engine.deploy``), the BPMN 2.0 XSD, constructs the engine does
not run (reported by element, never silently ignored), references that name nothing, timer
expressions ``engine.timers`` cannot read, then SpiffWorkflow's own parser through our dialect
parsers. It never raises: whatever goes wrong becomes a finding (code ``internal`` as the last
resort), so a designer's tool, the deploy page and the web modeler can call it on anything.

Findings are shared with ``engine.lint``: a stable ``code`` and ``params`` that ``api`` turns into
Chinese, and an English sentence for logs and tools.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from lxml import etree

from . import deploy
from .bpmn_graph import Model, is_bpmn, local
from .errors import DeploymentError

ERROR, WARNING = "error", "warning"
#: the XSD errors reported per file; a broken file says the same thing many times over
XSD_LIMIT = 50
MESSAGE_LIMIT = 600


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a file: where (resource, line, element), what (code, params) and how bad."""

    resource: str
    code: str
    severity: str
    message: str
    line: int | None = None
    element_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "code": self.code, "severity": self.severity, "message": self.message,
                "line": self.line, "elementId": self.element_id, "params": dict(self.params)}

    def __str__(self) -> str:
        where = self.resource + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element} {self.severity} {self.code}: {self.message}"


def at(resource: str, element: etree._Element | None, code: str, message: str, severity: str = ERROR,
       **params: Any) -> Finding:
    """A finding located at an element (its line and id)."""
    line = element.sourceline if element is not None else None
    element_id = element.get("id") if element is not None and isinstance(element.tag, str) else None
    return Finding(resource, code, severity, _short(message), line or None, element_id,
                   {k: _short(str(v)) for k, v in params.items() if v is not None})


def validate(data: bytes, resource: str, *, max_bytes: int = 5_000_000,
             known_processes: Iterable[str] | None = None) -> list[Finding]:
    """Every finding for one BPMN document. ``known_processes``: process ids deployable beside it (the
    files checked together, their directory); without it, called processes are not looked for."""
    try:
        tree, findings = read(data, resource, max_bytes)
        if tree is None:
            return findings
        return findings + check_tree(tree, resource, known_processes)
    except Exception as exc:  # the last resort: validation never raises
        return [internal(resource, exc)]


def process_ids(data: bytes) -> set[str]:
    """The ids of the processes a document defines (what call activities elsewhere may name); none if it
    cannot be read."""
    tree, _ = read(data, "")
    if tree is None:
        return set()
    return {p.get("id") for p in tree.getroot() if is_bpmn(p) and local(p) == "process" and p.get("id")}


def read(data: bytes, resource: str, max_bytes: int = 5_000_000) -> tuple[etree._ElementTree | None, list[Finding]]:
    """The document's tree, or the finding that says why there is none."""
    if not isinstance(data, (bytes, bytearray)):
        return None, [Finding(resource, "xml.not-well-formed", ERROR, f"expected bytes, got {type(data).__name__}")]
    tree, problem = deploy.read_document(bytes(data), resource, max_bytes)
    if problem is None:
        return tree, []
    params: dict[str, str] = {}
    if problem.code == "size":
        params = {"size": str(len(data)), "limit": str(max_bytes)}
    elif problem.code == "xml.not-well-formed":
        params = {"detail": problem.message.removeprefix("not well-formed XML: ")}
    elif problem.code == "bpmn.root":
        root_tag = problem.message.rsplit(" ", 1)[-1]
        params = {"found": _prefixed(root_tag)}
    return None, [Finding(resource, problem.code, ERROR, _short(_prefixed(problem.message)), problem.line, None,
                          {k: _short(v) for k, v in params.items()})]


def check_tree(tree: etree._ElementTree, resource: str, known_processes: Iterable[str] | None = None,
               model: Model | None = None) -> list[Finding]:
    """The findings of a readable document: XSD, then the engine's own checks, then SpiffWorkflow."""
    from .validation_checks import references, timers, unsupported

    model = model or Model.of(tree)
    findings = xsd(tree, resource)
    findings += _guarded(resource, unsupported, model)
    refs = _guarded(resource, references, model, known_processes)
    findings += refs
    findings += _guarded(resource, timers, model)
    executable = [p for p in tree.getroot() if is_bpmn(p) and local(p) == "process"
                  and p.get("isExecutable", "true") != "false"]
    if not executable:
        findings.append(at(resource, tree.getroot(), "bpmn.no-process",
                           "the file has no executable process (a bpmn:process with isExecutable=\"true\")"))
    blocked = any(f.severity == ERROR and f.code in ("xsd", "reference") for f in findings)
    if executable and not blocked:
        found = {f.element_id for f in findings if f.severity == ERROR}
        findings += [f for f in parse(tree, resource) if f.element_id is None or f.element_id not in found]
    return findings


def xsd(tree: etree._ElementTree, resource: str) -> list[Finding]:
    problems = deploy.xsd_problems(tree, resource, XSD_LIMIT + 1)
    findings = [Finding(resource, "xsd", ERROR, _short(_prefixed(p.message)), p.line, p.element_id,
                        {"detail": _short(_prefixed(p.message))}) for p in problems[:XSD_LIMIT]]
    if len(problems) > XSD_LIMIT:
        findings.append(Finding(resource, "xsd.more", ERROR, f"more XSD errors after the first {XSD_LIMIT}",
                                params={"limit": str(XSD_LIMIT)}))
    return findings


def parse(tree: etree._ElementTree, resource: str) -> list[Finding]:
    """SpiffWorkflow's parser (our dialect parsers) over the executable processes; its first error, if any."""
    try:
        deploy.parse_processes(tree, resource)
    except DeploymentError as exc:
        return [Finding(resource, "parse", ERROR, _short(p["message"]), p.get("line"), p.get("elementId"),
                        {"detail": _short(p["message"])}) for p in exc.problems]
    except Exception as exc:  # parse_processes lets nothing raw escape; this is belt and braces
        return [internal(resource, exc)]
    return []


def internal(resource: str, exc: BaseException) -> Finding:
    text = f"{exc.__class__.__name__}: {exc}"
    return Finding(resource, "internal", ERROR, _short(f"validation stopped: {text}"), params={"detail": _short(text)})


def _guarded(resource: str, check: Any, *args: Any) -> list[Finding]:
    """One family of checks; if it fails on a strange document, the others still run."""
    try:
        return list(check(resource, *args))
    except Exception as exc:
        return [internal(resource, exc)]


def _prefixed(text: str) -> str:
    """libxml2 writes Clark names ({namespace}tag); designers know the prefixes."""
    return (text.replace("{http://www.omg.org/spec/BPMN/20100524/MODEL}", "bpmn:")
            .replace("{http://www.omg.org/spec/BPMN/20100524/DI}", "bpmndi:")
            .replace("{http://www.omg.org/spec/DD/20100524/DC}", "dc:")
            .replace("{http://www.omg.org/spec/DD/20100524/DI}", "di:")
            .replace("{http://camunda.org/schema/1.0/bpmn}", "camunda:")
            .replace("{http://spiffworkflow.org/bpmn/schema/1.0/core}", "spiffworkflow:"))


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 1] + "…"
