"""The inbox page: my tasks and my groups' tasks, most urgent first, with claim and unclaim."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

import sqlalchemy.orm as so

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import caseclock, tasks
from engine.inbox import inbox as inbox_query
from engine.workdays import current_calendar

from .. import db, state
from . import bp
from .access import require_task
from .messages import run_and_say
from .session_auth import me, signed_in


def markers(session: so.Session) -> Callable[[datetime | None], str]:
    """The marker of a due time: 'red' overdue, 'yellow' with less than the warning working days left
    (``ONEWINDOW_WARNING_WORKING_DAYS``, on the working-day calendar), '' otherwise."""
    svc = state().services
    calendar = current_calendar(session)
    now = svc.clock.now()

    def marker(due: datetime | None) -> str:
        found = caseclock.warning_state(calendar, due, now, svc.settings.warning_working_days)
        return "" if found == caseclock.NORMAL else found
    return marker


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
        marker = markers(db())
    return render_template("inbox.html", tasks=rows, next_cursor=page.next_cursor, search=search, mine=mine,
                           urgency=lambda t: marker(t.due_at))


@bp.post("/task/<task_id>/claim")
@signed_in
def claim(task_id: str):
    return _command(task_id, lambda: tasks.claim(db(), task_id, me().username, me().groups),
                    _("The task is yours now."))


@bp.post("/task/<task_id>/unclaim")
@signed_in
def unclaim(task_id: str):
    return _command(task_id, lambda: tasks.unclaim(db(), task_id, me().username, me().groups),
                    _("The task is back with your group."))


def _command(task_id: str, command, done: str):
    """A task command from the inbox, on a task the clerk sees (else the 404 of ``task_page``)."""
    require_task(task_id)
    run_and_say(command, done)
    return redirect(request.referrer or url_for("web.inbox"))
