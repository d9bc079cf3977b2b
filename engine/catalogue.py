"""The item catalogue (事项清单): versioned items that decide how a case runs.

An item says which process runs it, which form the applicant fills, its legal
and promised limits in working days, the materials it needs, and how it is
decided (on the spot by the chief affairs representative, or by the
department). Every change writes a new version; a case copies the version it
was accepted under into its variables (rule 13), so changing an item never
moves a running case.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit
from .context import services
from .errors import InvalidInput, NotFound
from .models import CatalogueItem, Department

ITEM_TYPES = ("行政许可", "行政确认", "其他行政权力", "一件事")
#: GB/T 39046-2020 case type codes
CASE_TYPES = {"1": "即办件", "2": "承诺件", "9": "其他"}
INSTANT = "1"
#: standard: decided in the approval section; joint (联办件) and escalated (报批件): the
#: representative pre-reviews and the department decides
HANDLING = ("standard", "joint", "escalated")
STATUSES = ("active", "suspended", "cancelled")
#: column fields an item definition may set (the rest goes to ``details``)
_COLUMNS = ("name", "department", "item_type", "case_type", "legal_limit_days", "promised_limit_days",
            "accepted_on_receipt", "written_review_only", "site_survey", "site_survey_suspends_clock",
            "handling", "process_key", "form_key", "status")
_REQUIRED = ("code", "name", "department", "item_type", "case_type", "legal_limit_days", "promised_limit_days",
             "process_key", "form_key")


def _problems(data: dict[str, Any], known_departments: set[str]) -> list[str]:
    """Everything wrong with an item definition, so one answer lists it all."""
    problems = [f"'{name}' is required" for name in _REQUIRED if data.get(name) in (None, "")]
    if problems:
        return problems
    for name in ("legal_limit_days", "promised_limit_days"):
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
            problems.append(f"'{name}' must be a whole number of working days from 0 to 3650, got {value!r}")
    if not problems and data["promised_limit_days"] > data["legal_limit_days"]:
        problems.append(f"the promised limit ({data['promised_limit_days']}) may not exceed the legal limit "
                        f"({data['legal_limit_days']})")
    if data["case_type"] not in CASE_TYPES:
        problems.append(f"'case_type' must be one of {', '.join(CASE_TYPES)} (GB/T 39046-2020), got {data['case_type']!r}")
    elif data["case_type"] == INSTANT and data.get("promised_limit_days") != 0:
        problems.append("an instant item (即办件) has promised limit 0")
    if data["item_type"] not in ITEM_TYPES:
        problems.append(f"'item_type' must be one of {', '.join(ITEM_TYPES)}, got {data['item_type']!r}")
    if data.get("handling", "standard") not in HANDLING:
        problems.append(f"'handling' must be one of {', '.join(HANDLING)}, got {data.get('handling')!r}")
    if data.get("status", "active") not in STATUSES:
        problems.append(f"'status' must be one of {', '.join(STATUSES)}, got {data.get('status')!r}")
    if data["department"] not in known_departments:
        problems.append(f"department '{data['department']}' does not exist")
    if data.get("site_survey_suspends_clock") and not data.get("site_survey"):
        problems.append("'site_survey_suspends_clock' needs 'site_survey'")
    if data.get("site_survey_suspends_clock") and not data.get("details", {}).get("site_survey_basis"):
        problems.append("an item whose site survey stops the clock names the rule that says so "
                        "('details.site_survey_basis')")
    problems += _material_problems(data.get("details", {}).get("materials", []))
    return problems


def _material_problems(materials: Any) -> list[str]:
    if not isinstance(materials, list):
        return ["'details.materials' must be a list"]
    problems = []
    entries = [m for m in materials if isinstance(m, dict)]
    named = all(isinstance(m.get(k), str) and m.get(k) for m in entries for k in ("code", "name"))
    codes = [m.get("code") for m in entries]
    if len(entries) != len(materials) or not named:
        problems.append("every material needs a 'code' and a 'name'")
    elif len(set(codes)) != len(codes):
        problems.append("material codes must be unique within an item")
    return problems


def put_item(session: so.Session, data: dict[str, Any], actor: str | None) -> CatalogueItem:
    """Store an item definition as its next version; an unchanged definition writes nothing."""
    known = set(session.scalars(sa.select(Department.code)))
    problems = _problems(data, known)
    if problems:
        raise InvalidInput(f"Item '{data.get('code', '?')}' is not valid: " + "; ".join(problems))
    previous = current_version(session, data["code"])
    fields = {name: data[name] for name in _COLUMNS if name in data}
    details = data.get("details", {})
    if previous is not None and _same(previous, fields, details):
        return previous
    if previous is not None:
        previous.current = False
        session.flush()
    item = CatalogueItem(code=data["code"], version=(previous.version + 1) if previous else 1, current=True,
                         details=details, created_at=services(session).clock.now(), created_by=actor, **fields)
    session.add(item)
    session.flush()
    audit.record(session, "catalogue-item-saved", actor=actor, entity_id=item.code,
                 details={"version": item.version})
    return item


def _same(item: CatalogueItem, fields: dict[str, Any], details: dict[str, Any]) -> bool:
    return item.details == details and all(getattr(item, name) == value for name, value in fields.items())


def current_version(session: so.Session, code: str) -> CatalogueItem | None:
    return session.scalar(sa.select(CatalogueItem).where(CatalogueItem.code == code, CatalogueItem.current))


def active_item(session: so.Session, code: str) -> CatalogueItem:
    """The version new cases start under; suspended and cancelled items take no cases."""
    item = current_version(session, code)
    if item is None:
        raise NotFound(f"No catalogue item with code '{code}'", code="item.unknown", item=code)
    if item.status != "active":
        raise InvalidInput(f"Item '{code}' ({item.name}) is {item.status} and takes no new applications",
                           code="item.closed", item=item.name)
    return item


def items(session: so.Session, department: str | None = None) -> list[CatalogueItem]:
    stmt = sa.select(CatalogueItem).where(CatalogueItem.current).order_by(CatalogueItem.department,
                                                                          CatalogueItem.code)
    if department:
        stmt = stmt.where(CatalogueItem.department == department)
    return list(session.scalars(stmt))


def materials(item: CatalogueItem) -> list[dict[str, Any]]:
    return list(item.details.get("materials", []))


def case_variables(item: CatalogueItem) -> dict[str, Any]:
    """The item version a case runs under, as process variables (Camunda camelCase)."""
    return {
        "itemCode": item.code, "itemVersion": item.version, "itemName": item.name,
        "department": item.department, "itemType": item.item_type, "caseType": item.case_type,
        "instant": item.case_type == INSTANT,
        "legalLimitDays": item.legal_limit_days, "promisedLimitDays": item.promised_limit_days,
        "acceptedOnReceipt": item.accepted_on_receipt or item.case_type == INSTANT,
        "writtenReviewOnly": item.written_review_only, "siteSurvey": item.site_survey,
        "siteSurveySuspendsClock": item.site_survey_suspends_clock,
        "siteSurveyLimitDays": int(item.details.get("site_survey_limit_days", 5)),
        "siteSurveyBasis": item.details.get("site_survey_basis", ""),
        "handling": item.handling, "jointHandling": item.handling == "joint",
        "certificateName": item.details.get("certificate_name", item.name),
        "requiredMaterials": materials(item),
    }


def load_file(session: so.Session, path: Path, actor: str | None) -> list[CatalogueItem]:
    """Load a JSON list of item definitions; items whose definition is unchanged keep their version."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read the catalogue file: {exc}") from None
    if not isinstance(entries, list):
        raise InvalidInput(f"{path}: a catalogue file is a JSON list of items")
    return [put_item(session, entry, actor) for entry in entries]

