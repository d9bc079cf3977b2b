"""The department's written application to add, change or cancel a catalogue item (事项动态调整), on a page.

The page is the application form (forms/catalogue_adjustment_application.json) like every other form: the
item's record or its changes are JSON text beside the current record, the server checks the form and the
engine opens the adjustment case (``engine.catalogue_adjustments``); the catalogue's own checks, the center
office's review and the new version follow in the process. Section heads apply for their department's items,
administrators for any department's."""
from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import catalogue, catalogue_adjustments
from engine.errors import EngineError
from engine.forms import FormInvalid

from .. import db, state
from . import bp
from .form_fields import fields_of, parse
from .messages import describe
from .session_auth import me, signed_in

#: attachments are uploaded with the written application's scan in a later step; not on this page
_LEFT_OUT = ("attachments",)


@bp.route("/adjustments/new", methods=["GET", "POST"])
@signed_in
def apply_for_adjustment():
    if not me().has_any(catalogue_adjustments.APPLICANT_ROLES):
        abort(403)
    schema = _schema()
    values: dict[str, Any] = {"kind": request.args.get("kind", "change"), "itemCode": request.args.get("item", "")}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = parse(schema, request.form)
        try:
            with db().begin():
                instance = catalogue_adjustments.start_adjustment(
                    db(), values, actor=me().username, actor_groups=me().groups, actor_department=me().department)
                key = instance.business_key
        except FormInvalid as invalid:
            errors, status = invalid.fields, 400
            flash(_("Please correct the fields marked below."), "error")
        except EngineError as refused:
            flash(_("The application was not sent: %(reason)s", reason=describe(refused)), "error")
            status = refused.status
        else:
            flash(_("The application is with the center office as case %(key)s.", key=key), "info")
            return redirect(url_for("web.inbox"))
    with db().begin():
        current = catalogue.current_version(db(), str(values.get("itemCode") or ""))
        record = catalogue.record(current) if current is not None else None
    if request.method == "GET" and record is not None and values["kind"] == "add":
        values["record"] = {**record, "code": ""}  # a new item starts as a copy of the one named
    shown = json.dumps(record, ensure_ascii=False, indent=2, default=str) if record is not None else None
    return render_template("adjustment.html", fields=fields_of(schema, values, errors), current=current,
                           record=shown, form_title=schema.get("title", "")), status


def _schema() -> dict[str, Any]:
    schema = dict(state().services.forms.get(catalogue_adjustments.APPLICATION_FORM).schema)
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k not in _LEFT_OUT}
    return schema
