"""Versions of a process for designers: who deployed each and when, a side-by-side diff of two versions,
and moving running cases to a newer version — a dry run first, then exactly the cases it showed."""
from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import instance_migration, versions
from engine.definition_diff import diff_definitions
from engine.errors import InvalidInput

from .. import db
from . import bp
from .design import designer_only
from .session_auth import me, signed_in


@bp.get("/design/processes/<key>")
@signed_in
def design_versions(key: str):
    designer_only()
    with db().begin():
        found = versions.list_versions(db(), key)
    return render_template("design_versions.html", key=key, versions=found)


@bp.get("/design/processes/<key>/diff")
@signed_in
def design_diff(key: str):
    """Old version on the left, new on the right; what was removed, added or changed is marked on each."""
    designer_only()
    with db().begin():
        old, new = _pair(key, request.args.get("old"), request.args.get("new"))
        diff = diff_definitions(old, new)
        left, right = {"version": old.version, "xml": old.xml}, {"version": new.version, "xml": new.xml}
    marks_old = {e.id: "removed" for e in diff.removed} | {c.id: "changed" for c in diff.changed}
    marks_new = {e.id: "added" for e in diff.added} | {c.id: "changed" for c in diff.changed}
    diagrams = [{"xml": left["xml"], "elements": {i: {"marker": m} for i, m in marks_old.items()}},
                {"xml": right["xml"], "elements": {i: {"marker": m} for i, m in marks_new.items()}}]
    return render_template("design_diff.html", key=key, old=left, new=right, diff=diff, diagrams_data=diagrams)


@bp.route("/design/processes/<key>/migrate", methods=["GET", "POST"])
@signed_in
def design_migrate(key: str):
    """GET: the dry run (nothing written). POST: move the cases the dry run listed as movable, all or none."""
    designer_only()
    with db().begin():
        source, target = _pair(key, request.values.get("from"), request.values.get("to"))
        source_id, target_id = source.id, target.id
        if request.method == "GET":
            plan = instance_migration.plan_migration(db(), source_id, target_id)
            return render_template("design_migrate.html", key=key, plan=plan, source=source.version,
                                   target=target.version, blockers=_blocker_texts(plan))
    ids = request.form.getlist("instance")
    if not ids:
        raise InvalidInput("No case was chosen to move", code="migration.nothing-chosen")
    with db().begin():
        result = instance_migration.migrate_instances(db(), source_id, target_id, actor=me().username,
                                                      instance_ids=ids)
        moved = len(result.migrated)
    flash(_("%(n)s case(s) moved to version %(version)s.", n=moved, version=target.version), "info")
    return redirect(url_for("web.design_versions", key=key))


def _pair(key: str, first: str | None, second: str | None) -> tuple[Any, Any]:
    """Two versions of ``key`` by number; by default the one before the latest, and the latest."""
    known = versions.list_versions(db(), key)
    latest = known[0].version
    older = known[1].version if len(known) > 1 else latest
    return (versions.get_version(db(), key, _number(first, older)),
            versions.get_version(db(), key, _number(second, latest)))


def _number(raw: str | None, default: int) -> int:
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"'{raw}' is not a version number", code="version.bad-number", value=raw) from None


def _blocker_texts(plan: instance_migration.MigrationPlan) -> dict[str, list[str]]:
    """Why each blocked case cannot move, in the designer's language."""
    templates = {
        "element-removed": lambda e: _("It waits at %(element)s, which the new version does not have.", element=e),
        "history-removed": lambda e: _(
            "It already passed %(element)s, which the new version does not have.", element=e),
        "type-changed": lambda e: _(
            "It waits at %(element)s, which is another kind of element in the new version.", element=e),
        "boundary-events-changed": lambda e: _(
            "The events attached to %(element)s differ in the new version.", element=e),
        "called-process-changed": lambda e: _("%(element)s calls another process in the new version.", element=e),
        "called-process-missing": lambda e: _("The new version calls %(element)s, which is not deployed.", element=e),
        "subprocess-removed": lambda e: _("The new version lacks a subprocess the case is in."),
        "no-instruction": lambda e: _("The migration has no instruction for %(element)s.", element=e),
        "waits-changed": lambda e: _("On the new version the case would wait for other things than now."),
        "state-not-rebuilt": lambda e: _("The case's state could not be rebuilt on the new version."),
        "not-of-source": lambda e: _("The case does not run on this version."),
    }
    return {i.instance_id: [templates[b.code](b.element_id or "") if b.code in templates else b.message
                            for b in i.blockers] for i in plan.blocked}
