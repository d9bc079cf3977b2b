"""Process drafts: a designer's BPMN file between editing and deploying.

An uploaded file and a file edited in the web modeler are the same thing here:
a draft, checked (validate + lint) each time it is saved and deployed only when
the designer confirms. Saves are optimistic (a save names the revision it
edited), so a second browser tab cannot silently overwrite the first one's work.

The report is computed once, in the command that stores the revision, and kept with it
(``report`` of ``report_revision``): viewing a draft reads it, so a large model costs its
check once per save and never per page view (a 2 MB model once took half a minute for
every view). The caller hands in the check (``Checker``): what a report looks at besides
the file — forms, worker topics, deployed processes — belongs to the product, not to drafts.
"""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit
from .context import services
from .deploy import DeployResult, deploy
from .errors import Conflict, InvalidInput, NotFound
from .models import ProcessDefinition, ProcessDraft
from .validation import Finding

#: validate + lint of one file's bytes under its resource name (``api.design_checks.checker``)
Checker = Callable[[bytes, str], list[Finding]]

#: what a new, empty draft holds: one start event in a Camunda-dialect file the modeler opens
_BLANK = Path(__file__).parent / "blank.bpmn"


def create_draft(session: so.Session, xml: str | bytes, resource_name: str, *, actor: str, check: Checker,
                 based_on: str | None = None) -> ProcessDraft:
    """Keep any text as a draft (even one that does not parse: the report says what is wrong)."""
    now = services(session).clock.now()
    draft = ProcessDraft(id=str(uuid.uuid4()), resource_name=_resource_name(resource_name), xml=_text(session, xml),
                         revision=1, based_on=based_on, created_by=actor, created_at=now, updated_by=actor,
                         updated_at=now)
    _store_report(draft, check)
    session.add(draft)
    session.flush()
    audit.record(session, "draft.create", actor=actor, entity_id=draft.id,
                 details={"resource": draft.resource_name, "basedOn": based_on})
    return draft


def blank_draft(session: so.Session, *, actor: str, check: Checker) -> ProcessDraft:
    process_id = f"Process_{uuid.uuid4().hex[:8]}"
    xml = _BLANK.read_text(encoding="utf-8").replace("Process_new", process_id)
    return create_draft(session, xml, f"{process_id}.bpmn", actor=actor, check=check)


def draft_from_definition(session: so.Session, definition_id: str, *, actor: str, check: Checker) -> ProcessDraft:
    """A draft to change a deployed version: its whole file, remembered as the base for the diff."""
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(f"Process definition '{definition_id}' does not exist", code="definition.unknown",
                       definition=definition_id)
    return create_draft(session, definition.xml, definition.resource_name, actor=actor, check=check,
                        based_on=definition.id)


def get_draft(session: so.Session, draft_id: str) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(f"Draft '{draft_id}' does not exist", code="draft.unknown", draft=draft_id)
    return draft


def list_drafts(session: so.Session, limit: int = 100) -> list[ProcessDraft]:
    return list(session.scalars(sa.select(ProcessDraft).order_by(ProcessDraft.updated_at.desc()).limit(limit)))


def save_draft(session: so.Session, draft_id: str, xml: str | bytes, *, revision: int, actor: str,
               check: Checker) -> ProcessDraft:
    """Store a new text of the draft if nobody saved since ``revision``; otherwise refuse and keep theirs."""
    draft = get_draft(session, draft_id)
    if draft.revision != revision:
        raise Conflict(f"Draft '{draft_id}' was saved by {draft.updated_by} since revision {revision} "
                       f"(now {draft.revision}); reload it before saving", code="draft.stale",
                       user=draft.updated_by, revision=draft.revision)
    draft.xml = _text(session, xml)
    draft.revision += 1
    draft.updated_by = actor
    draft.updated_at = services(session).clock.now()
    _store_report(draft, check)
    session.flush()
    return draft


def report_of(session: so.Session, draft: ProcessDraft, check: Checker) -> list[Finding]:
    """The findings of the draft's current revision, as stored when it was saved. A draft saved before
    reports were kept (or whose report is of another revision) is checked now, once, and the report kept."""
    if draft.report is None or draft.report_revision != draft.revision:
        _store_report(draft, check)
        session.flush()
    return [Finding(**_finding_args(entry)) for entry in draft.report or []]


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def _store_report(draft: ProcessDraft, check: Checker) -> None:
    draft.report = [f.as_dict() for f in check(draft.xml.encode("utf-8"), draft.resource_name)]
    draft.report_revision = draft.revision


def _finding_args(entry: dict) -> dict:
    return {"resource": entry["resource"], "code": entry["code"], "severity": entry["severity"],
            "message": entry["message"], "line": entry.get("line"), "element_id": entry.get("elementId"),
            "params": dict(entry.get("params") or {})}


def deploy_draft(session: so.Session, draft_id: str, *, revision: int, actor: str) -> DeployResult:
    """Deploy exactly the revision the designer looked at (its report was the one confirmed)."""
    draft = get_draft(session, draft_id)
    if draft.revision != revision:
        raise Conflict(f"Draft '{draft_id}' changed since revision {revision}; check the new report first",
                       code="draft.stale", user=draft.updated_by, revision=draft.revision)
    result = deploy(session, [(draft.resource_name, draft.xml.encode("utf-8"))], name=draft.resource_name,
                    source="web", actor=actor)
    if result.deployment is not None:
        draft.deployment_id = result.deployment.id
        draft.deployed_revision = draft.revision
    return result


def delete_draft(session: so.Session, draft_id: str, *, actor: str) -> None:
    draft = get_draft(session, draft_id)
    session.delete(draft)
    audit.record(session, "draft.delete", actor=actor, entity_id=draft_id, details={"resource": draft.resource_name})


def _resource_name(name: str) -> str:
    base = Path(name or "").name.strip()
    if not base:
        raise InvalidInput("A draft needs a file name ending in .bpmn", code="draft.no-name")
    return base if base.lower().endswith((".bpmn", ".bpmn20.xml")) else f"{base}.bpmn"


def _text(session: so.Session, xml: str | bytes) -> str:
    """The draft's text, refused early if deploying it could never succeed for its size or encoding."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    limit = services(session).settings.max_bpmn_bytes
    if len(data) > limit:
        raise InvalidInput(f"The file is {len(data)} bytes; a BPMN file may be at most {limit} bytes",
                           code="draft.too-large", size=len(data), limit=limit)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text; save it from the modeler as UTF-8 XML",
                           code="draft.not-utf8") from None
    if "\x00" in text:
        raise InvalidInput("The file contains NUL characters, which no XML document has",
                           code="draft.not-utf8")
    return text
