"""One access rule on every surface, proved route by route: every route of the app's url_map (REST and pages)
is called by every kind of principal against objects of two departments, and each answer is what the
center's rules say it must be. A route without an entry in ``ROUTES`` fails the test, so a new route cannot
ship without its row.

The expectations are written out here, from the rules (README, "Who may see what"), not computed by
``engine.access``: which principals see which case, which task, which case they supervise.

The world: three cases and two probes.
- ``M``: a market case (食品经营许可变更) received at the window, accepted by market_clerk, waiting for the chief
  representative's decision;
- ``S``: a market case whose acceptance review asked for a supplement (补正): it waits for the applicant;
- ``P``: a planning case received online by the portal, accepted by planning_clerk, at the handling review;
- ``PM``/``PP``: a market and a planning instance of tests/bpmn/access/probe.bpmn, which hold what the
  approval paths reach only late — a timer (job), a service task (external task) failed into an incident.

An answer is classified as ``ok`` (the caller got past every gate: a 2xx, or the 400/409 of the command's own
checks — mutating calls send bodies that the command refuses after the gates, so the world stays as it is),
``401``, ``403``, ``404``, ``signin`` (a page redirecting the anonymous to the sign-in page) or ``5xx``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from api import create_app, state
from engine import (authorizations, deploy, documents, drafts, entry_confirmations, external, identity,
                    runtime, workdays)
from engine.models import Incident, ProcessDefinition, SupervisionNotice, Timer, User, UserTask

from .conftest import BPMN_DIR
from .paths import ENTERPRISE, FOOD_CHANGE, FOOD_LICENCE

PASSWORD = "matrix-pass-1"
PLANNING_ITEM = "310118-GHZY-001"

#: who each principal is: their roles (a hand-written mirror of the demo's staff)
ROLES: dict[str, set[str]] = {
    "anonymous": set(), "admin": {"admin"}, "worker": {"worker"}, "window": {"window-clerk"},
    "supervisor": {"supervisor"}, "market_supervisor": {"supervisor"}, "market_clerk": {"approval-clerk"},
    "planning_clerk": {"approval-clerk"}, "market_chief": {"chief-representative"},
    "market_head": {"section-head"}, "planning_head": {"section-head"}, "market_specialist": {"specialist"},
    "portal": {"portal"}, "designer": {"designer"},
}
PRINCIPALS = tuple(ROLES)
EVERYONE_SIGNED_IN = set(PRINCIPALS) - {"anonymous"}

#: who sees each object: administrators, workers, the window and the center's supervisors see every case; a
#: department's supervisors and section heads their department's; everyone else the cases they take part in
#: (received, or a task assigned or offered to them or a group of theirs, now or before); designers none
_EVERY_CASE = {"admin", "worker", "window", "supervisor"}
SEES = {
    "M": _EVERY_CASE | {"market_supervisor", "market_head", "market_clerk", "market_chief"},
    "S": _EVERY_CASE | {"market_supervisor", "market_head", "market_clerk"},
    "P": _EVERY_CASE | {"planning_head", "planning_clerk", "portal"},
}
SEES["PM"], SEES["PP"] = SEES["M"], SEES["P"]
#: who sees the case's open task: those it is offered to, and the case's supervisors
SEES_TASK = {"M": {"admin", "supervisor", "market_supervisor", "market_chief"}, "P": {"admin", "supervisor", "planning_clerk"}}
#: who may work on it (claim, complete): those it is offered to
WORKS_TASK = {"M": {"admin", "market_chief"}, "P": {"admin", "planning_clerk"}}
#: who supervises the case: the center's supervisors and the department's
SUPERVISES = {"M": {"admin", "supervisor", "market_supervisor"}, "S": {"admin", "supervisor", "market_supervisor"},
              "P": {"admin", "supervisor"}}
SUPERVISES["PM"], SUPERVISES["PP"] = SUPERVISES["M"], SUPERVISES["P"]

# the REST permissions, by role (api/auth.py PERMISSIONS, written out again as the rules say them)
READ = {"designer", "supervisor", "worker", "window-clerk", "approval-clerk", "specialist", "chief-representative",
        "section-head"}
CLOCK = {"window-clerk", "approval-clerk", "specialist", "chief-representative", "section-head", "worker"}
CATALOGUE = READ | {"portal", "office"}
START = {"window-clerk", "approval-clerk", "worker", "designer", "supervisor"}
MESSAGE = {"worker", "window-clerk", "approval-clerk", "supervisor", "portal"}
# what each clock action needs beyond seeing the case (engine/access.py ACTION_ROLES, written out again)
CLOCK_RECEIPT = {"window-clerk", "approval-clerk", "chief-representative", "section-head", "worker"}
CLOCK_PAUSE = {"approval-clerk", "specialist", "chief-representative", "section-head", "worker"}


def _has(principal: str, roles: set[str] | None) -> bool:
    return roles is None or bool(ROLES[principal] & (roles | {"admin"}))


def gate(roles: set[str] | None = None, *, sees: dict[str, set[str]] | None = None,
         acts: set[str] | None = None, scope: dict[str, set[str]] | None = None, page: bool = False,
         public: bool = False) -> Callable[[str, str | None], set[str]]:
    """The expected answer: authenticated (401 / the sign-in page), then the route's role (403), then the object
    seen (404), then the action's role (403) and the supervisor's scope (403); else ``ok``."""
    def expect(principal: str, obj: str | None) -> set[str]:
        if public:
            return {"ok"}
        if principal == "anonymous":
            return {"signin" if page else "401"}
        if not _has(principal, roles):
            return {"403"}
        if sees is not None and principal not in sees[obj]:
            return {"404"}
        if not _has(principal, acts) or (scope is not None and principal not in scope[obj]):
            return {"403"}
        return {"ok"}
    return expect


@dataclass
class Route:
    """How to call one (method, rule) and what each principal must get."""

    url: Callable[["World", str | None], str]
    expect: Callable[[str, str | None], set[str]]
    objects: tuple[str | None, ...] = (None,)
    body: Any = None
    #: for lists: the seeded objects found in an answer, and who must find which
    listed: Callable[["World", Any], set[str]] | None = None
    lists: Callable[[str], set[str]] | None = None
    #: a page whose "not found" is a redirect elsewhere (the case search)
    classify: Callable[["World", str | None, Any], str] | None = None
    #: run after every other route (it ends a sign-in, cancels a case)
    last: bool = False
    #: makes what the call uses up, before each principal's call (the draft a designer deletes)
    prepare: Callable[[Any, "World"], None] | None = None


@dataclass
class World:
    keys: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    shas: dict[str, str] = field(default_factory=dict)
    externals: dict[str, str] = field(default_factory=dict)
    incidents: dict[str, str] = field(default_factory=dict)
    jobs: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def seeded_ids(self) -> dict[str, str]:
        """Every seeded id or key → its object name (for reading lists)."""
        found = {}
        for kind in (self.keys, self.ids, self.tasks, self.externals, self.incidents, self.jobs):
            found.update({value: name for name, value in kind.items()})
        return found


# --- the routes -----------------------------------------------------------------------------------------

R = "/engine-rest"
CASES, PROBES, BOTH = ("M", "P"), ("PM", "PP"), ("M", "P")


def _case_gate(roles=READ, **kw):
    return gate(roles, sees=SEES, **kw)


def _found(w: World, answer: Any, *keys: str) -> set[str]:
    """Seeded objects named anywhere in a JSON answer (ids, business keys) or in a page's text."""
    text = answer if isinstance(answer, str) else repr(answer)
    return {name for value, name in w.seeded_ids().items() if value in text}


def _listing(kind: str) -> Callable[[World, Any], set[str]]:
    """Objects of ``kind`` ("case": M, S, P; "probe": PM, PP; "task": the cases' tasks) in a list answer."""
    wanted = {"case": {"M", "S", "P"}, "probe": {"PM", "PP"}, "task": {"M", "P"}, "cases": {"M", "S", "P", "PM", "PP"}}[kind]
    return lambda w, answer: _found(w, answer) & wanted


def _seen(objects: set[str], table: dict[str, set[str]]) -> Callable[[str], set[str]]:
    return lambda principal: {o for o in objects if principal in table[o]}


def _a_draft(app, name: str) -> str:
    """A designer's draft that does not parse (its stored report says so), checked as the pages check it."""
    from api.design_checks import checker

    with app.app_context(), state(app).sessions.begin() as session:
        return drafts.create_draft(session, "<not-bpmn/>", name, actor="designer", check=checker(session)).id


def _a_draft_to_delete(app, w: "World") -> None:
    w.extra["doomed"] = _a_draft(app, "doomed.bpmn")


def _case_search(w: World, obj: str | None, response: Any) -> str:
    """The window's case search: the case page for a case the clerk sees, the receive page otherwise."""
    location = response.headers.get("Location", "")
    if _to_sign_in(response):
        return "signin"
    return "ok" if location.endswith(f"/cases/{w.keys[obj]}") else "404"


ROUTES: dict[str, Route] = {
    # --- REST: the engine ---
    f"GET {R}/engine": Route(lambda w, o: f"{R}/engine", gate(public=True)),
    f"GET {R}/openapi.json": Route(lambda w, o: f"{R}/openapi.json", gate(public=True)),
    # process instances
    f"GET {R}/process-instance": Route(lambda w, o: f"{R}/process-instance", gate(READ),
                                       listed=_listing("cases"), lists=_seen({"M", "S", "P", "PM", "PP"}, SEES)),
    f"POST {R}/process-instance": Route(lambda w, o: f"{R}/process-instance", gate(READ), body={},
                                        listed=_listing("cases"), lists=_seen({"M", "S", "P", "PM", "PP"}, SEES)),
    f"GET {R}/process-instance/count": Route(lambda w, o: f"{R}/process-instance/count", gate(READ)),
    f"GET {R}/process-instance/<instance_id>": Route(lambda w, o: f"{R}/process-instance/{w.ids[o]}", _case_gate(),
                                                     CASES),
    f"DELETE {R}/process-instance/<instance_id>": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}?deleteReason=matrix", _case_gate({"supervisor"}, scope=SUPERVISES),
        CASES, last=True),
    f"GET {R}/process-instance/<instance_id>/variables": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/variables", _case_gate(), CASES),
    f"GET {R}/process-instance/<instance_id>/variables/<name>": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/variables/caseNumber", _case_gate(), CASES),
    f"PUT {R}/process-instance/<instance_id>/suspended": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/suspended", _case_gate({"supervisor"}, scope=SUPERVISES),
        CASES, body={"suspended": "maybe"}),
    # the case clock
    f"GET {R}/case-clock": Route(lambda w, o: f"{R}/case-clock", gate(READ), listed=_listing("case"),
                                 lists=_seen({"M", "S", "P"}, SEES)),
    f"GET {R}/case-clock/count": Route(lambda w, o: f"{R}/case-clock/count", gate(READ)),
    f"GET {R}/process-instance/<instance_id>/case-clock": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/case-clock", _case_gate(), CASES),
    f"POST {R}/process-instance/<instance_id>/case-clock/accept": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/case-clock/accept", _case_gate(CLOCK, acts=CLOCK_RECEIPT),
        CASES, body={}),
    f"POST {R}/process-instance/<instance_id>/case-clock/supplement-request": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/case-clock/supplement-request",
        _case_gate(CLOCK, acts=CLOCK_RECEIPT), CASES, body={"missing": []}),
    f"POST {R}/process-instance/<instance_id>/case-clock/supplement-complete": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/case-clock/supplement-complete",
        _case_gate(CLOCK, acts=CLOCK_RECEIPT), CASES, body={}),
    f"POST {R}/process-instance/<instance_id>/case-clock/suspension": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/case-clock/suspension", _case_gate(CLOCK, acts=CLOCK_PAUSE),
        CASES, body={"procedure": "", "legalBasis": ""}),
    f"POST {R}/process-instance/<instance_id>/case-clock/resume": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/case-clock/resume", _case_gate(CLOCK, acts=CLOCK_PAUSE),
        CASES, body={}),
    f"POST {R}/process-instance/<instance_id>/case-clock/extension": Route(
        lambda w, o: f"{R}/process-instance/{w.ids[o]}/case-clock/extension",
        _case_gate(CLOCK, acts={"section-head"}), CASES, body={"reason": "", "applicantNotice": ""}),
    f"GET {R}/supervision-notice": Route(lambda w, o: f"{R}/supervision-notice", gate(READ), listed=_listing("case"),
                                         lists=_seen({"M", "P"}, SEES)),
    f"POST {R}/supervision-notice/<int:notice_id>/delivered": Route(
        lambda w, o: f"{R}/supervision-notice/{w.extra['notice']}/delivered", gate({"worker"}), body={}),
    # jobs (timers) and incidents
    f"GET {R}/job": Route(lambda w, o: f"{R}/job", gate(READ), listed=_listing("probe"), lists=_seen({"PM", "PP"}, SEES)),
    f"GET {R}/job/count": Route(lambda w, o: f"{R}/job/count", gate(READ)),
    f"PUT {R}/job/<job_id>/retries": Route(lambda w, o: f"{R}/job/{w.jobs[o]}/retries",
                                           _case_gate({"supervisor"}, scope=SUPERVISES), PROBES, body={}),
    f"GET {R}/incident": Route(lambda w, o: f"{R}/incident", gate(READ), listed=_listing("probe"),
                               lists=_seen({"PM", "PP"}, SEES)),
    f"GET {R}/incident/count": Route(lambda w, o: f"{R}/incident/count", gate(READ)),
    f"GET {R}/incident/<incident_id>": Route(lambda w, o: f"{R}/incident/{w.incidents[o]}", _case_gate(), PROBES),
    # external tasks: the workers' own; a case's supervisors give retries
    f"GET {R}/external-task": Route(lambda w, o: f"{R}/external-task", gate(READ), listed=_listing("probe"),
                                    lists=_seen({"PM", "PP"}, SEES)),
    f"GET {R}/external-task/<task_id>": Route(lambda w, o: f"{R}/external-task/{w.externals[o]}", _case_gate(),
                                              PROBES),
    f"POST {R}/external-task/fetchAndLock": Route(
        lambda w, o: f"{R}/external-task/fetchAndLock", gate({"worker"}),
        body={"workerId": "matrix", "maxTasks": 1, "topics": [{"topicName": "no-such-topic", "lockDuration": 1000}]}),
    **{f"POST {R}/external-task/<task_id>/{verb}": Route(
        (lambda verb: lambda w, o: f"{R}/external-task/{w.externals[o]}/{verb}")(verb), gate({"worker"}), PROBES,
        body={"workerId": "not-the-holder", "department": "market", "newDuration": 1000, "errorCode": "x"})
        for verb in ("complete", "failure", "bpmnError", "seal", "rating-link", "extendLock")},
    f"POST {R}/external-task/<task_id>/unlock": Route(lambda w, o: f"{R}/external-task/{w.externals[o]}/unlock",
                                                      gate({"worker"}), PROBES, body={}),
    f"PUT {R}/external-task/<task_id>/retries": Route(lambda w, o: f"{R}/external-task/{w.externals[o]}/retries",
                                                      _case_gate({"supervisor"}, scope=SUPERVISES), PROBES,
                                                      body={"retries": "x"}),
    # user tasks: seen by whom they are offered to and by the case's supervisors
    f"GET {R}/task": Route(lambda w, o: f"{R}/task", gate(), listed=_listing("task"), lists=_seen({"M", "P"}, SEES_TASK)),
    f"POST {R}/task": Route(lambda w, o: f"{R}/task", gate(), body={}, listed=_listing("task"),
                            lists=_seen({"M", "P"}, SEES_TASK)),
    f"GET {R}/task/count": Route(lambda w, o: f"{R}/task/count", gate()),
    f"GET {R}/task/<task_id>": Route(lambda w, o: f"{R}/task/{w.tasks[o]}", gate(sees=SEES_TASK), BOTH),
    f"GET {R}/task/<task_id>/form": Route(lambda w, o: f"{R}/task/{w.tasks[o]}/form", gate(sees=SEES_TASK), BOTH),
    f"GET {R}/task/<task_id>/form-variables": Route(lambda w, o: f"{R}/task/{w.tasks[o]}/form-variables",
                                                    gate(sees=SEES_TASK), BOTH),
    f"POST {R}/task/<task_id>/claim": Route(lambda w, o: f"{R}/task/{w.tasks[o]}/claim", gate(sees=SEES_TASK), BOTH,
                                            body={"userId": None}),
    f"POST {R}/task/<task_id>/unclaim": Route(lambda w, o: f"{R}/task/{w.tasks[o]}/unclaim", gate(sees=SEES_TASK),
                                              BOTH, body={}),
    f"POST {R}/task/<task_id>/complete": Route(lambda w, o: f"{R}/task/{w.tasks[o]}/complete",
                                               gate(sees=SEES_TASK, scope=WORKS_TASK), BOTH, body={"variables": {}}),
    # cases, messages, the supervisors' list and figures
    f"POST {R}/case": Route(lambda w, o: f"{R}/case", gate({"window-clerk", "portal"}), body={}),
    f"POST {R}/message": Route(lambda w, o: f"{R}/message", gate(MESSAGE), body={"messageName": "no-such-message"}),
    f"GET {R}/case-instance": Route(lambda w, o: f"{R}/case-instance", gate({"supervisor"}), listed=_listing("case"),
                                    lists=_seen({"M", "S", "P"}, SUPERVISES)),
    f"GET {R}/case-instance/export.csv": Route(lambda w, o: f"{R}/case-instance/export.csv", gate({"supervisor"}),
                                               listed=_listing("case"), lists=_seen({"M", "S", "P"}, SUPERVISES)),
    f"GET {R}/dashboard": Route(lambda w, o: f"{R}/dashboard", gate({"supervisor"})),
    # definitions, deployments, versions, migration
    f"GET {R}/process-definition": Route(lambda w, o: f"{R}/process-definition", gate(READ)),
    f"GET {R}/process-definition/count": Route(lambda w, o: f"{R}/process-definition/count", gate(READ)),
    f"GET {R}/process-definition/key/<key>": Route(lambda w, o: f"{R}/process-definition/key/window_intake", gate(READ)),
    f"GET {R}/process-definition/key/<key>/xml": Route(lambda w, o: f"{R}/process-definition/key/window_intake/xml",
                                                       gate(READ)),
    f"GET {R}/process-definition/key/<key>/versions": Route(
        lambda w, o: f"{R}/process-definition/key/window_intake/versions", gate(READ)),
    f"GET {R}/process-definition/<definition_id>": Route(
        lambda w, o: f"{R}/process-definition/{w.extra['definition']}", gate(READ)),
    f"GET {R}/process-definition/<definition_id>/xml": Route(
        lambda w, o: f"{R}/process-definition/{w.extra['definition']}/xml", gate(READ)),
    f"GET {R}/process-definition/<definition_id>/statistics": Route(
        lambda w, o: f"{R}/process-definition/{w.extra['definition']}/statistics", gate(READ)),
    f"GET {R}/process-definition/<definition_id>/diff/<other_id>": Route(
        lambda w, o: f"{R}/process-definition/{w.extra['definition']}/diff/{w.extra['definition']}", gate(READ)),
    f"POST {R}/process-definition/key/<key>/start": Route(
        lambda w, o: f"{R}/process-definition/key/window_intake/start", gate(START), body={}),
    f"POST {R}/process-definition/<definition_id>/start": Route(
        lambda w, o: f"{R}/process-definition/{w.extra['definition']}/start", gate(START), body={}),
    f"POST {R}/deployment/create": Route(lambda w, o: f"{R}/deployment/create", gate({"designer"}), body={}),
    f"GET {R}/deployment/<deployment_id>": Route(lambda w, o: f"{R}/deployment/{w.extra['deployment']}", gate(READ)),
    **{f"POST {R}/migration/{verb}": Route((lambda verb: lambda w, o: f"{R}/migration/{verb}")(verb),
                                           gate({"designer"}), body={})
       for verb in ("generate", "validate", "execute", "dry-run")},
    # catalogue and calendar
    f"GET {R}/catalogue-item": Route(lambda w, o: f"{R}/catalogue-item", gate(CATALOGUE)),
    f"GET {R}/catalogue-item/<code>": Route(lambda w, o: f"{R}/catalogue-item/{FOOD_CHANGE}", gate(CATALOGUE)),
    f"PUT {R}/catalogue-item/<code>": Route(lambda w, o: f"{R}/catalogue-item/{FOOD_CHANGE}", gate({"worker"}), body={}),
    f"POST {R}/catalogue-item/check": Route(lambda w, o: f"{R}/catalogue-item/check",
                                            gate({"worker", "section-head", "office"}), body={}),
    f"POST {R}/catalogue-adjustment": Route(lambda w, o: f"{R}/catalogue-adjustment", gate({"section-head"}), body={}),
    f"GET {R}/form/<key>": Route(lambda w, o: f"{R}/form/acceptance_review", gate(CATALOGUE)),
    f"GET {R}/calendar": Route(lambda w, o: f"{R}/calendar", gate(READ)),
    f"GET {R}/calendar/deadline": Route(lambda w, o: f"{R}/calendar/deadline?start=2026-03-02&days=5", gate(READ)),
    f"PUT {R}/calendar/year/<int:year>": Route(lambda w, o: f"{R}/calendar/year/2099", gate(set()), body={}),
    f"PUT {R}/calendar/rule/<day>": Route(lambda w, o: f"{R}/calendar/rule/2026-12-26", gate(set()), body={}),
    f"DELETE {R}/calendar/rule/<day>": Route(lambda w, o: f"{R}/calendar/rule/{w.extra['rule_day']}", gate(set())),

    # --- pages: signing in, the inbox and tasks ---
    "GET /sign-in": Route(lambda w, o: "/sign-in", gate(public=True)),
    "POST /sign-in": Route(lambda w, o: "/sign-in", lambda p, o: {"401", "ok"},
                           body={"username": "nobody", "password": "wrong"}),
    "POST /sign-out": Route(lambda w, o: "/sign-out", lambda p, o: {"signin"}, body={}, last=True),
    "GET /": Route(lambda w, o: "/", lambda p, o: {"signin"} if p == "anonymous" else {"ok"}),
    "GET /inbox": Route(lambda w, o: "/inbox", gate(page=True), listed=_listing("task"),
                        lists=_seen({"M", "P"}, {k: v - {"admin", "supervisor", "market_supervisor"}
                                                 for k, v in SEES_TASK.items()})),
    "GET /task/<task_id>": Route(lambda w, o: f"/task/{w.tasks[o]}", gate(sees=SEES_TASK, page=True), BOTH),
    "POST /task/<task_id>": Route(lambda w, o: f"/task/{w.tasks[o]}", gate(sees=SEES_TASK, scope=WORKS_TASK, page=True),
                                  BOTH, body={}),
    "POST /task/<task_id>/claim": Route(lambda w, o: f"/task/{w.tasks[o]}/claim", gate(sees=SEES_TASK, page=True),
                                        BOTH, body={}),
    "POST /task/<task_id>/unclaim": Route(lambda w, o: f"/task/{w.tasks[o]}/unclaim", gate(sees=SEES_TASK, page=True),
                                          BOTH, body={}),
    # the window's pages and a case's page and files
    "GET /cases/new": Route(lambda w, o: "/cases/new", gate({"window-clerk"}, page=True)),
    "GET /cases/new/<code>": Route(lambda w, o: f"/cases/new/{FOOD_CHANGE}", gate({"window-clerk"}, page=True)),
    "POST /cases/new/<code>": Route(lambda w, o: f"/cases/new/{FOOD_CHANGE}", gate({"window-clerk"}, page=True),
                                    body={}),
    "GET /cases": Route(lambda w, o: f"/cases?key={w.keys[o]}", gate(sees=SEES, page=True), CASES,
                        classify=_case_search),
    "GET /cases/<key>": Route(lambda w, o: f"/cases/{w.keys[o]}", gate(sees=SEES, page=True), CASES),
    "GET /cases/<key>/documents/<name>": Route(lambda w, o: f"/cases/{w.keys[o]}/documents/{w.documents[o]}",
                                               gate(sees=SEES, page=True), CASES),
    "GET /cases/<key>/materials/<sha256>": Route(lambda w, o: f"/cases/{w.keys[o]}/materials/{w.shas[o]}",
                                                 gate(sees=SEES, page=True), ("M", "S")),
    "GET /cases/<key>/supplement": Route(lambda w, o: f"/cases/{w.keys[o]}/supplement",
                                         gate({"window-clerk"}, sees=SEES, page=True), ("S",)),
    "POST /cases/<key>/supplement": Route(lambda w, o: f"/cases/{w.keys[o]}/supplement",
                                          gate({"window-clerk"}, sees=SEES, page=True), ("S",), body={}),
    "GET /rate/<key>": Route(lambda w, o: f"/rate/{w.keys[o]}?t=guessed", lambda p, o: {"403"}, CASES),
    "POST /rate/<key>": Route(lambda w, o: f"/rate/{w.keys[o]}?t=guessed", lambda p, o: {"403"}, CASES,
                              body={"rating": "非常不满意"}),
    # the supervisors' console
    "GET /console/cases": Route(lambda w, o: "/console/cases", gate({"supervisor"}, page=True), listed=_listing("case"),
                                lists=_seen({"M", "S", "P"}, SUPERVISES)),
    "GET /console/cases.csv": Route(lambda w, o: "/console/cases.csv", gate({"supervisor"}, page=True),
                                    listed=_listing("case"), lists=_seen({"M", "S", "P"}, SUPERVISES)),
    "GET /console/dashboard": Route(lambda w, o: "/console/dashboard", gate({"supervisor"}, page=True)),
    "GET /console/processes": Route(lambda w, o: "/console/processes", gate({"supervisor"}, page=True)),
    "GET /console/processes/<definition_id>": Route(lambda w, o: f"/console/processes/{w.extra['definition']}",
                                                    gate({"supervisor"}, page=True)),
    "GET /console/instances/<instance_id>": Route(lambda w, o: f"/console/instances/{w.ids[o]}",
                                                  gate({"supervisor"}, sees=SEES, scope=SUPERVISES, page=True), CASES),
    "POST /console/instances/<instance_id>/<any(cancel, suspend, resume):action>": Route(
        lambda w, o: f"/console/instances/{w.ids[o]}/cancel", gate({"supervisor"}, sees=SEES, scope=SUPERVISES,
                                                                     page=True), CASES, body={"reason": ""}),
    "POST /console/instances/<instance_id>/move-back": Route(
        lambda w, o: f"/console/instances/{w.ids[o]}/move-back", gate({"supervisor"}, sees=SEES, scope=SUPERVISES,
                                                                     page=True), CASES, body={"reason": ""}),
    "POST /console/instances/<instance_id>/incidents/<incident_id>/retry": Route(
        lambda w, o: f"/console/instances/{w.ids[o]}/incidents/{w.incidents[o]}/retry",
        gate({"supervisor"}, sees=SEES, scope=SUPERVISES, page=True), PROBES, body={}),
    # designers
    "GET /design": Route(lambda w, o: "/design", gate({"designer"}, page=True)),
    "POST /design/drafts": Route(lambda w, o: "/design/drafts", gate({"designer"}, page=True), body={}),
    "GET /design/drafts/<draft_id>": Route(lambda w, o: f"/design/drafts/{w.extra['draft']}", gate({"designer"}, page=True)),
    "GET /design/drafts/<draft_id>/modeler": Route(lambda w, o: f"/design/drafts/{w.extra['draft']}/modeler",
                                                   gate({"designer"}, page=True)),
    "POST /design/drafts/<draft_id>/save": Route(lambda w, o: f"/design/drafts/{w.extra['draft']}/save",
                                                 gate({"designer"}, page=True), body={}),
    "POST /design/drafts/<draft_id>/deploy": Route(lambda w, o: f"/design/drafts/{w.extra['draft']}/deploy",
                                                   gate({"designer"}, page=True), body={}),
    "POST /design/drafts/<draft_id>/delete": Route(lambda w, o: f"/design/drafts/{w.extra['doomed']}/delete",
                                                   gate({"designer"}, page=True), body={}, prepare=_a_draft_to_delete),
    "GET /design/processes/<key>": Route(lambda w, o: "/design/processes/window_intake", gate({"designer"}, page=True)),
    "GET /design/processes/<key>/diff": Route(lambda w, o: "/design/processes/window_intake/diff",
                                              gate({"designer"}, page=True)),
    "GET /design/processes/<key>/migrate": Route(lambda w, o: "/design/processes/window_intake/migrate",
                                                 gate({"designer"}, page=True)),
    "POST /design/processes/<key>/migrate": Route(lambda w, o: "/design/processes/window_intake/migrate",
                                                  gate({"designer"}, page=True), body={}),
    # administrators and the catalogue's applicants
    "GET /admin/items": Route(lambda w, o: "/admin/items", gate(set(), page=True)),
    "GET /admin/items/<code>": Route(lambda w, o: f"/admin/items/{FOOD_CHANGE}", gate(set(), page=True)),
    "GET /admin/departments": Route(lambda w, o: "/admin/departments", gate(set(), page=True)),
    "POST /admin/departments": Route(lambda w, o: "/admin/departments", gate(set(), page=True), body={}),
    "GET /admin/authorizations": Route(lambda w, o: "/admin/authorizations", gate(set(), page=True)),
    "POST /admin/authorizations": Route(lambda w, o: "/admin/authorizations", gate(set(), page=True), body={}),
    "POST /admin/authorizations/<int:letter_id>/revoke": Route(
        lambda w, o: f"/admin/authorizations/{w.extra['letter']}/revoke", gate(set(), page=True), body={}),
    "GET /admin/entry-confirmations": Route(lambda w, o: "/admin/entry-confirmations", gate(set(), page=True)),
    "POST /admin/entry-confirmations": Route(lambda w, o: "/admin/entry-confirmations", gate(set(), page=True), body={}),
    "POST /admin/entry-confirmations/<int:confirmation_id>/revoke": Route(
        lambda w, o: f"/admin/entry-confirmations/{w.extra['confirmation']}/revoke", gate(set(), page=True), body={}),
    "GET /admin/sign-ins": Route(lambda w, o: "/admin/sign-ins", gate(set(), page=True)),
    "POST /admin/sign-ins/unlock": Route(lambda w, o: "/admin/sign-ins/unlock", gate(set(), page=True), body={}),
    "GET /adjustments/new": Route(lambda w, o: "/adjustments/new", gate({"section-head"}, page=True)),
    "POST /adjustments/new": Route(lambda w, o: "/adjustments/new", gate({"section-head"}, page=True), body={}),
    # public: the service guides, their JSON, the pages' own files
    "GET /guide/": Route(lambda w, o: "/guide/", gate(public=True)),
    "GET /guide/<code>": Route(lambda w, o: f"/guide/{FOOD_CHANGE}", gate(public=True)),
    "GET /public/api/items": Route(lambda w, o: "/public/api/items", gate(public=True)),
    "GET /public/api/items/<code>": Route(lambda w, o: f"/public/api/items/{FOOD_CHANGE}", gate(public=True)),
    "GET /public/api/items/<code>/form": Route(lambda w, o: f"/public/api/items/{FOOD_CHANGE}/form", gate(public=True)),
    "GET /public/api/departments": Route(lambda w, o: "/public/api/departments", gate(public=True)),
    "GET /public/api/<path:_rest>": Route(lambda w, o: "/public/api/no-such", lambda p, o: {"404"}),
    "GET /static/<path:filename>": Route(lambda w, o: "/static/no-such.css", lambda p, o: {"404"}),
    "GET /static/web/<path:filename>": Route(lambda w, o: "/static/web/app.css", gate(public=True)),
}


def route_keys(app) -> set[str]:
    return {f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}


# --- the world ------------------------------------------------------------------------------------------

@pytest.fixture
def matrix(center, settings, clock, worker_settings):
    app = create_app(replace(settings, documents_dir=worker_settings.documents_dir), clock=clock,
                     test_config={"TESTING": True, "WTF_CSRF_ENABLED": False})
    world = World()
    with state(app).sessions.begin() as session:
        identity.create_user(session, "market_supervisor", None, groups=["supervisor"], department="market")
        session.flush()
        for user in EVERYONE_SIGNED_IN:
            session.get(User, user).password_hash = identity._HASHER.hash(PASSWORD)
        tokens = {user: identity.create_token(session, user, "matrix") for user in EVERYONE_SIGNED_IN}
    _cases(center, world)
    _probes(center, world)
    _the_rest(center, world)
    world.extra["draft"] = _a_draft(app, "broken.bpmn")
    clients = {user: _signed_in(app, user) for user in PRINCIPALS}
    yield app, world, tokens, clients
    state(app).engine.dispose()


def _pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer)
    drawing.drawString(72, 720, "application")
    drawing.save()
    return buffer.getvalue()


def _cases(center, w: World) -> None:
    application = {"application-form": ("申请书.pdf", _pdf())}
    w.keys["M"] = center.receive(FOOD_CHANGE, ENTERPRISE, [], files=application)
    w.keys["S"] = center.receive(FOOD_LICENCE, ENTERPRISE, [], files=application)
    # online, by the portal: an online application names its materials, the portal keeps the files
    w.keys["P"] = center.receive(PLANNING_ITEM, ENTERPRISE, [{"code": "application-form"}, {"code": "drawings"}],
                                 user="portal", channel="online")
    center.work()
    center.complete(w.keys["M"], "Task_acceptance_review", "market_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.complete(w.keys["S"], "Task_acceptance_review", "market_clerk", {
        "acceptance": "supplement", "opinion": "材料不齐", "missingItems": ["经营场所平面布局图"]})
    center.complete(w.keys["P"], "Task_acceptance_review", "planning_clerk", {"acceptance": "accept", "opinion": "受理"})
    center.work()
    assert center.waiting(w.keys["M"]) == ["Task_chief_decision"] and center.waiting(w.keys["P"]) == ["Task_handling_review"]
    for name in ("M", "S", "P"):
        w.ids[name] = center.instance_id(w.keys[name])
        made = documents.documents_of(center.variables(w.keys[name]))
        assert made, f"{name} has no signed document"
        w.documents[name] = Path(made[0]["file"]).name
    for name in ("M", "S"):
        w.shas[name] = next(m["sha256"] for m in center.variables(w.keys[name])["submittedMaterials"] if m.get("sha256"))
    for name in ("M", "P"):
        w.tasks[name] = center.tasks(w.keys[name])[0].id


def _probes(center, w: World) -> None:
    with center.sessions.begin() as session:
        deploy.deploy(session, [("probe.bpmn", (BPMN_DIR / "access" / "probe.bpmn").read_bytes())], actor="test")
    for name, department, receiver in (("PM", "market", "window"), ("PP", "planning", "portal")):
        with center.sessions.begin() as session:
            instance = runtime.start_instance(session, "access_probe", business_key=f"PROBE-{department.upper()}",
                                              variables={"department": department}, actor=receiver)
            instance.department = department
            w.ids[name] = instance.id
        with center.sessions.begin() as session:
            [locked] = external.fetch_and_lock(session, "w", [external.TopicRequest("access-probe", 1000)])
            external.failure(session, locked.row.id, "w", error_message="probe failed", error_details=None, retries=0,
                             retry_timeout_ms=0)
            w.externals[name] = locked.row.id
        with center.sessions.begin() as session:
            w.incidents[name] = session.scalar(sa.select(Incident.id).where(Incident.instance_id == w.ids[name]))
            w.jobs[name] = session.scalar(sa.select(Timer.id).where(Timer.instance_id == w.ids[name]))
    assert all(w.incidents.values()) and all(w.jobs.values())


def _the_rest(center, w: World) -> None:
    """Objects that are not cases: a definition, a deployment, a designer's draft, a letter and a confirmation to
    revoke, a calendar rule to delete, a supervision notice to mark delivered."""
    with center.sessions.begin() as session:
        definition = session.scalar(sa.select(ProcessDefinition).where(ProcessDefinition.key == "window_intake"))
        w.extra["definition"], w.extra["deployment"] = definition.id, definition.deployment_id
        w.extra["letter"] = authorizations.grant(
            session, username="market_head", department="market", kind=authorizations.LEADER, powers=["decide"],
            valid_from=date(2026, 1, 1), valid_to=date(2026, 12, 31), signed_by="局长",
            document_number="青market授〔2026〕99号", actor="test").id
        w.extra["confirmation"] = entry_confirmations.confirm(
            session, department="culture", document_number="青culture入驻〔2026〕99号", signed_by="局长",
            confirmed_by="区政务办", valid_from=date(2026, 6, 1), item_codes=["310118-WHLY-001"], actor="test").id
        w.extra["rule_day"] = "2026-12-27"
        workdays.set_rule(session, date(2026, 12, 27), True, "matrix", actor="test")
        notice = SupervisionNotice(instance_id=w.ids["M"], business_key=w.keys["M"], kind="yellow",
                                   created_at=center.clock.now(), payload={})
        session.add(notice)
        session.add(SupervisionNotice(instance_id=w.ids["P"], business_key=w.keys["P"], kind="yellow",
                                      created_at=center.clock.now(), payload={}))
        session.flush()
        w.extra["notice"] = notice.id


def _signed_in(app, user: str):
    client = app.test_client()
    if user != "anonymous":
        answer = client.post("/sign-in", data={"username": user, "password": PASSWORD})
        assert answer.status_code == 302, (user, answer.status_code)
    return client


# --- the test -------------------------------------------------------------------------------------------

def _to_sign_in(response) -> bool:
    return response.status_code in (301, 302, 303) and \
        urlsplit(response.headers.get("Location", "")).path == "/sign-in"


def _outcome(response) -> str:
    if _to_sign_in(response):
        return "signin"
    if response.status_code >= 500:
        return "5xx"
    return str(response.status_code) if response.status_code in (401, 403, 404) else "ok"


def _call(app, clients, tokens, key: str, route: Route, world: World, principal: str, obj: str | None):
    method, rule = key.split(" ", 1)
    url = route.url(world, obj)
    if rule.startswith(R):
        headers = {"Authorization": f"Bearer {tokens[principal]}"} if principal != "anonymous" else {}
        return app.test_client().open(url, method=method, headers=headers,
                                      json=route.body if method != "GET" and route.body is not None else None)
    return clients[principal].open(url, method=method, data=route.body if method != "GET" else None)


def _unclaim(app, world: World) -> None:
    """A claim that got through (an administrator's, a candidate's on the inbox page) is undone, so the next
    principal meets the task as the world has it: offered, not assigned."""
    with state(app).sessions.begin() as session:
        session.execute(sa.update(UserTask).where(UserTask.id.in_(list(world.tasks.values()))).values(assignee=None))


def test_every_route_answers_every_principal_as_the_access_rules_say(matrix):
    app, world, tokens, clients = matrix
    assert route_keys(app) - set(ROUTES) == set(), "routes with no row in the access matrix"
    assert set(ROUTES) - route_keys(app) == set(), "rows of the access matrix with no route"
    wrong = []
    ordered = sorted(ROUTES.items(), key=lambda item: (item[1].last, not item[0].startswith("GET"), item[0]))
    for key, route in ordered:
        for obj in route.objects:
            for principal in PRINCIPALS:
                if route.prepare is not None:
                    route.prepare(app, world)
                response = _call(app, clients, tokens, key, route, world, principal, obj)
                got = route.classify(world, obj, response) if route.classify and principal != "anonymous" \
                    else _outcome(response)
                expected = route.expect(principal, obj)
                if got not in expected:
                    wrong.append(f"{key} [{obj}] as {principal}: {response.status_code} ({got}), expected "
                                 f"{'/'.join(sorted(expected))}")
                elif route.listed is not None and got == "ok":
                    body = response.get_data(as_text=True)
                    found, must = route.listed(world, body), route.lists(principal)
                    if found != must:
                        wrong.append(f"{key} as {principal} lists {sorted(found)}, expected {sorted(must)}")
                response.close()
                _unclaim(app, world)
    assert not wrong, f"{len(wrong)} answers differ from the access rules:\n" + "\n".join(wrong)
