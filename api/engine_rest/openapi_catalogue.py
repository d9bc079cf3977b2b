"""OpenAPI operations and schemas of the catalogue adjustment endpoints (``catalogue_adjustments``):
a department's written application, the check of a proposed record and writing an approved one.
Merged into the document method by method (``/catalogue-item/{code}`` also has its GET elsewhere)."""
from __future__ import annotations

from typing import Any

from .openapi import _body, _obj, _ok, _op, _path_param, _ref, _s

TAGS = [{"name": "Catalogue Adjustment",
         "description": "事项动态调整: adding, changing or cancelling an item through a written application the "
                        "区政务办 reviews (process catalogue_adjustment)."}]

_PROBLEM = _obj({"field": _s("string", "The field, e.g. promised_limit_days or details.legal_basis."),
                 "code": _s("string", "A stable code, e.g. item.promised-over-legal, adjustment.item-exists."),
                 "message": _s("string", "The problem in English."),
                 "params": _s("object", "Values for a translation.")}, "One problem with the proposed record.")

SCHEMAS: dict[str, dict[str, Any]] = {
    "CatalogueAdjustmentDto": _obj({
        "kind": _s("string", "add, change or cancel."), "itemCode": _s("string", "The implementation code."),
        "record": _s("object", "add: the new item's whole record (catalogue fields, details inside)."),
        "changes": _s("object", "change: only the fields that change, e.g. {\"promised_limit_days\": 3}."),
        "reason": _s("string", "Why."), "legalBasis": _s("string", "The legal basis of the adjustment."),
        "documentNumber": _s("string", "The written application's document number."),
        "proposedEffectiveFrom": _s("string", "A date the department suggests (the office decides).", nullable=True),
        "attachments": {"type": "array", "description": "Files (optional).", "items": {"type": "object"}},
    }, "The written application: form catalogue_adjustment_application.",
        ["kind", "itemCode", "reason", "legalBasis", "documentNumber"]),
    "CatalogueCheckDto": _obj({
        "kind": _s("string", "add, change or cancel."), "itemCode": _s("string", "The implementation code."),
        "record": _s("object", "add: the new item's record."), "changes": _s("object", "change: the changes."),
        "department": _s("string", "The applying department: the item must be its own.", nullable=True),
    }, "A proposed adjustment to check.", ["kind", "itemCode"]),
    "CatalogueCheckResultDto": _obj({
        "valid": _s("boolean", "No problems: the record can be saved."), "kind": _s("string", "As asked."),
        "itemCode": _s("string", "As asked."),
        "record": _s("object", "The whole proposed record in canonical form (what would be saved)."),
        "baseVersion": _s("integer", "The version a change or cancel is built on (null for a new item).",
                          nullable=True),
        "problems": {"type": "array", "description": "Every problem at once.", "items": _PROBLEM},
        "warnings": {"type": "array", "description": "Warnings: they do not stop a save.", "items": _PROBLEM},
    }, "The catalogue's checks on a proposed record; nothing was saved."),
    "CatalogueItemPutDto": _obj({
        "record": _s("object", "The record the adjustment case approved (checked against the case)."),
        "businessKey": _s("string", "The adjustment case's number."),
        "effectiveFrom": _s("string", "The date the office set (checked against the case).", nullable=True),
    }, "Write an approved adjustment.", ["businessKey"]),
    "CatalogueItemPutResultDto": _obj({
        "code": _s("string", "The item."), "version": _s("integer", "The version written (or written before)."),
        "status": _s("string", "active or cancelled."),
        "effectiveFrom": _s("string", "First day of new applications.", nullable=True),
        "effectiveTo": _s("string", "Last day of new applications.", nullable=True),
        "takesEffect": _s("string", "The day the adjustment took effect."),
        "repeated": _s("boolean", "An earlier delivery of the same task had written this version."),
    }, "The item version an adjustment case wrote."),
}

OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "/catalogue-adjustment": {"post": _op(
        "startCatalogueAdjustment", "Catalogue Adjustment", "Apply for an adjustment",
        "The department's written application to add, change or cancel one of its items (rule 14) opens an "
        "adjustment case: checked by the catalogue's rules, reviewed by the 区政务办, written on the effective "
        "date it sets. A section head applies for their own department's items; an administrator for any.",
        permission="adjust", body=_body("CatalogueAdjustmentDto", "The application form."),
        responses={"200": _ok("The adjustment case.", _ref("ProcessInstanceDto"))},
        errors={"400": "A form error (fieldErrors per field).",
                "403": "Not a section head, or the item belongs to another department."})},
    "/catalogue-item/check": {"post": _op(
        "checkCatalogueItem", "Catalogue Adjustment", "Check a proposed item record",
        "The record an adjustment proposes (a new item, the current version with the changes, or cancelled) "
        "and every problem the catalogue's checks find; nothing is saved.", permission="catalogue-check",
        body=_body("CatalogueCheckDto", "The proposal."),
        responses={"200": _ok("The proposed record and its problems.", _ref("CatalogueCheckResultDto"))})},
    "/catalogue-item/{code}": {"put": _op(
        "putCatalogueItem", "Catalogue Adjustment", "Write an approved adjustment",
        "The record the 区政务办 approved in an adjustment case becomes the item's next version, with the "
        "effective date it set; once per case (a redelivered task gets the same version back). Only for a case "
        "waiting at its apply step.", permission="catalogue-apply",
        parameters=[_path_param("code", "The implementation code.")],
        body=_body("CatalogueItemPutDto", "The case and what it approved."),
        responses={"200": _ok("The version written.", _ref("CatalogueItemPutResultDto"))},
        errors={"400": "The case did not approve this (record, date or item differ, or it is not at its apply "
                       "step), or the record no longer passes the checks.",
                "404": "No such adjustment case.",
                "409": "The item changed since the record was checked (code adjustment.item-changed): the "
                       "department applies again on the current version."})},
}
