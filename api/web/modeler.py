"""The web modeler: bpmn-js's Modeler (served from npm's files, no CDN) with a properties panel for what this
engine reads (topic, form key, candidate groups, due date, timer, condition). Saving stores a new revision of
the draft and answers with its validation and lint findings, so the designer sees them on the diagram."""
from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request, url_for
from flask_babel import gettext as _

from engine import drafts, identity
from engine.errors import EngineError, InvalidInput

from .. import db, state
from ..request_input import parse_json
from ..design_checks import checker, page_findings, summary
from . import bp
from .design import designer_only
from .messages import describe
from .session_auth import me, signed_in

#: roles a user task may be offered to; the process's ``department`` variable scopes them
_TASK_ROLES = tuple(r for r in identity.ROLES if r not in ("admin", "worker", "portal", "designer"))


@bp.get("/design/drafts/<draft_id>/modeler")
@signed_in
def design_modeler(draft_id: str):
    designer_only()
    with db().begin():
        draft = drafts.get_draft(db(), draft_id)
        findings = page_findings(drafts.report_of(db(), draft, checker(db())))
        data = {"xml": draft.xml, "revision": draft.revision, "resource": draft.resource_name,
                "saveUrl": url_for("web.design_save", draft_id=draft.id), "findings": findings,
                "counts": summary(findings), "forms": _forms(), "topics": _topics(), "groups": _groups(),
                "moddleUrl": url_for("web.static", filename="vendor/camunda-bpmn-moddle/camunda.json"),
                "texts": _texts()}
    return render_template("modeler.html", draft_id=draft_id, resource=data["resource"], data=data)


@bp.post("/design/drafts/<draft_id>/save")
@signed_in
def design_save(draft_id: str):
    """JSON in ({xml, revision}), JSON out: the new revision and its findings, or why nothing was saved."""
    designer_only()
    try:
        body = parse_json(request.get_data(cache=True) or b"{}")
        xml, revision = (body.get("xml"), body.get("revision")) if isinstance(body, dict) else (None, None)
        if not isinstance(xml, str) or isinstance(revision, bool) or not isinstance(revision, int):
            raise InvalidInput("Send the diagram as {xml, revision}", code="draft.bad-save")
        with db().begin():
            check = checker(db())
            draft = drafts.save_draft(db(), draft_id, xml, revision=revision, actor=me().username, check=check)
            new_revision, found = draft.revision, drafts.report_of(db(), draft, check)
    except EngineError as refused:
        return jsonify({"saved": False, "message": describe(refused)}), refused.status
    findings = page_findings(found)
    return jsonify({"saved": True, "revision": new_revision, "findings": findings, "counts": summary(findings)})


def _forms() -> list[dict[str, str]]:
    """Every form in forms/ by key, with the title its schema gives (what a clerk will see)."""
    import json

    found = []
    for path in sorted(state().services.settings.forms_dir.glob("*.json")):
        try:
            title = json.loads(path.read_text(encoding="utf-8")).get("title") or path.stem
        except (ValueError, AttributeError):
            continue
        found.append({"key": path.stem, "title": str(title)})
    return found


def _topics() -> list[str]:
    from workers.handlers import TOPICS

    return list(TOPICS)


def _groups() -> list[str]:
    return ([f"${{department}}:{role}" for role in _TASK_ROLES]
            + [f"{identity.CENTER}:{role}" for role in ("window-clerk", "supervisor")])


def _texts() -> dict[str, Any]:
    """The panel's labels, translated here so the catalogue holds them with every other page text."""
    return {
        "nothingSelected": _("Select an element to see its properties."),
        "id": _("ID"), "name": _("Name"), "formKey": _("Form"), "noForm": _("(no form)"),
        "candidateGroups": _("Candidate groups"), "dueDate": _("Due date"),
        "dueDateHint": _("An expression such as ${endOfWorkingDay(addWorkingDays(acceptedAt, 5))}"),
        "topic": _("Worker topic"), "noTopic": _("(choose a worker)"), "timer": _("Timer"),
        "timeDuration": _("Duration"), "timeDate": _("Date"), "timeCycle": _("Cycle"),
        "timerHint": _("ISO 8601, e.g. P5D; or an expression"), "condition": _("Condition"),
        "conditionHint": _("An expression such as ${acceptance == 'accept'}"),
        "saved": _("Saved as revision %(revision)s."), "saving": _("Saving…"),
        "unsaved": _("Unsaved changes"), "clean": _("No findings: the draft can be deployed."),
        "errors": _("Errors"), "warnings": _("Warnings"), "saveFailed": _("Not saved: %(reason)s"),
        "line": _("line"),
    }
