"""Cases over HTTP (a onewindow extension): receive an application for a catalogue item, and read
the catalogue items and forms a window page or the portal needs to build its application form."""
from __future__ import annotations

from flask import jsonify, request

from engine import cases, catalogue
from engine.errors import InvalidInput, NotFound
from engine.models import CatalogueItem

from .. import db, state
from ..auth import allowed, current
from . import bp, dto
from .common import json_body, param


@bp.post("/case")
@allowed("receive")
def receive_case():
    body = json_body()
    application = body.get("application")
    if not isinstance(application, dict):
        raise InvalidInput("'application' must be a JSON object with the item's application form")
    materials = body.get("materials")  # or inside the application form, as its file field "materials"
    if materials is not None and not isinstance(materials, list):
        raise InvalidInput("'materials' must be a list of {code, fileName, contentType, size, sha256}")
    principal = current()
    session = db()
    with session.begin():
        instance = cases.start_case(session, param(body, "itemCode") or "", application,
                                    channel=param(body, "channel") or "window", actor=principal.username,
                                    actor_groups=principal.groups, materials=materials)
        return jsonify(dto.instance(instance))


def _item(item: CatalogueItem) -> dict:
    return {"code": item.code, "version": item.version, "name": item.name, "department": item.department,
            "itemType": item.item_type, "caseType": item.case_type,
            "caseTypeName": catalogue.CASE_TYPES.get(item.case_type), "legalLimitDays": item.legal_limit_days,
            "promisedLimitDays": item.promised_limit_days, "acceptedOnReceipt": item.accepted_on_receipt,
            "writtenReviewOnly": item.written_review_only, "siteSurvey": item.site_survey,
            "handling": item.handling, "processKey": item.process_key, "formKey": item.form_key,
            "status": item.status, "basicCode": item.basic_code,
            "effectiveFrom": item.effective_from.isoformat() if item.effective_from else None,
            "effectiveTo": item.effective_to.isoformat() if item.effective_to else None, "details": item.details}


@bp.get("/catalogue-item")
@allowed("catalogue")
def list_catalogue_items():
    session = db()
    with session.begin():
        return jsonify([_item(i) for i in catalogue.items(session, param(request.args, "department"))])


@bp.get("/catalogue-item/<code>")
@allowed("catalogue")
def get_catalogue_item(code: str):
    session = db()
    with session.begin():
        item = catalogue.current_version(session, code)
        if item is None:
            raise NotFound(f"No catalogue item with code '{code}'")
        return jsonify(_item(item))


@bp.get("/form/<key>")
@allowed("catalogue")
def get_form(key: str):
    """The JSON Schema (with x-layout hints) a page renders; the server validates against the same file."""
    return jsonify(state().services.forms.get(key).schema)
