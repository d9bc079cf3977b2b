"""Who may see a case and who may act on it: the one access policy of every surface.

Rule 20 (个人信息保护法 arts. 5-6, 34): an applicant's case — and with it the ID number, phone, address and
materials — is seen only by those who handle or supervise it, the same on every channel. Every REST route,
page, export and command that names a case, task, clock, job or incident asks this module, and every list
is filtered by its predicates:

- administrators, and workers (the machines doing service tasks), see every case;
- the comprehensive window (综合窗口) receives, answers and issues for every department (前台综合受理、
  综合窗口出件), so window clerks see every case;
- supervisors see their department's cases; the center's supervisors see every department's;
- a department's section heads (审批服务科负责人) and leaders answer for their section's cases (the one
  extension of art. 42, escalations), so they see their department's cases;
- "a department's cases" are those it owns and those it takes part in (a 一件事 of the center with a part for
  the department); acting on a whole case (cancel, suspend) stays with the supervisors of its own department;
  a supervisor, head or leader registered with no department oversees nothing;
- everyone else sees the cases they take part in: one of its tasks is or was assigned or offered to them or a
  group of theirs, or they received it (``engine.involvement``);
- designers see no case: they work on definitions.

A case the caller may not see is answered as one that does not exist (``NotFound``: a 404 on REST and on the
pages), so a case number or id confirms nothing; a case the caller sees but may not act on is a ``Forbidden``
that says which role or scope is missing. Secrets never appear in a variable view (``shown_variables``).
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from .errors import Forbidden, NotFound
from .identity import CENTER, Principal
from .involvement import department_takes_part, involved
from .models import ProcessInstance, TaskCandidate, User, UserTask

ADMIN = "admin"
#: roles that see every case (the window works for every department; workers are the engine's machines)
EVERY_CASE = ("worker", "window-clerk")
#: roles that see every case of their own department (the center's supervisors: of every department)
DEPARTMENT_WIDE = ("supervisor", "section-head", "department-leader")
#: the department of a supervisor registered without one: matches no case
NO_DEPARTMENT = "(no department)"
#: variable names ending so are secrets: never shown in a variable view, whoever asks
SECRET_SUFFIXES = ("token", "secret", "password")


class Action(str, Enum):
    """What a caller does to a case they see, beyond reading it."""

    #: cancel, suspend, resume, move back; retry its incidents and timers
    OPERATE = "operate"
    #: accept, ask for a supplement (补正) and receive it: the clock's acceptance steps
    CLOCK_RECEIPT = "clock-receipt"
    #: suspend and resume the clock for a special procedure (art. 45)
    CLOCK_PAUSE = "clock-pause"
    #: the one extension of the decision deadline (art. 42), approved by the section head
    EXTEND = "extend"


#: who may take each action on a case they see (administrators may take every action)
ACTION_ROLES: dict[Action, tuple[str, ...]] = {
    Action.OPERATE: ("supervisor",),
    Action.CLOCK_RECEIPT: ("window-clerk", "approval-clerk", "chief-representative", "section-head", "worker"),
    Action.CLOCK_PAUSE: ("approval-clerk", "specialist", "chief-representative", "section-head", "worker"),
    Action.EXTEND: ("section-head",),
}


# --- cases ----------------------------------------------------------------------------------------------

def sees_every_case(viewer: Principal) -> bool:
    return viewer.has_any(EVERY_CASE) or (viewer.has_any(("supervisor",)) and viewer.department == CENTER)


def supervised_department(viewer: Principal) -> str | None:
    """The department whose cases a supervisor oversees; None for every department (the center's supervisors,
    administrators). Callers check the supervisor role themselves (``require_supervisor``); a supervisor with
    no department oversees nothing (``department_cases``)."""
    return None if ADMIN in viewer.groups or viewer.department == CENTER else viewer.department or NO_DEPARTMENT


def department_cases(department: str) -> sa.ColumnElement[bool]:
    """SQL over ``process_instance``: the cases of a department — its own, and those it takes part in."""
    return sa.or_(ProcessInstance.department == department, department_takes_part(ProcessInstance.id, department))


def case_visible(viewer: Principal) -> sa.ColumnElement[bool]:
    """SQL over ``process_instance``: the cases the viewer may see."""
    if sees_every_case(viewer):
        return sa.true()
    clauses = [ProcessInstance.started_by == viewer.username,
               involved(ProcessInstance.id, viewer.username, viewer.groups)]
    if viewer.department and viewer.groups.intersection(DEPARTMENT_WIDE):
        clauses.append(department_cases(viewer.department))
    return sa.or_(*clauses)


def by_visible_case(viewer: Principal, instance_id: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """SQL over a table with an instance id column (clocks, timers, incidents, external tasks, notices): the
    rows of cases the viewer may see. Not for queries that already select from ``process_instance``."""
    if sees_every_case(viewer):
        return sa.true()
    return sa.exists().where(ProcessInstance.id == instance_id, case_visible(viewer))


def counted_cases(viewer: Principal) -> sa.ColumnElement[bool] | None:
    """The cases a count per element covers (a definition's statistics, the console's heat map): a count names
    nobody, so designers, who see no case, count every case; others count the cases they see. None: all."""
    if sees_every_case(viewer) or viewer.has_any(("designer",)):
        return None
    return case_visible(viewer)


def may_see(session: so.Session, viewer: Principal, instance: ProcessInstance) -> bool:
    """``case_visible`` for one instance (the same rule, asked of the database)."""
    if sees_every_case(viewer):
        return True
    return session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.id == instance.id,
                                                              case_visible(viewer))) is not None


def sees_instance(session: so.Session, viewer: Principal, instance_id: str | None) -> bool:
    """May the viewer see the instance with this id (False for none: a start timer belongs to no case)?"""
    if sees_every_case(viewer):
        return True
    instance = session.get(ProcessInstance, instance_id) if instance_id else None
    return instance is not None and may_see(session, viewer, instance)


def visible_instance(session: so.Session, viewer: Principal, instance_id: str) -> ProcessInstance:
    """The instance, if the viewer may see it; ``NotFound`` alike whether it is hidden or missing."""
    instance = session.get(ProcessInstance, instance_id) if instance_id else None
    if instance is None or not may_see(session, viewer, instance):
        raise NotFound(f"Process instance with id '{instance_id}' does not exist", code="case.unknown",
                       key=instance_id)
    return instance


def visible_case(session: so.Session, viewer: Principal, business_key: str) -> ProcessInstance:
    """The case with this number (办件编号), if the viewer may see it; ``NotFound`` alike otherwise."""
    instance = session.scalar(sa.select(ProcessInstance).where(ProcessInstance.business_key == business_key)
                              .order_by(ProcessInstance.started_at.desc()).limit(1)) if business_key else None
    if instance is None or not may_see(session, viewer, instance):
        raise NotFound(f"No case {business_key}", code="case.unknown", key=business_key)
    return instance


def require(session: so.Session, viewer: Principal, instance_id: str, action: Action) -> ProcessInstance:
    """The instance, if the viewer sees it (else ``NotFound``) and may take ``action`` on it (else ``Forbidden``,
    saying what is missing)."""
    instance = visible_instance(session, viewer, instance_id)
    if ADMIN in viewer.groups:
        return instance
    roles = ACTION_ROLES[action]
    if not viewer.has_any(roles):
        raise Forbidden(f"User '{viewer.username}' may not {action.value} case '{instance.business_key or instance.id}'"
                        f": it needs one of the roles {', '.join(roles)}", code="case.action-refused",
                        action=action.value)
    if action is Action.OPERATE:
        require_supervisor(viewer, instance)
    return instance


def require_supervisor(viewer: Principal, instance: ProcessInstance) -> None:
    """Supervisors act on the cases of the department they oversee (the center's on every case)."""
    own = supervised_department(viewer)
    if ADMIN in viewer.groups or (viewer.has_any(("supervisor",)) and own in (None, instance.department)):
        return
    raise Forbidden(f"User '{viewer.username}' does not supervise case '{instance.business_key or instance.id}'",
                    code="case.not-supervised")


def supervises(session: so.Session, viewer: Principal, instance_id: str) -> ProcessInstance:
    """The instance, for a supervisor whose scope includes it: ``NotFound`` if the viewer may not see it,
    ``Forbidden`` if they see it but do not supervise it (a window clerk on the console)."""
    instance = visible_instance(session, viewer, instance_id)
    require_supervisor(viewer, instance)
    return instance


# --- user tasks -----------------------------------------------------------------------------------------

def can_act(row: UserTask, user: str | None, groups: Iterable[str]) -> bool:
    """May ``user`` claim, complete or draft the task: assigned to them, or offered to them (a group of theirs,
    or by name) while nobody has claimed it; administrators may act on any task."""
    groups = set(groups)
    if ADMIN in groups:
        return True
    if row.assignee:
        return row.assignee == user
    return bool(groups.intersection(row.candidate_groups)) or (user in row.candidate_users)


def offered_to(user: str, groups: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQL over ``user_task``: what a clerk may work on (``can_act``) — assigned to them, or offered to them
    while unassigned. A correlated EXISTS rather than IN (subquery): a query ordered like an index then stops
    after one page of visible rows instead of first collecting every task offered to the groups."""
    offered = sa.exists().where(TaskCandidate.task_id == UserTask.id,
                                sa.or_(TaskCandidate.group_id.in_(sorted(groups)), TaskCandidate.user_id == user))
    return sa.or_(UserTask.assignee == user, sa.and_(UserTask.assignee.is_(None), offered))


def task_visible(viewer: Principal) -> sa.ColumnElement[bool]:
    """SQL over ``user_task``: the tasks the viewer may see — assigned to them, offered to them while
    unassigned (``tasks.offered_to``), or of a case they supervise."""
    if ADMIN in viewer.groups:
        return sa.true()
    clauses = [offered_to(viewer.username, viewer.groups)]
    if viewer.has_any(("supervisor",)):
        own = supervised_department(viewer)
        clauses.append(sa.true() if own is None else sa.exists().where(
            ProcessInstance.id == UserTask.instance_id, department_cases(own)))
    return sa.or_(*clauses)


def visible_task(session: so.Session, viewer: Principal, task_id: str) -> UserTask:
    """The open task, if the viewer may see it; ``NotFound`` alike whether hidden, done or never there. Who may
    work on it is the task command's own check (``tasks.can_act``): a supervisor sees but does not work."""
    row = session.get(UserTask, task_id) if task_id else None
    if row is None or not (can_act(row, viewer.username, viewer.groups) or _supervises_task(session, viewer, row)):
        raise NotFound(f"Cannot find task with id '{task_id}': it does not exist or was already completed",
                       code="task.unknown")
    return row


def _supervises_task(session: so.Session, viewer: Principal, row: UserTask) -> bool:
    if not viewer.has_any(("supervisor",)):
        return False
    own = supervised_department(viewer)
    return own is None or session.scalar(sa.select(ProcessInstance.id).where(
        ProcessInstance.id == row.instance_id, department_cases(own))) is not None


# --- who a model may offer a task to -------------------------------------------------------------------

#: roles that handle no case: a task offered to them would hand them a case and its applicant's data
NO_CASE_ROLES = ("designer", "worker", "portal", "admin")


def offer_problems(session: so.Session, element_id: str, meta: Any) -> list[str]:
    """What is wrong with whom a deployed user task is offered to: a group of a role that handles no case
    (``designer``, or ``${department}:worker``), or by name a user who holds only such roles. A designer who
    could offer a case's decision to designers would see and decide cases; expressions are checked in their
    literal role part only (the rest is known when the task is made)."""
    problems = [f"user task '{element_id}' is offered to the group '{group.strip()}': the {role} role handles no "
                "case, and a case's tasks go to the staff who handle it"
                for text in meta.candidate_groups for group in text.split(",")
                if (role := group.strip().rsplit(":", 1)[-1].strip()) in NO_CASE_ROLES]
    names = {n.strip() for text in (*meta.candidate_users, meta.assignee or "") for n in text.split(",")
             if n.strip() and "${" not in n and "#{" not in n}
    for user in session.scalars(sa.select(User).where(User.username.in_(sorted(names)))) if names else ():
        if user.groups and set(user.groups) <= set(NO_CASE_ROLES):
            problems.append(f"user task '{element_id}' is offered to the user '{user.username}', who holds only roles "
                            f"that handle no case ({', '.join(sorted(user.groups))})")
    return problems


# --- variables ------------------------------------------------------------------------------------------

def is_secret(name: str) -> bool:
    return name.lower().endswith(SECRET_SUFFIXES)


def shown_variables(variables: dict[str, Any]) -> dict[str, Any]:
    """A case's variables as any view shows them: without secrets (an old case's rating token, a model's
    passwords), whoever looks — REST, the console, a task's form variables."""
    return {name: value for name, value in variables.items() if not is_secret(name)}
