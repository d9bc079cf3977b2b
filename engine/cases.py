"""Starting a case (办件): one application for one catalogue item, or for a bundled 一件事.

Rule 1: every application comes in at the comprehensive window (a window
clerk) or online (the portal); a department never receives directly. The
application is validated against the item's form, a case number is taken
from the engine's sequence (it is the business key, known at once for the
acceptance receipt), and the item version is copied into the case's
variables, so later catalogue changes never move it (rule 13). An item whose department has not
confirmed it as handled in the center (入驻事项确认书, ``engine.entry_confirmations``) is not received
there at all: the refusal comes before a case number is taken.
"""
from __future__ import annotations

import re

from datetime import date
from typing import Any, Iterable

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from . import authorizations, catalogue, entry_confirmations, indicators, runtime
from . import materials as received_files
from .context import services
from .db import is_postgres
from .deploy import latest_definition
from .errors import BadUserRequest, Forbidden, InvalidInput
from .identity import CENTER
from .models import CaseSequence, CatalogueItem, ProcessInstance

CHANNELS = {"window": ("window-clerk",), "online": ("portal",)}
BUNDLE = "一件事"


def start_case(session: so.Session, item_code: str, application: dict[str, Any], *, channel: str,
               actor: str, actor_groups: Iterable[str], materials: list[dict[str, Any]] | None = None
               ) -> ProcessInstance:
    """Receive an application and start the item's process; the instance's business key is the case number."""
    _require_channel(channel, actor_groups)
    item = catalogue.active_item(session, item_code)
    entry_confirmations.require_entered(session, item.code)  # rule 1: every item is handled at the center
    if channel == "window":  # window staff receive under the center's written authorization (rule 9)
        authorizations.require(session, actor, department=CENTER, item_code=item.code, power="receive")
    if materials is not None:
        application = {**application, "materials": materials}
    services(session).forms.validate(item.form_key, application)
    application = dict(application)
    materials = application.pop("materials", [])
    received_files.require_received(session, materials)
    variables = _case_variables(session, item)
    number = next_case_number(session, item.department)
    variables.update({
        "caseNumber": number, "application": application, "applicant": _applicant(application),
        "submittedMaterials": materials, "channel": channel, "receivedBy": actor,
        "receivedAt": services(session).clock.now().astimezone(services(session).tz).isoformat(timespec="seconds"),
    })
    instance = runtime.start_instance(session, item.process_key, business_key=number, variables=variables,
                                      actor=actor)
    instance.item_code, instance.item_name, instance.department = item.code, item.name, item.department
    instance.applicant_name = (variables["applicant"].get("applicantName") or None)
    received_files.attach(session, instance.id, materials)  # the files this command stored become the case's
    indicators.count_receipt(session, instance, channel=channel, case_type=item.case_type)
    return instance


def refuse_direct_start(session: so.Session, key: str, business_key: str | None = None) -> None:
    """The catalogue's processes (and the processes they call) start only through ``start_case``:
    a generic start would skip the application form, the window's authorization, the case number
    and the item snapshot the case runs under. Nor may any other process take a case number (办件编号) as its
    business key: the engine gives those out at receipt, and a page that shows case K shows K's files."""
    if key in case_process_keys(session):
        raise BadUserRequest(f"'{key}' runs cases of the item catalogue: receive them with POST /engine-rest/case "
                             "(the window or the portal), not by starting the process directly")
    refuse_case_number(session, business_key)


def refuse_case_number(session: so.Session, business_key: str | None) -> None:
    """Only ``start_case`` gives out case numbers: a process started any other way may not take one as its
    business key, so case K's page and files are always case K's."""
    if business_key is not None and is_case_number(session, business_key):
        raise BadUserRequest(f"'{business_key}' has the form of a case number (办件编号); the engine gives case numbers "
                             "out when a case is received, so another process may not take one",
                             code="instance.case-number", key=business_key)


def is_case_number(session: so.Session, business_key: str) -> bool:
    """Does the key have the form ``next_case_number`` gives: <prefix>-<DEPARTMENT>-<yyyymmdd>-<nnnn>?"""
    prefix = re.escape(services(session).settings.case_number_prefix)
    return re.fullmatch(rf"{prefix}-[A-Z0-9-]+-\d{{8}}-\d{{4,}}", business_key) is not None


def case_process_keys(session: so.Session) -> set[str]:
    keys = set(session.scalars(sa.select(CatalogueItem.process_key).distinct()))
    for key in list(keys):
        definition = latest_definition(session, key)
        if definition is not None:
            keys |= {d.key for d in runtime.resolve_called_definitions(session, definition)}
    return keys


def instance_id_of(session: so.Session, business_key: str) -> str | None:
    """The instance that runs the case with this number (case numbers are unique), if there is one."""
    return session.scalar(sa.select(ProcessInstance.id).where(ProcessInstance.business_key == business_key).limit(1))


def _require_channel(channel: str, groups: Iterable[str]) -> None:
    if channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    if not set(groups) & {*CHANNELS[channel], "admin"}:
        raise Forbidden("Applications are received at the comprehensive window (综合窗口) or online only; "
                        f"receiving on the '{channel}' channel needs the role {' or '.join(CHANNELS[channel])}",
                        code="receive.window-only")


def _applicant(application: dict[str, Any]) -> dict[str, Any]:
    """The applicant's name and contacts, for notices and the inbox (the form keeps the rest)."""
    keys = ("applicantName", "applicantType", "idNumber", "phone", "email", "address")
    return {k: application[k] for k in keys if k in application}


def _case_variables(session: so.Session, item: CatalogueItem) -> dict[str, Any]:
    settings = services(session).settings
    variables = catalogue.case_variables(item)
    variables.update({
        "delegatedToChief": _delegated(session, item),
        "bundleRefused": False, "supplementReceivedAt": None, "ratingWaitDays": settings.rating_wait_days,
        "ratingDefault": settings.rating_default, "badRatingFixDays": settings.bad_rating_fix_days,
    })
    if item.item_type == BUNDLE:
        variables["bundleItems"] = _bundle_members(session, item)
    else:  # the decision path reads bundleItem to tell a bundle member from a single case
        variables["bundleItem"] = None
    return variables


def _bundle_members(session: so.Session, item: CatalogueItem) -> list[dict[str, Any]]:
    codes = item.details.get("bundle_items") or []
    if len(codes) < 2:
        raise InvalidInput(f"一件事 '{item.code}' lists fewer than two member items (details.bundle_items)")
    members = []
    for code in codes:
        member = catalogue.active_item(session, code)
        entry_confirmations.require_entered(session, member.code)  # each department's part is handled here too
        entry = catalogue.case_variables(member)
        entry["delegatedToChief"] = _delegated(session, member)
        members.append(entry)
    return members


def _delegated(session: so.Session, item: CatalogueItem) -> bool:
    """Is the item in a chief affairs representative's delegated list today (routing; the decision itself
    is checked again against the letters when it is made)?"""
    return bool(authorizations.holders(session, item.department, "decide", item_code=item.code,
                                       kind=authorizations.CHIEF))


def next_case_number(session: so.Session, department: str) -> str:
    """QP-<DEPARTMENT>-<yyyymmdd>-<nnnn>, unique under concurrency: the day's row is created if missing
    (a concurrent creator is ignored, not an error) and incremented with UPDATE … RETURNING, which
    locks the row until the receiving transaction ends."""
    svc = services(session)
    today: date = svc.today()
    insert = postgresql_insert if is_postgres(session) else sqlite_insert
    session.execute(insert(CaseSequence).values(department=department, day=today, last=0)
                    .on_conflict_do_nothing(index_elements=["department", "day"]))
    number = session.execute(sa.update(CaseSequence)
                             .where(CaseSequence.department == department, CaseSequence.day == today)
                             .values(last=CaseSequence.last + 1).returning(CaseSequence.last)).scalar_one()
    return f"{svc.settings.case_number_prefix}-{department.upper()}-{today:%Y%m%d}-{number:04d}"
