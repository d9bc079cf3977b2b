"""The inbox page: my tasks and my groups' tasks, most urgent first, with claim and unclaim."""
from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import tasks
from engine.errors import EngineError
from engine.inbox import inbox as inbox_query

from .. import db, state
from . import bp
from .session_auth import me, signed_in


def urgency(due: datetime | None, now: datetime, yellow_hours: float = 24.0) -> str:
    """red: overdue; yellow: due within a working day's notice; empty otherwise (the marker's CSS class)."""
    if due is None:
        return ""
    if due < now:
        return "red"
    return "yellow" if (due - now).total_seconds() < yellow_hours * 3600 else ""


@bp.get("/")
@signed_in
def home():
    return redirect(url_for("web.inbox"))


@bp.get("/inbox")
@signed_in
def inbox():
    principal = me()
    search = request.args.get("q", "").strip()
    mine = request.args.get("mine") == "1"
    with db().begin():
        page = inbox_query(db(), principal.username, principal.groups, search=search or None, mine_only=mine,
                           after=request.args.get("after") or None)
        rows = list(page.tasks)
    now = state().services.clock.now()
    return render_template("inbox.html", tasks=rows, next_cursor=page.next_cursor, search=search, mine=mine,
                           urgency=lambda t: urgency(t.due_at, now))


@bp.post("/task/<task_id>/claim")
@signed_in
def claim(task_id: str):
    return _command(lambda: tasks.claim(db(), task_id, me().username, me().groups), _("The task is yours now."))


@bp.post("/task/<task_id>/unclaim")
@signed_in
def unclaim(task_id: str):
    return _command(lambda: tasks.unclaim(db(), task_id, me().username, me().groups),
                    _("The task is back with your group."))


def _command(command, done: str):
    try:
        with db().begin():
            command()
    except EngineError as exc:
        flash(_("That did not work: %(reason)s", reason=exc.message), "error")
    else:
        flash(done, "info")
    return redirect(request.referrer or url_for("web.inbox"))
