"""Dynamic adjustment of the item catalogue (事项动态调整): adding, changing or cancelling an item.

Rule 14: the catalogue changes only through a department's written application that the district
government office for services (区政务办) reviews. That review is a process of its own,
``catalogue_adjustment`` (``processes/catalogue_adjustment.bpmn``); this module is what its steps
need from the engine, and nothing else writes an approved adjustment:

* ``start_adjustment`` — the department's approval section head (or an administrator) applies in
  writing: kind, item, the record or the changes, reason, legal basis, the written application's
  document number. The case is numbered like a case (``QP-ADJUST-<DEPT>-<yyyymmdd>-<nnnn>``).
* ``check_adjustment`` — builds the record the application proposes (a new item's record, the current
  version with the changes, or the current version cancelled) and checks it with the catalogue's own
  checks (``engine.catalogue.check_item``) and the adjustment's (the item exists or not, it belongs to
  the applying department, a change changes something). Nothing is written: the problems go back to
  the department, which corrects its application.
* ``apply_adjustment`` — the record the office approved becomes the item's next version, with the
  effective date the office set. Keyed by the adjustment case: a redelivered apply task finds the
  version the first delivery wrote (an audit entry of the case) and writes no second one.

Cases already running keep the version they were received under (rule 13): applying adds a version
and never touches an old one; only cases received afterwards copy the new one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit, catalogue, runtime
from .cases import next_case_number
from .catalogue_fields import Problem
from .context import services
from .errors import BadUserRequest, Conflict, Forbidden, InvalidInput, NotFound
from .models import AuditEntry, CatalogueItem, Department, ExternalTask, ProcessInstance

PROCESS_KEY = "catalogue_adjustment"
APPLICATION_FORM = "catalogue_adjustment_application"
APPLY_TOPIC = "catalogue-apply"
KINDS = ("add", "change", "cancel")
#: who applies for a department: its approval section head (负责人); admin may apply for any department
APPLICANT_ROLES = ("section-head", "admin")
#: the audit entry that records an applied adjustment: the idempotency key of ``apply_adjustment``
APPLIED = "catalogue-adjustment-applied"
#: fields a change may not touch: an item is known by its code, and moves department only by being
#: cancelled in one and added in the other (both reviewed)
FIXED = ("code", "department")


@dataclass(frozen=True)
class Proposal:
    """The record an application proposes, in canonical form, and what is wrong with it."""

    kind: str
    code: str
    #: the record as ``put_item`` takes it, JSON-ready (dates as ISO text)
    record: dict[str, Any]
    #: the version the record was built on (None for a new item): applying refuses if the item moved on
    base_version: int | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "kind": self.kind, "itemCode": self.code, "record": self.record,
                "baseVersion": self.base_version, "problems": [p.as_dict() for p in self.problems],
                "warnings": [p.as_dict() for p in self.warnings]}


@dataclass(frozen=True)
class Applied:
    """The item version an adjustment case wrote; ``repeated`` when an earlier delivery had written it."""

    item: CatalogueItem
    repeated: bool
    effective_from: date


class ItemChanged(Conflict):
    """The item has a newer version than the one the approved record was built on (another adjustment
    took effect meanwhile): applying would silently undo it, so the application goes back to the department."""


# --- starting -----------------------------------------------------------------------------------------

def start_adjustment(session: so.Session, application: dict[str, Any], *, actor: str, actor_groups: Iterable[str],
                     actor_department: str | None) -> ProcessInstance:
    """Open an adjustment case for a department's written application; its business key is the case number.

    A section head applies for their own department's items only; an administrator for any department
    (the item's)."""
    groups = set(actor_groups)
    if not groups & set(APPLICANT_ROLES):
        raise Forbidden("A catalogue adjustment is applied for in writing by the department's approval section "
                        "head (审批服务科负责人)", code="adjustment.section-head-only")
    services(session).forms.validate(APPLICATION_FORM, application)
    code = application["itemCode"]
    owner = _owner(session, application)
    department = owner if "admin" in groups else actor_department
    if department is None:
        raise InvalidInput(f"Item '{code}' names no department: say in the record which department implements it",
                           code="adjustment.no-department", item=code)
    if owner is not None and owner != department:
        raise Forbidden(f"Item '{code}' belongs to department '{owner}'; a department applies for its own items "
                        "only", code="adjustment.other-department", item=code, department=owner)
    number = next_case_number(session, f"adjust-{department}")  # its own series: QP-ADJUST-<DEPT>-...
    department_row = session.get(Department, department)
    variables = {
        **application, "department": department, "caseNumber": number, "appliedBy": actor,
        "appliedAt": services(session).clock.now().astimezone(services(session).tz).isoformat(timespec="seconds"),
        # what the inbox shows for the task: the item, and the applying department as the applicant
        "itemName": _item_name(session, application),
        "applicant": {"applicantName": department_row.name if department_row else department},
    }
    return runtime.start_instance(session, PROCESS_KEY, business_key=number, variables=variables, actor=actor)


def _owner(session: so.Session, application: Mapping[str, Any]) -> str | None:
    """The department the application is about: the current item's, or for a new item the record's."""
    current = catalogue.current_version(session, str(application.get("itemCode") or ""))
    if current is not None and application.get("kind") != "add":
        return current.department
    record = application.get("record")
    department = record.get("department") if isinstance(record, Mapping) else None
    return department if isinstance(department, str) and department else None


def _item_name(session: so.Session, application: Mapping[str, Any]) -> str | None:
    record = application.get("record")
    if application.get("kind") == "add" and isinstance(record, Mapping) and record.get("name"):
        return str(record["name"])
    current = catalogue.current_version(session, str(application.get("itemCode") or ""))
    return current.name if current is not None else None


def refuse_direct_start(key: str) -> None:
    """The adjustment process starts only through ``start_adjustment``: a generic start would skip the
    written application's form and let the caller name any department."""
    if key == PROCESS_KEY:
        raise BadUserRequest(f"'{PROCESS_KEY}' is started by the department's written application: "
                             "POST /engine-rest/catalogue-adjustment (the department's section head)")


# --- checking -----------------------------------------------------------------------------------------

def check_adjustment(session: so.Session, kind: Any, code: Any, *, record: Any = None, changes: Any = None,
                     department: str | None = None) -> Proposal:
    """The record an application proposes and every problem with it; nothing is written."""
    problems: list[Problem] = []
    if kind not in KINDS:
        problems.append(Problem("kind", "adjustment.bad-kind", f"'kind' must be one of {', '.join(KINDS)}, "
                                f"got {kind!r}", {"value": str(kind)}))
    if not isinstance(code, str) or not code.strip():
        problems.append(Problem("itemCode", "adjustment.no-item", "'itemCode' (the implementation code) is required"))
        return Proposal(str(kind), "", {}, None, problems)
    code = code.strip()
    current = catalogue.current_version(session, code)
    data = _proposed(kind, code, current, record, changes, problems)
    if data is None:
        return Proposal(str(kind), code, {}, current.version if current else None, problems)
    owner = current.department if current is not None and kind != "add" else data.get("department")
    if department is not None and owner is not None and owner != department:
        problems.append(Problem("department", "adjustment.other-department",
                                f"item '{code}' belongs to department '{owner}', not to '{department}'",
                                {"item": code, "department": owner}))
    checked = catalogue.check_item(session, data)
    problems += checked.problems
    unchanged = kind == "change" and current is not None and not catalogue.differences(current, checked)
    if unchanged and not checked.problems:
        problems.append(Problem("changes", "adjustment.no-difference",
                                f"the changes leave item '{code}' as its version {current.version} is"))
    return Proposal(str(kind), code, _json_ready({**checked.columns, "details": checked.details}),
                    current.version if current is not None and kind != "add" else None, problems, checked.warnings)


def _proposed(kind: Any, code: str, current: CatalogueItem | None, record: Any, changes: Any,
              problems: list[Problem]) -> dict[str, Any] | None:
    """The whole record the application asks for, or None when there is nothing to check."""
    if kind == "add":
        if current is not None:
            problems.append(Problem("itemCode", "adjustment.item-exists",
                                    f"item '{code}' is already in the catalogue (version {current.version}, "
                                    f"{current.status}): apply for a change instead", {"item": code}))
        if not isinstance(record, Mapping) or not record:
            problems.append(Problem("record", "adjustment.record-needed", "a new item needs its whole record"))
            return None
        if record.get("code") not in (None, "", code):
            problems.append(Problem("record.code", "adjustment.code-mismatch",
                                    f"the record's code '{record.get('code')}' is not the item applied for ('{code}')",
                                    {"item": code}))
        return {**record, "code": code}
    if current is None:
        problems.append(Problem("itemCode", "adjustment.item-unknown", f"there is no item '{code}' in the catalogue",
                                {"item": code}))
        return None
    base = catalogue.record(current)
    if kind == "cancel":
        if current.status == "cancelled":
            problems.append(Problem("itemCode", "adjustment.already-cancelled", f"item '{code}' is cancelled already",
                                    {"item": code}))
        return {**base, "status": "cancelled"}
    if kind != "change":
        return None
    if not isinstance(changes, Mapping) or not changes:
        problems.append(Problem("changes", "adjustment.changes-needed", "a change names the fields it changes"))
        return None
    for name in FIXED:
        if name in changes and changes[name] != base[name]:
            problems.append(Problem(f"changes.{name}", "adjustment.fixed-field",
                                    f"a change may not alter '{name}': cancel the item and add a new one",
                                    {"field": name}))
    details = changes.get("details", {})
    if not isinstance(details, Mapping):
        problems.append(Problem("changes.details", "item.details-not-object", "'details' must be an object"))
        details = {}
    merged = {**base, **{k: v for k, v in changes.items() if k != "details"}}
    merged["details"] = {**base["details"], **details}
    return merged


def _json_ready(value: Any) -> Any:
    """Dates as ISO text, so the record travels through process variables and REST unchanged."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


# --- applying -----------------------------------------------------------------------------------------

def apply_adjustment(session: so.Session, business_key: str, code: str, *, record: Mapping[str, Any] | None = None,
                     effective_from: date | None = None, actor: str | None) -> Applied:
    """Save the approved record of adjustment case ``business_key`` as the item's next version, once.

    The case's own variables say what was approved (the checked record, the office's ``approve`` and
    effective date); ``record`` and ``effective_from``, when given, must be those (a worker cannot write
    anything else into the catalogue). The case row is locked first, so a redelivered task waits for the
    first delivery and then gets its version back."""
    instance = session.scalar(sa.select(ProcessInstance).where(ProcessInstance.business_key == business_key,
                                                               ProcessInstance.definition_key == PROCESS_KEY)
                              .with_for_update())
    if instance is None:
        raise NotFound(f"No catalogue adjustment case '{business_key}'", code="adjustment.unknown", key=business_key)
    done = session.scalar(sa.select(AuditEntry).where(AuditEntry.instance_id == instance.id,
                                                      AuditEntry.action == APPLIED).order_by(AuditEntry.id).limit(1))
    if done is not None:
        return _repeated(session, done, code)
    runtime.require_running(instance)
    variables = runtime.instance_variables(runtime.load(session, instance.id).workflow)
    approved, day, base_version = _approved(session, instance, variables, code, record, effective_from)
    current = session.scalar(sa.select(CatalogueItem).where(CatalogueItem.code == code, CatalogueItem.current)
                             .with_for_update())
    if (current.version if current is not None else None) != base_version:
        raise ItemChanged(f"Item '{code}' changed since the application was checked (version "
                          f"{current.version if current else None}, the application was built on {base_version}): "
                          "the department must apply again on the current version", code="adjustment.item-changed",
                          item=code, currentVersion=current.version if current else None, baseVersion=base_version)
    data = _dated(approved, variables.get("kind"), day)
    checked = catalogue.check_item(session, data)
    if checked.problems:
        raise catalogue.invalid(code, checked)
    saved = catalogue.put_checked(session, checked, actor, previous=current)
    audit.record(session, APPLIED, actor=actor, instance_id=instance.id, entity_id=code, details={
        "version": saved.item.version, "written": saved.written, "kind": variables.get("kind"),
        "businessKey": business_key, "effectiveFrom": day.isoformat(),
        "documentNumber": variables.get("documentNumber"), "changed": list(saved.changed)})
    return Applied(saved.item, repeated=False, effective_from=day)


def _repeated(session: so.Session, done: AuditEntry, code: str) -> Applied:
    if done.entity_id != code:
        raise InvalidInput(f"Adjustment case applied to item '{done.entity_id}', not '{code}'",
                           code="adjustment.other-item", item=done.entity_id)
    item = session.scalar(sa.select(CatalogueItem).where(CatalogueItem.code == code,
                                                         CatalogueItem.version == done.details["version"]))
    return Applied(item, repeated=True, effective_from=date.fromisoformat(done.details["effectiveFrom"]))


def _approved(session: so.Session, instance: ProcessInstance, variables: Mapping[str, Any], code: str,
              record: Mapping[str, Any] | None, effective_from: date | None) -> tuple[dict[str, Any], date, int | None]:
    """What the office approved in this case: the record, the day it takes effect (not before today: a version
    never claims to have been effective before it existed) and the version it was built on."""
    waiting = session.scalar(sa.select(ExternalTask.id).where(ExternalTask.instance_id == instance.id,
                                                              ExternalTask.topic == APPLY_TOPIC).limit(1))
    if variables.get("review") != "approve" or waiting is None:
        raise BadUserRequest(f"Adjustment case '{instance.business_key}' is not waiting to take effect: only an "
                             "adjustment the office approved is written into the catalogue",
                             code="adjustment.not-approved", key=instance.business_key)
    approved = variables.get("proposedRecord")
    if not isinstance(approved, dict) or approved.get("code") != code:
        raise InvalidInput(f"Adjustment case '{instance.business_key}' is about item "
                           f"'{(approved or {}).get('code')}', not '{code}'", code="adjustment.other-item", item=code)
    if record is not None and _json_ready(dict(record)) != approved:
        raise InvalidInput("The record differs from the one the office approved in this case",
                           code="adjustment.record-differs", key=instance.business_key)
    try:
        day = date.fromisoformat(str(variables.get("effectiveFrom")))
    except ValueError:
        raise InvalidInput(f"Adjustment case '{instance.business_key}' has no effective date",
                           code="adjustment.no-date") from None
    if effective_from is not None and effective_from != day:
        raise InvalidInput(f"The effective date {effective_from} is not the one the office set ({day})",
                           code="adjustment.date-differs", date=day.isoformat())
    svc = services(session)
    today = svc.today()
    base = variables.get("baseVersion")
    return dict(approved), max(day, today), int(base) if base is not None else None


def _dated(record: dict[str, Any], kind: Any, day: date) -> dict[str, Any]:
    """The record with the office's date: a new or changed version takes applications from ``day``; a
    cancelled item took its last ones the day before (kept only where it does not precede its first day)."""
    data = dict(record)
    if kind == "cancel":
        last = day - timedelta(days=1)
        start = data.get("effective_from")
        if start is None or date.fromisoformat(str(start)) <= last:
            data["effective_to"] = last.isoformat()
        return data
    data["effective_from"] = day.isoformat()
    return data


def applied_version(session: so.Session, instance_id: str) -> int | None:
    """The item version an adjustment case wrote, if it has taken effect."""
    done = session.scalar(sa.select(AuditEntry).where(AuditEntry.instance_id == instance_id,
                                                      AuditEntry.action == APPLIED).limit(1))
    return int(done.details["version"]) if done is not None else None
