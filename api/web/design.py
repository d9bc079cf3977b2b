"""The process designers' pages: drafts (uploaded or drawn in the web modeler), their validation and lint
report, and deploying a draft once its report is confirmed. Nothing here reaches clerks until deployed."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import drafts
from engine.errors import InvalidInput

from .. import db
from ..design_checks import checker, page_findings, summary
from . import bp
from .session_auth import me, signed_in


def designer_only() -> None:
    if not me().has_any(("designer",)):
        abort(403)


@bp.get("/design")
@signed_in
def design_home():
    from engine import versions

    designer_only()
    with db().begin():
        keys = versions.list_keys(db())
        found = drafts.list_drafts(db())
    return render_template("design.html", keys=keys, drafts=found)


@bp.post("/design/drafts")
@signed_in
def design_new_draft():
    """One form, three ways in: upload a file, start from a deployed version, or start blank."""
    designer_only()
    upload = request.files.get("file")
    definition_id = request.form.get("definition")
    with db().begin():
        check = checker(db())
        if upload is not None and upload.filename:
            draft = drafts.create_draft(db(), upload.read(), upload.filename, actor=me().username, check=check)
        elif definition_id:
            draft = drafts.draft_from_definition(db(), definition_id, actor=me().username, check=check)
        elif request.form.get("blank"):
            draft = drafts.blank_draft(db(), actor=me().username, check=check)
        else:
            raise InvalidInput("Choose a BPMN file to upload", code="draft.no-file")
        draft_id = draft.id
    target = "web.design_modeler" if request.form.get("open") == "modeler" else "web.design_draft"
    return redirect(url_for(target, draft_id=draft_id))


@bp.get("/design/drafts/<draft_id>")
@signed_in
def design_draft(draft_id: str):
    designer_only()
    with db().begin():  # the report stored with this revision when it was saved: nothing is checked again here
        draft = drafts.get_draft(db(), draft_id)
        findings = page_findings(drafts.report_of(db(), draft, checker(db())))
        page = _draft_view(draft)
    return render_template("design_draft.html", draft=page, findings=findings, counts=summary(findings))


@bp.post("/design/drafts/<draft_id>/deploy")
@signed_in
def design_deploy(draft_id: str):
    """Deploy the revision whose report the designer saw; a draft with errors cannot be deployed."""
    designer_only()
    revision = _revision()
    with db().begin():
        draft = drafts.get_draft(db(), draft_id)
        if draft.revision == revision and drafts.has_errors(drafts.report_of(db(), draft, checker(db()))):
            flash(_("The draft has errors; correct them before deploying."), "error")
            return redirect(url_for("web.design_draft", draft_id=draft_id))
        result = drafts.deploy_draft(db(), draft_id, revision=revision, actor=me().username)
        deployed = [(d.key, d.version) for d in result.new_definitions]
        unchanged = [(d.key, d.version) for d in result.unchanged_definitions]
    for key, version in deployed:
        flash(_("Deployed %(key)s as version %(version)s.", key=key, version=version), "info")
    for key, version in unchanged:
        flash(_("%(key)s is unchanged; version %(version)s stays current.", key=key, version=version), "info")
    first = (deployed or unchanged)[0][0]
    return redirect(url_for("web.design_versions", key=first))


@bp.post("/design/drafts/<draft_id>/delete")
@signed_in
def design_delete_draft(draft_id: str):
    designer_only()
    with db().begin():
        drafts.delete_draft(db(), draft_id, actor=me().username)
    flash(_("The draft was deleted."), "info")
    return redirect(url_for("web.design_home"))


def _revision() -> int:
    try:
        return int(request.form.get("revision", ""))
    except ValueError:
        raise InvalidInput("The form did not say which revision of the draft it confirms",
                           code="draft.no-revision") from None


def _draft_view(draft: Any) -> dict[str, Any]:
    """What the pages show of a draft, read inside the transaction."""
    return {"id": draft.id, "resource_name": draft.resource_name, "revision": draft.revision,
            "updated_by": draft.updated_by, "updated_at": draft.updated_at, "based_on": draft.based_on,
            "deployed_revision": draft.deployed_revision, "xml": draft.xml}
