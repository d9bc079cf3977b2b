"""The administrators' pages: the item catalogue (every item, every version kept and what changed in each) and the
departments of the center. Items change through the adjustment process or an import, never by editing a row
here: the page shows the record and its history, the way the catalogue is kept in writing."""
from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import catalogue, identity
from engine.models import CatalogueItem

from .. import db
from ..catalogue_messages import field_labels
from . import bp
from .messages import run_and_say
from .session_auth import me, signed_in


def admin_only() -> None:
    if not me().has_any(("admin",)):
        abort(403)


@bp.get("/admin/items")
@signed_in
def admin_items():
    admin_only()
    department = request.args.get("department") or None
    with db().begin():
        found = catalogue.items(db(), department)
        departments = identity.departments(db())
    return render_template("admin_items.html", items=found, departments=departments, department=department,
                           case_types=catalogue.CASE_TYPES)


@bp.get("/admin/items/<code>")
@signed_in
def admin_item(code: str):
    admin_only()
    with db().begin():
        history = catalogue.versions(db(), code)
        if not history:
            abort(404)
        rows = _history(history)
    labels = field_labels()
    current = rows[-1]
    return render_template("admin_item.html", item=current["item"], record=current["record"], history=rows[::-1],
                           labels=labels, case_types=catalogue.CASE_TYPES)


def _history(versions: list[CatalogueItem]) -> list[dict[str, Any]]:
    """Each version with its record and the fields that changed from the one before."""
    rows: list[dict[str, Any]] = []
    before: dict[str, Any] = {}
    for item in versions:
        flat = _flat(catalogue.record(item))
        changed = sorted(k for k in {*flat, *before} if flat.get(k) != before.get(k)) if rows else []
        rows.append({"item": item, "record": flat, "changed": changed})
        before = flat
    return rows


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    details = record.pop("details", {})
    return {**{k: v for k, v in record.items() if v not in (None, "")}, **details}


@bp.get("/admin/departments")
@signed_in
def admin_departments():
    admin_only()
    with db().begin():
        found = identity.departments(db())
        counts = {d.code: len(catalogue.items(db(), d.code)) for d in found}
    return render_template("admin_departments.html", departments=found, counts=counts)


@bp.post("/admin/departments")
@signed_in
def admin_save_department():
    """Add a department or rename one; its code stays (cases, items and letters refer to it)."""
    admin_only()
    code, name = (request.form.get("code") or "").strip(), (request.form.get("name") or "").strip()
    run_and_say(lambda: identity.save_department(db(), code, name, actor=me().username),
                _("Department %(code)s saved.", code=code))
    return redirect(url_for("web.admin_departments"))
