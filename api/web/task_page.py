"""The task page: the case at a glance, the task's form from forms/, save and complete."""
from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import access, catalogue, documents, runtime, tasks
from engine.authorizations import AuthorizationRefused, record_refusal
from engine.errors import Conflict, EngineError, NotFound
from engine.forms import FormInvalid

from .. import db, state
from ..catalogue_messages import describe_problem, field_label
from . import bp
from .access import refuse_task
from .form_fields import fields_of, parse
from .history import action_labels, history as case_history, step_names
from .inbox import markers
from .messages import describe
from .session_auth import me, signed_in


@bp.route("/task/<task_id>", methods=["GET", "POST"])
@signed_in
def task(task_id: str):
    forms = state().services.forms
    try:
        with db().begin():
            row = access.visible_task(db(), me(), task_id)
            workflow = runtime.load(db(), row.instance_id).workflow  # once: the form's data and the step names
            task_in_workflow = workflow.get_task_from_id(UUID(task_id))
            data = dict(task_in_workflow.data) if task_in_workflow is not None else {}
            form = forms.get(row.form_key) if row.form_key and forms.has(row.form_key) else None
            case = _case_view(data)
            history = case_history(row.instance_id, step_names(workflow), action_labels())
            values: dict[str, Any] = tasks.draft_of(db(), task_id)
            marker = markers(db())(row.due_at)
    except NotFound:
        refuse_task(task_id)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and form is not None and request.form.get("action") == "draft":
        values = parse(form.schema, request.form)
        try:
            with db().begin():
                tasks.save_draft(db(), task_id, values, user=me().username, groups=me().groups)
        except EngineError as refused:
            flash(_("The draft was not saved: %(reason)s", reason=describe(refused)), "error")
            status = refused.status
        else:
            flash(_("Draft saved. Nothing was submitted yet."), "info")
    elif request.method == "POST" and form is not None:
        values = parse(form.schema, request.form)
        try:
            with db().begin():
                tasks.complete(db(), task_id, values, user=me().username, groups=me().groups)
        except FormInvalid as invalid:
            errors, status = invalid.fields, 400
            flash(_("Please correct the fields marked below."), "error")
        except (Conflict, NotFound):
            flash(_("This task is no longer waiting: someone completed it or the case moved on."), "info")
            return redirect(url_for("web.inbox"))
        except EngineError as refused:
            if isinstance(refused, AuthorizationRefused):
                with db().begin():
                    record_refusal(db(), refused)
            flash(_("The task could not be completed: %(reason)s", reason=describe(refused)), "error")
            status = refused.status
        else:
            flash(_("Task completed: %(name)s", name=row.name), "info")
            return redirect(url_for("web.inbox"))
    return render_template("task.html", task=row, form=form, case=case, marker=marker, history=history,
                           fields=fields_of(form.schema, values, errors) if form else []), status


def _case_view(data: dict[str, Any]) -> dict[str, Any]:
    """What the page shows read-only: the application with its form's titles, and the materials."""
    application = data.get("application") or {}
    titles: dict[str, str] = {}
    item = catalogue.current_version(db(), data["itemCode"]) if data.get("itemCode") else None
    forms = state().services.forms
    if item is not None and forms.has(item.form_key):
        titles = {k: v.get("title", k) for k, v in forms.get(item.form_key).schema.get("properties", {}).items()}
    shown = [(titles.get(k, k), v) for k, v in application.items() if k not in ("applicantType", "materials")]
    required = {m["code"]: m["name"] for m in data.get("requiredMaterials") or []}
    submitted = [{"name": required.get(m.get("code"), m.get("code")), "sha256": m.get("sha256")}
                 for m in data.get("submittedMaterials") or []]
    shared = [m.get("name") for m in data.get("sharedMaterials") or []]
    return {"application": shown, "submitted": submitted, "shared": shared, "documents": documents.documents_of(data),
            "missing": data.get("missingMaterials") or [], "item": data.get("itemName"),
            "department": data.get("department"), "problems": _problems(data)}


def _problems(data: dict[str, Any]) -> list[dict[str, str]]:
    """What the catalogue's checks found in a proposed item record (事项动态调整), for the department that
    corrects it: each field as the catalogue names it and the reason in the reader's language."""
    if data.get("checkPassed") is not False:
        return []
    return [{"field": field_label(str(p.get("field", ""))), "text": describe_problem(p)}
            for p in data.get("checkProblems") or [] if isinstance(p, dict)]
