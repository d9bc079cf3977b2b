"""Catalogue adjustments over HTTP (a onewindow extension): a department's written application to add,
change or cancel an item, the check of a proposed record, and writing an approved one.

The adjustment itself is the process ``catalogue_adjustment``; its service tasks' workers call the check
and the write here (workers see the engine only over REST). Each endpoint is one engine command of
``engine.catalogue_adjustments``.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify, request

from engine import catalogue_adjustments
from engine.errors import InvalidInput
from engine.models import CatalogueItem

from .. import db
from ..auth import allowed, current
from ..errors import error_response
from . import bp, dto
from .common import json_body, param


@bp.post("/catalogue-adjustment")
@allowed("adjust")
def start_catalogue_adjustment():
    """The department's written application opens an adjustment case (the body is the application form)."""
    principal = current()
    session = db()
    with session.begin():
        instance = catalogue_adjustments.start_adjustment(session, json_body(), actor=principal.username,
                                                          actor_groups=principal.groups,
                                                          actor_department=principal.department)
        out = dto.instance(instance)
    response = jsonify(out)
    response.headers["Location"] = f"{request.host_url}engine-rest/process-instance/{out['id']}"
    return response


@bp.post("/catalogue-item/check")
@allowed("catalogue-check")
def check_catalogue_item():
    """Every problem of a proposed record (nothing is saved): ``{kind, itemCode, record | changes, department}``."""
    body = json_body()
    session = db()
    with session.begin():
        proposal = catalogue_adjustments.check_adjustment(session, body.get("kind"), body.get("itemCode"),
                                                          record=body.get("record"), changes=body.get("changes"),
                                                          department=param(body, "department"))
        return jsonify(proposal.as_dict())


@bp.put("/catalogue-item/<code>")
@allowed("catalogue-apply")
def put_catalogue_item(code: str):
    """Write the record an adjustment case approved as the item's next version (idempotent per case)."""
    body = json_body()
    business_key = param(body, "businessKey")
    if not business_key:
        raise InvalidInput("'businessKey' (the adjustment case that approved this record) is required")
    record = body.get("record")
    if record is not None and not isinstance(record, dict):
        raise InvalidInput("'record' must be a JSON object (the item record the office approved)")
    session = db()
    try:
        with session.begin():
            applied = catalogue_adjustments.apply_adjustment(session, business_key, code, record=record,
                                                             effective_from=_day(body.get("effectiveFrom")),
                                                             actor=current().username)
            return jsonify(_applied(applied))
    except catalogue_adjustments.ItemChanged as changed:  # the worker sends the application back: say why
        return error_response(changed.status, changed.message, changed.camunda_type, code=changed.code,
                              **changed.params)


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise InvalidInput(f"'effectiveFrom' must be a date like 2026-01-05, got {value!r}") from None


def _applied(applied: catalogue_adjustments.Applied) -> dict[str, Any]:
    item: CatalogueItem = applied.item
    return {"code": item.code, "version": item.version, "status": item.status,
            "effectiveFrom": item.effective_from.isoformat() if item.effective_from else None,
            "effectiveTo": item.effective_to.isoformat() if item.effective_to else None,
            "takesEffect": applied.effective_from.isoformat(), "repeated": applied.repeated}
