"""One-source publication (同源发布): the one record of an item every channel renders.

Rule 14 says one record publishes to every channel with identical content and version. So the
window's receive page, the public JSON API (``api/public.py``: the 一网通办 portal, the mobile app,
self-service terminals) and the public service-guide pages (办事指南) all show what ``guide_of``
builds from the current version of a catalogue item — nothing is read from the catalogue row a
second way. A ``Guide`` is plain JSON-ready data plus its ``revision``: a hash of the record's
canonical JSON, so any change of the record (a new version, a renamed department, a changed form
title, the day an item stops taking applications) gives a new tag, and an unchanged record keeps
its tag on every node and after every restart (the HTTP layer uses it as a strong ETag).

What is published: every field of the national basic catalogue the engine keeps
(``engine.catalogue_fields``), coded values as ``{"code", "name"}`` with the Chinese name from
``engine.codesets``, limits in working days (the engine's only unit), and the application form's key
and title. Not published (``INTERNAL``): the process that runs the item and whether the chief affairs
representative may decide it alone — how the center works inside, not what an applicant needs.

Which items: the current version only. Active and suspended items are published, a suspended one
with its status and ``acceptsApplications`` false, because an applicant at a terminal should read
"暂停办理" rather than "no such item". A cancelled item is withdrawn: it is not listed and its guide
is ``NotFound`` (code ``item.unknown``, as for a code that never existed), so an old guide cannot
mislead anyone into applying. ``acceptsApplications`` also follows the effective dates, on the
center's local date, the same test ``engine.catalogue.active_item`` applies when a case starts.

No Flask here: the API and the pages shape HTTP; this module only reads, in the caller's session.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import catalogue, codesets
from .codesets import CodeSet
from .context import services
from .errors import InvalidInput, NotFound
from .models import CatalogueItem, Department

#: statuses whose items are published (a cancelled item is withdrawn from every channel)
PUBLISHED = ("active", "suspended")
#: catalogue fields that say how the center works inside, not what an applicant needs to know
INTERNAL = frozenset({"process_key", "written_review_only"})
#: each public catalogue field → the key of the record that publishes it (a test checks none is missed)
FIELD_KEYS: dict[str, str] = {
    "code": "code", "basic_code": "basicCode", "name": "name", "department": "department",
    "item_type": "itemType", "case_type": "caseType", "legal_limit_days": "legalLimitDays",
    "promised_limit_days": "promisedLimitDays", "accepted_on_receipt": "acceptedOnReceipt",
    "site_survey": "siteSurvey", "site_survey_suspends_clock": "siteSurveySuspendsClock",
    "handling": "handling", "form_key": "form", "status": "status", "effective_from": "effectiveFrom",
    "effective_to": "effectiveTo", "legal_basis": "legalBasis", "acceptance_conditions": "acceptanceConditions",
    "implementing_body_credit_code": "implementingBodyCreditCode", "joint_departments": "jointDepartments",
    "fees": "fees", "handling_forms": "handlingForms", "place": "place", "hours": "hours",
    "online_depth": "onlineDepth", "visits": "visits", "channels": "channels",
    "certificate_name": "certificateName", "site_survey_limit_days": "siteSurveyLimitDays",
    "site_survey_basis": "siteSurveyBasis", "expert_review": "expertReview", "bundle_items": "bundleItems",
    "materials": "materials",
}
#: the keys of a list entry (``Guide.summary``): enough to choose an item, with its revision
SUMMARY_KEYS = ("code", "name", "version", "revision", "status", "acceptsApplications", "itemType", "caseType",
                "instant", "department", "legalLimitDays", "promisedLimitDays", "onlineDepth", "visits")


@dataclass(frozen=True)
class Guide:
    """The published record of one item version (JSON-ready; treat it as read-only) and its revision."""

    record: dict[str, Any]
    revision: str

    @property
    def code(self) -> str:
        return self.record["code"]

    @property
    def name(self) -> str:
        return self.record["name"]

    @property
    def form_key(self) -> str:
        return self.record["form"]["key"]

    @property
    def form_title(self) -> str | None:
        return self.record["form"]["title"]

    @property
    def materials(self) -> list[dict[str, Any]]:
        """The required materials as every channel lists them: code, name, form, copies, mandatory,
        shared (obtainable from shared data, so the applicant need not submit it: 两个免于提交)."""
        return self.record["materials"]

    def summary(self) -> dict[str, Any]:
        """The list entry of the item: a subset of the same record, so a list never disagrees with a guide."""
        return {key: self.record[key] for key in SUMMARY_KEYS}


def canonical_json(data: Any) -> bytes:
    """One byte string per value (sorted keys, no spaces, UTF-8): what a revision is the hash of."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def revision_of(data: Any) -> str:
    """A tag that changes whenever ``data`` changes: 128 bits of SHA-256 of its canonical JSON."""
    return hashlib.sha256(canonical_json(data)).hexdigest()[:32]


def guide(session: so.Session, code: str) -> Guide:
    """The published guide of an item's current version; ``NotFound`` (code ``item.unknown``) for a code
    not in the catalogue or an item cancelled (withdrawn from publication)."""
    item = catalogue.current_version(session, code)
    if item is None or item.status not in PUBLISHED:
        raise NotFound(f"No published catalogue item with code '{code}'", code="item.unknown", item=code)
    return guide_of(session, item)


def guide_of(session: so.Session, item: CatalogueItem) -> Guide:
    """The guide of an item version the caller already holds (the window page read it with
    ``catalogue.active_item``, which refuses closed items in the clerk's words)."""
    return _Lookups.read(session, [item]).guide(item)


def guides(session: so.Session, department: str | None = None, query: str | None = None,
           item_type: str | None = None) -> list[Guide]:
    """The published guides, in a stable order (department code, then item code).

    ``department`` is a department code; ``query`` matches, ignoring case, the item's name, code or
    basic code, or its department's name; ``item_type`` is a type's code or name (``InvalidInput``,
    code ``item.bad-type``, for anything else: a typo should not look like an empty catalogue)."""
    type_name = None
    if item_type:
        type_code = codesets.ITEM_TYPES.code_of(item_type)
        if type_code is None:
            raise InvalidInput(f"Item type must be one of {codesets.ITEM_TYPES.describe()}, got {item_type!r}",
                               code="item.bad-type", value=item_type, allowed=codesets.ITEM_TYPES.describe())
        type_name = codesets.ITEM_TYPES.name(type_code)
    found = [i for i in catalogue.items(session, department or None)
             if i.status in PUBLISHED and (type_name is None or i.item_type == type_name)]
    lookups = _Lookups.read(session, found)
    needle = (query or "").strip().casefold()
    if needle:
        found = [i for i in found
                 if any(needle in (text or "").casefold()
                        for text in (i.name, i.code, i.basic_code, lookups.departments.get(i.department)))]
    return [lookups.guide(item) for item in found]


def departments(session: so.Session) -> list[dict[str, Any]]:
    """Every department with the number of items it publishes, by code: what a portal's filter offers."""
    counts = dict(session.execute(
        sa.select(CatalogueItem.department, sa.func.count()).where(CatalogueItem.current,
                                                                   CatalogueItem.status.in_(PUBLISHED))
        .group_by(CatalogueItem.department)).all())
    return [{"code": d.code, "name": d.name, "items": counts.get(d.code, 0)}
            for d in session.scalars(sa.select(Department).order_by(Department.code))]


def accepts_applications(item: CatalogueItem, today: date) -> bool:
    """Whether a case can start under the item today: the test of ``catalogue.active_item``, without raising."""
    return (item.status == "active" and (item.effective_from is None or item.effective_from <= today)
            and (item.effective_to is None or today <= item.effective_to))


@dataclass(frozen=True)
class _Lookups:
    """What a record needs beyond its row, read once for a whole list."""

    departments: dict[str, str]
    item_names: dict[str, str]
    form_title: Callable[[str], str | None]
    today: date

    @classmethod
    def read(cls, session: so.Session, found: Iterable[CatalogueItem]) -> "_Lookups":
        svc = services(session)
        members = sorted({code for item in found for code in (item.details or {}).get("bundle_items") or ()})
        names = {code: item.name for code, item in catalogue.current_versions(session, members).items()
                 if item.status in PUBLISHED} if members else {}
        return cls(departments=dict(session.execute(sa.select(Department.code, Department.name)).all()),
                   item_names=names, form_title=lambda key: _form_title(svc.forms, key),
                   today=svc.today())

    def guide(self, item: CatalogueItem) -> Guide:
        record = self.record(item)
        revision = revision_of(record)
        return Guide({**record, "revision": revision}, revision)

    def record(self, item: CatalogueItem) -> dict[str, Any]:
        details = item.details or {}
        instant = item.case_type == codesets.INSTANT
        return {
            "code": item.code,
            # the item's code here *is* its implementation code (实施编码); both names are published
            "implementationCode": item.code,
            "basicCode": item.basic_code,
            "name": item.name,
            "version": item.version,
            "publishedAt": item.created_at.isoformat() if item.created_at else None,
            "status": _coded(codesets.STATUSES, item.status),
            "acceptsApplications": accepts_applications(item, self.today),
            # the item type is stored by its name (engine.catalogue_fields): publish its code as well
            "itemType": _coded(codesets.ITEM_TYPES, codesets.ITEM_TYPES.code_of(item.item_type) or item.item_type),
            "caseType": _coded(codesets.CASE_TYPES, item.case_type),
            "instant": instant,
            "department": {"code": item.department, "name": self.departments.get(item.department, item.department)},
            "implementingBodyCreditCode": details.get("implementing_body_credit_code"),
            "jointDepartments": [self._department(text) for text in details.get("joint_departments") or ()],
            "handling": _coded(codesets.HANDLING, item.handling),
            "legalBasis": details.get("legal_basis"),
            "acceptanceConditions": details.get("acceptance_conditions"),
            "limitUnit": "working-day",
            "legalLimitDays": item.legal_limit_days,
            "promisedLimitDays": item.promised_limit_days,
            # as the case runs it (catalogue.case_variables): an instant item is accepted on receipt
            "acceptedOnReceipt": bool(item.accepted_on_receipt or instant),
            "siteSurvey": bool(item.site_survey),
            "siteSurveySuspendsClock": bool(item.site_survey_suspends_clock),
            "siteSurveyLimitDays": details.get("site_survey_limit_days"),
            "siteSurveyBasis": details.get("site_survey_basis"),
            "expertReview": details.get("expert_review"),
            "fees": details.get("fees"),
            "place": details.get("place"),
            "hours": details.get("hours"),
            "handlingForms": [_coded(codesets.HANDLING_FORMS, c) for c in details.get("handling_forms") or ()],
            "onlineDepth": _coded(codesets.ONLINE_DEPTHS, details.get("online_depth")),
            "visits": details.get("visits"),
            "channels": [_coded(codesets.CHANNELS, c) for c in details.get("channels") or ()],
            "certificateName": details.get("certificate_name"),
            "bundleItems": [{"code": code, "name": self.item_names.get(code)}
                            for code in details.get("bundle_items") or ()],
            "materials": [_material(m) for m in catalogue.materials(item)],
            "form": {"key": item.form_key, "title": self.form_title(item.form_key)},
            "effectiveFrom": item.effective_from.isoformat() if item.effective_from else None,
            "effectiveTo": item.effective_to.isoformat() if item.effective_to else None,
        }

    def _department(self, text: str) -> dict[str, Any]:
        """A joint department as the catalogue names it: a department code of ours, or a name of a body
        outside the center (区绿化和市容管理局 has no department row here)."""
        if text in self.departments:
            return {"code": text, "name": self.departments[text]}
        return {"code": None, "name": text}


def _coded(codeset: CodeSet, code: str | None) -> dict[str, str] | None:
    return None if code is None else {"code": code, "name": codeset.name(code)}


def _material(entry: dict[str, Any]) -> dict[str, Any]:
    """A required material with every key present (old versions saved before a default existed included)."""
    return {"code": entry["code"], "name": entry["name"], "form": _coded(codesets.MATERIAL_FORMS, entry.get("form")),
            "copies": entry.get("copies", 1), "mandatory": entry.get("mandatory", True),
            "shared": entry.get("shared", False)}


def _form_title(forms: Any, key: str) -> str | None:
    """The application form's title; None if its file has gone since the item was saved (the guide is still
    published: the window refuses the application when it cannot load the form)."""
    if forms is None:
        return None
    try:
        return forms.get(key).title
    except NotFound:
        return None
