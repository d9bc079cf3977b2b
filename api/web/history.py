"""A case's history from the audit log, as clerks and supervisors read it: local time, the person's
name, the action in the page's language, the step and what was said (opinion, reason)."""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import gettext as _

from engine import audit
from engine.models import AuditEntry, User

from .. import db, state


def action_labels() -> dict[str, str]:
    """The audit actions people read in a case's history, in the page's language."""
    return {"start": _("Case received"), "complete-task": _("Completed"), "claim": _("Claimed"),
            "unclaim": _("Returned to the group"), "save-draft": _("Saved a draft"),
            "complete-external-task": _("Service task done"), "message": _("Message received"),
            "clock-accepted": _("Case accepted"), "clock-supplement-requested": _("Supplement requested"),
            "clock-supplement-complete": _("Accepted after the supplement"), "clock-suspended": _("Clock suspended"),
            "clock-resumed": _("Clock resumed"), "clock-extended": _("Time limit extended"),
            "clock-closed": _("Decided"), "authorization-refused": _("Refused: no valid authorization")}


def supervision_labels() -> dict[str, str]:
    """What supervisors see besides: their own actions, failures and retries, who opened what."""
    return {**action_labels(), "cancel": _("Cancelled"), "suspend": _("Suspended"), "resume": _("Resumed"),
            "move-back": _("Moved back to an earlier step"), "set-retries": _("Retried"),
            "timer-retries": _("Timer retried"), "external-task-failure": _("Service task failed"),
            "timer-failed": _("Timer failed"), "timer-fired": _("Timer fired"), "clock-opened": _("Clock started"),
            "download-document": _("Opened a document"), "download-material": _("Opened a material"),
            "access-refused": _("Refused access"), "instance-completed": _("Case closed")}


def history(instance_id: str, steps: dict[str, str], labels: dict[str, str], *, everything: bool = False
            ) -> list[dict[str, Any]]:
    """The case's audit entries people can read (all of them with ``everything``), oldest first."""
    entries = [e for e in audit.entries_for(db(), instance_id) if everything or e.action in labels]
    names = _names(e.actor for e in entries)
    tz = state().services.tz
    return [{"at": e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "who": names.get(e.actor, e.actor or ""),
             "what": labels.get(e.action, e.action), "step": steps.get(_step_of(e), ""), "said": _said(e)}
            for e in entries]


def _names(actors: Iterable[str | None]) -> dict[str, str]:
    wanted = {a for a in actors if a}
    return dict(db().execute(sa.select(User.username, User.display_name).where(User.username.in_(wanted))).all())


def _step_of(entry: AuditEntry) -> str | None:
    details = entry.details or {}
    return details.get("activityId") or details.get("toActivityId")


def _said(entry: AuditEntry) -> str:
    """What a step said: the opinion and the reasons of a refusal, or a supervisor's reason."""
    details = entry.details or {}
    values = details.get("values") or {}
    said = [values.get(k) for k in ("opinion", "refusalReasons", "decisionReasons") if values.get(k)]
    if details.get("reason"):
        said.append(details["reason"])
    return "；".join(str(s) for s in said)


def step_names(workflow: Any) -> dict[str, str]:
    """Element id → its Chinese name, across the case's own and called processes."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    return {t.bpmn_id: t.bpmn_name for spec in specs for t in spec.task_specs.values()
            if getattr(t, "bpmn_id", None) and getattr(t, "bpmn_name", None)}
