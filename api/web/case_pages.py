"""Receiving a case at the window (收件): choose the item, fill its application form, attach the materials;
and the case page with its case number, receipt and files."""
from __future__ import annotations

from typing import Any, Callable

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

import sqlalchemy as sa

from engine import access, audit, cases, catalogue, documents, materials, messages, publication
from engine.errors import EngineError, InvalidInput, NotFound
from engine.forms import FormInvalid
from engine.models import ExternalTask, ProcessInstance

from .. import db, state
from . import bp
from .form_fields import fields_of, parse
from .access import require_case
from .messages import describe
from .session_auth import me, signed_in


def _window_only() -> None:
    if not me().has_any(("window-clerk",)):
        abort(403)


@bp.get("/cases/new")
@signed_in
def choose_item():
    _window_only()
    search = request.args.get("q", "").strip()
    with db().begin():
        found = [i for i in catalogue.items(db()) if i.status == "active"
                 and (not search or search in i.name or search in i.code)]
    return render_template("choose_item.html", items=found, search=search, case_types=catalogue.CASE_TYPES)


@bp.get("/cases")
@signed_in
def find_case():
    """The window opens a case by its number (an applicant brings a supplement or asks about it)."""
    key = request.args.get("key", "").strip()
    try:
        with db().begin():
            found = bool(key) and access.visible_case(db(), me(), key)
    except NotFound:
        found = None  # a case the clerk may not see is one that does not exist
    if not found:
        flash(_("No case has the number %(key)s.", key=key), "error")
        return redirect(url_for("web.choose_item"))
    return redirect(url_for("web.case", key=key))


@bp.route("/cases/new/<code>", methods=["GET", "POST"])
@signed_in
def receive(code: str):
    _window_only()
    with db().begin():
        # what the clerk is shown about the item is its published guide: the record the portal, the mobile
        # app, the terminals and the guide pages show (同源发布, rule 14); active_item refuses a closed item
        shown = publication.guide_of(db(), catalogue.active_item(db(), code))
        schema = _application_schema(shown.form_key)
        required = shown.materials
        item_name, form_title, form_key = shown.name, shown.form_title or "", shown.form_key
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = parse(schema, request.form)
        try:
            state().services.forms.validate(form_key, values)  # before any file is written: nothing left behind
            with db().begin():
                received = [materials.store(db(), m["code"], upload.filename or m["code"], upload.read())
                            for m in required if (upload := request.files.get(f"file:{m['code']}")) and upload.filename]
                instance = cases.start_case(db(), code, values, channel="window", actor=me().username,
                                            actor_groups=me().groups, materials=received)
                key = instance.business_key
        except FormInvalid as invalid:
            errors, status = invalid.fields, 400
            flash(_("Please correct the fields marked below; attach the files again."), "error")
        except EngineError as refused:
            flash(_("The application was not received: %(reason)s", reason=describe(refused)), "error")
            status = refused.status
        else:
            flash(_("Received as case %(key)s.", key=key), "info")
            return redirect(url_for("web.case", key=key))
    return render_template("receive.html", code=code, item_name=item_name, form_title=form_title,
                           fields=fields_of(schema, values, errors), materials=required), status


def _application_schema(form_key: str) -> dict[str, Any]:
    """The item's application form without its file field: files come as uploads, one per material."""
    schema = dict(state().services.forms.get(form_key).schema)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k != "materials"}
    return schema


@bp.get("/cases/<key>")
@signed_in
def case(key: str):
    instance = require_case(key)
    with db().begin():
        data = materials.case_variables(db(), instance.id)
        supplement_due = messages.waits_for(db(), key, SUPPLEMENT)
        # a service task of the case waits for a worker (not a failed one): a document may be on its way, so
        # the page reloads itself
        waiting = db().scalar(sa.select(ExternalTask.id).where(
            ExternalTask.instance_id == instance.id,
            sa.or_(ExternalTask.retries.is_(None), ExternalTask.retries > 0)).limit(1)) is not None
    required = {m["code"]: m["name"] for m in data.get("requiredMaterials") or []}
    files = [{**m, "name": required.get(m["code"], m["code"])} for m in data.get("submittedMaterials") or []
             if m.get("sha256")]
    made = documents.documents_of(data)
    return render_template("case.html", key=key, data=data, files=files, documents=made, waiting=waiting,
                           supplement_due=supplement_due and me().has_any(("window-clerk",)))


SUPPLEMENT = "supplement-received"


@bp.route("/cases/<key>/supplement", methods=["GET", "POST"])
@signed_in
def supplement(key: str):
    """The applicant brings the supplement (补正) to the window: the files the notice asked for are
    received and the case goes back to review; what was received before and not replaced is kept."""
    _window_only()
    instance = require_case(key)
    with db().begin():
        if not messages.waits_for(db(), key, SUPPLEMENT):
            abort(404)
        data = materials.case_variables(db(), instance.id)
    required = data.get("requiredMaterials") or []
    status = 200
    if request.method == "POST":
        try:
            with db().begin():
                brought = {m["code"]: materials.store(db(), m["code"], upload.filename, upload.read()) for m in required
                           if (upload := request.files.get(f"file:{m['code']}")) and upload.filename}
                if not brought:
                    raise InvalidInput("No file was attached: attach what the applicant brings",
                                       code="supplement.nothing-attached")
                kept = {m["code"]: m for m in data.get("submittedMaterials") or []} | brought
                messages.correlate(db(), SUPPLEMENT, business_key=key, actor=me().username, actor_groups=me().groups,
                                   variables={"submittedMaterials": list(kept.values())})
                materials.attach(db(), instance.id, list(brought.values()))
        except EngineError as refused:
            flash(_("The supplement was not received: %(reason)s", reason=describe(refused)), "error")
            status = refused.status
        else:
            flash(_("The supplement was received; the case goes back to the approval section for review."), "info")
            return redirect(url_for("web.case", key=key))
    asked = data.get("missingItems") or data.get("missingMaterials") or []
    return render_template("supplement.html", key=key, data=data, asked=asked, materials=required), status


@bp.get("/cases/<key>/materials/<sha256>")
@signed_in
def material(key: str, sha256: str):
    path, entry = _opened(key, "material", lambda instance: materials.open_for(db(), instance, sha256))
    kind, name = materials.served_as(entry)
    return _no_sniffing(send_file(path, mimetype=kind, download_name=name, as_attachment=True))


@bp.get("/cases/<key>/documents/<name>")
@signed_in
def document(key: str, name: str):
    """A signed receipt, notice, letter or certificate the workers made for the case (printable PDF)."""
    path = _opened(key, "document", lambda instance: documents.open_document(db(), instance, name))
    return _no_sniffing(send_file(path, mimetype="application/pdf", download_name=name))


def _no_sniffing(response: Any) -> Any:
    """A file is what its content type says: no browser may guess it is a page (the whole app sends this
    header too; a file response must never depend on that)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _opened(key: str, what: str, open_file: Callable[[ProcessInstance], Any]) -> Any:
    """Open a file of the case the signed-in user may see — that very instance's, never looked up again — with
    the download (or the refusal) in the audit log; a file the case does not have is a plain 404."""
    instance = require_case(key)
    try:
        with db().begin():
            opened = open_file(instance)
            audit.record(db(), f"download-{what}", actor=me().username, instance_id=instance.id,
                         entity_id=key, details={"path": request.path})
        return opened
    except NotFound:
        abort(404)
