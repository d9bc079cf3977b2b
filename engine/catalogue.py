"""The item catalogue (事项清单): versioned items that decide how a case runs.

An item says which process runs it, which form the applicant fills, its legal
and promised limits in working days, the materials it needs, and how it is
decided (on the spot by the chief affairs representative, or by the
department). Every change writes a new version; a case copies the version it
was accepted under into its variables (rule 13), so changing an item never
moves a running case. What a valid item is, and its one canonical form, is
``engine.catalogue_fields``; the code sets are ``engine.codesets``; the catalogue
as a CSV or Excel sheet is ``engine.catalogue_io``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import audit, codesets
from .catalogue_fields import COLUMNS, Checked, Context, check
from .context import services
from .errors import InvalidInput, NotFound
from .models import CatalogueItem, Department, ProcessDefinition

#: the code sets as the pages and REST read them (engine.codesets has the codes and names)
ITEM_TYPES = tuple(codesets.ITEM_TYPES.names())
CASE_TYPES = dict(codesets.CASE_TYPES.entries)
INSTANT = codesets.INSTANT
HANDLING = tuple(codesets.HANDLING)
STATUSES = tuple(codesets.STATUSES)


@dataclass(frozen=True)
class Saved:
    """The version a definition is stored as, and whether saving it wrote that version."""

    item: CatalogueItem
    written: bool
    #: the fields that differ from the version before (empty for a new item or an unchanged one)
    changed: tuple[str, ...] = ()


def check_context(session: so.Session) -> Context:
    """What the checks look up in the database and the forms directory, read once."""
    from .forms import FormRegistry

    svc = services(session)
    forms = svc.forms or FormRegistry(svc.settings.forms_dir)
    departments = frozenset(session.scalars(sa.select(Department.code)))
    deployed = frozenset(session.scalars(sa.select(ProcessDefinition.key).distinct()))
    return Context(departments=departments, form_exists=forms.has, process_deployed=deployed.__contains__,
                   item_exists=lambda code: current_version(session, code) is not None)


def check_item(session: so.Session, data: dict[str, Any], context: Context | None = None) -> Checked:
    """An item definition in canonical form, with every problem and warning (nothing is written)."""
    return check(data, context or check_context(session))


def put_item(session: so.Session, data: dict[str, Any], actor: str | None, *,
             context: Context | None = None) -> CatalogueItem:
    """Store an item definition as its next version; an unchanged definition writes nothing.

    A definition with problems is refused as a whole: ``InvalidInput`` with code ``item.invalid``,
    the item's code and every problem (field, code, params, message) in ``params["problems"]``."""
    checked = check_item(session, data, context)
    if checked.problems:
        raise invalid(data.get("code"), checked)
    return put_checked(session, checked, actor).item


def invalid(code: Any, checked: Checked) -> InvalidInput:
    shown = code if isinstance(code, str) and code else "?"
    return InvalidInput(f"Item '{shown}' is not valid: " + "; ".join(p.message for p in checked.problems),
                        code="item.invalid", item=shown, problems=[p.as_dict() for p in checked.problems])


_LOOK_UP: Any = object()


def put_checked(session: so.Session, checked: Checked, actor: str | None, *,
                previous: CatalogueItem | None = _LOOK_UP) -> Saved:
    """Store a definition ``check_item`` found no problem with; ``previous`` is its current version if the
    caller read it already (``current_versions``), else it is looked up."""
    if checked.problems:
        raise invalid(checked.columns.get("code"), checked)
    fields = dict(checked.columns)
    code = fields.pop("code")
    if previous is _LOOK_UP:
        previous = current_version(session, code)
    if previous is not None:
        changed = differences(previous, checked)
        if not changed:
            return Saved(previous, written=False)
        previous.current = False
        session.flush()
    else:
        changed = ()
    item = CatalogueItem(code=code, version=(previous.version + 1) if previous else 1, current=True,
                         details=checked.details, created_at=services(session).clock.now(), created_by=actor,
                         **fields)
    session.add(item)
    session.flush()
    audit.record(session, "catalogue-item-saved", actor=actor, entity_id=item.code,
                 details={"version": item.version, "changed": list(changed)})
    return Saved(item, written=True, changed=changed)


def differences(item: CatalogueItem, checked: Checked) -> tuple[str, ...]:
    """The fields in which a checked definition differs from a stored version (none: saving it writes nothing)."""
    changed = tuple(name for name, value in checked.columns.items() if getattr(item, name) != value)
    return changed + tuple(sorted(k for k in {*item.details, *checked.details}
                                  if item.details.get(k) != checked.details.get(k)))


def current_versions(session: so.Session, codes: list[str]) -> dict[str, CatalogueItem]:
    """The current versions of many items at once (an import reads thousands)."""
    found: dict[str, CatalogueItem] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        found.update((i.code, i) for i in session.scalars(
            sa.select(CatalogueItem).where(CatalogueItem.current, CatalogueItem.code.in_(chunk))))
    return found


def record(item: CatalogueItem) -> dict[str, Any]:
    """The definition an item version was saved from (its canonical form): ``put_item`` of it writes nothing."""
    data = {name: getattr(item, name) for name in COLUMNS}
    data["details"] = dict(item.details or {})
    return data


def current_version(session: so.Session, code: str) -> CatalogueItem | None:
    return session.scalar(sa.select(CatalogueItem).where(CatalogueItem.code == code, CatalogueItem.current))


def active_item(session: so.Session, code: str) -> CatalogueItem:
    """The version new cases start under; suspended and cancelled items take no cases, nor does an item
    before its first or after its last effective day (the center's local date)."""
    item = current_version(session, code)
    if item is None:
        raise NotFound(f"No catalogue item with code '{code}'", code="item.unknown", item=code)
    if item.status != "active":
        raise InvalidInput(f"Item '{code}' ({item.name}) is {item.status} and takes no new applications",
                           code="item.closed", item=item.name)
    svc = services(session)
    today = svc.today()
    if item.effective_from is not None and today < item.effective_from:
        raise InvalidInput(f"Item '{code}' ({item.name}) takes applications from {item.effective_from}",
                           code="item.not-yet-effective", item=item.name, date=item.effective_from.isoformat())
    if item.effective_to is not None and today > item.effective_to:
        raise InvalidInput(f"Item '{code}' ({item.name}) took its last applications on {item.effective_to}",
                           code="item.no-longer-effective", item=item.name, date=item.effective_to.isoformat())
    return item


def items(session: so.Session, department: str | None = None) -> list[CatalogueItem]:
    stmt = sa.select(CatalogueItem).where(CatalogueItem.current).order_by(CatalogueItem.department,
                                                                          CatalogueItem.code)
    if department:
        stmt = stmt.where(CatalogueItem.department == department)
    return list(session.scalars(stmt))


def versions(session: so.Session, code: str | None = None) -> list[CatalogueItem]:
    """Every version kept (of one item, or of all), oldest first: the catalogue's history."""
    stmt = sa.select(CatalogueItem).order_by(CatalogueItem.code, CatalogueItem.version)
    if code is not None:
        stmt = stmt.where(CatalogueItem.code == code)
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
    context = check_context(session)
    return [put_item(session, entry, actor, context=context) for entry in entries]

