"""The catalogue's problems with an item record in the reader's language.

``engine.catalogue_fields`` and ``engine.catalogue_adjustments`` report each problem with the field, a stable
code, values and an English sentence; the department correcting an adjustment, the administrator reading an
import report and the pages read Chinese. A code without a template here keeps the engine's sentence, so a
new check is never silent, only untranslated.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from flask_babel import gettext as _

Template = Callable[[Mapping[str, Any]], str]


def field_labels() -> dict[str, str]:
    """The catalogue's fields as the national catalogue names them."""
    return {
        "code": _("Implementation code"), "basic_code": _("Basic code"), "name": _("Item name"),
        "department": _("Implementing department"), "item_type": _("Item type"), "case_type": _("Case type"),
        "legal_limit_days": _("Legal limit (working days)"), "promised_limit_days": _("Promised limit (working days)"),
        "accepted_on_receipt": _("Accepted on receipt"), "written_review_only": _("Written review only"),
        "site_survey": _("Site survey may be needed"), "site_survey_suspends_clock": _("Site survey stops the clock"),
        "handling": _("Handling"), "process_key": _("Process"), "form_key": _("Application form"),
        "status": _("Status"), "effective_from": _("Effective from"), "effective_to": _("Effective until"),
        "legal_basis": _("Legal basis"), "acceptance_conditions": _("Acceptance conditions"),
        "implementing_body_credit_code": _("Credit code of the implementing body"),
        "joint_departments": _("Joint departments"), "fees": _("Fees"), "handling_forms": _("Handling forms"),
        "place": _("Place"), "hours": _("Hours"), "online_depth": _("Online handling depth"),
        "visits": _("Visits to the center"), "channels": _("Channels"), "certificate_name": _("Certificate"),
        "site_survey_limit_days": _("Site survey limit (working days)"), "site_survey_basis": _("Site survey basis"),
        "expert_review": _("Expert review"), "bundle_items": _("Items of the bundle"), "materials": _("Materials"),
    }


def field_label(where: str) -> str:
    """A problem's field (``details.fees``, ``materials.2.name``, ``changes.code``) as a reader names it."""
    labels = field_labels()
    parts = [p for p in where.split(".") if p not in ("details", "changes", "record")]
    return " · ".join(labels.get(p, p) for p in parts) or where


def _templates() -> dict[str, Template]:
    return {
        "item.required": lambda p: _("%(field)s is required.", **p),
        "item.unknown-field": lambda p: _("%(field)s is not a field of a catalogue item.", **p),
        "item.details-not-object": lambda p: _("The details must be an object of fields and values."),
        "item.not-text": lambda p: _("%(field)s must be text.", **p),
        "item.too-long": lambda p: _("%(field)s may be at most %(maximum)s characters; it has %(length)s.", **p),
        "item.bad-code-text": lambda p: _("%(field)s may not contain spaces.", **p),
        "item.bad-credit-code": lambda p: _("%(field)s must be a unified social credit code of 18 digits or capital "
                                            "letters.", **p),
        "item.not-in-code-set": lambda p: _("%(field)s must be one of %(allowed)s; %(value)s is not.", **p),
        "item.not-list": lambda p: _("%(field)s must be a list.", **p),
        "item.bad-number": lambda p: _("%(field)s must be a whole number from %(minimum)s to %(maximum)s; %(value)s "
                                       "is not.", **p),
        "item.bad-yes-no": lambda p: _("%(field)s must be yes or no; %(value)s is neither.", **p),
        "item.bad-date": lambda p: _("%(field)s must be a date like 2026-01-01; %(value)s is not.", **p),
        "item.promised-over-legal": lambda p: _("The promised limit (%(promised)s working days) may not exceed the "
                                                "legal limit (%(legal)s working days).", **p),
        "item.instant-not-zero": lambda p: _("An instant item (即办件) promises 0 working days, not %(promised)s.", **p),
        "item.promised-zero": lambda p: _("A promised item (承诺件) that promises 0 working days is decided on the "
                                          "spot: should it be an instant item (即办件)?"),
        "item.dates-reversed": lambda p: _("The item stops being effective (%(end)s) before it starts (%(start)s).",
                                           **p),
        "item.survey-clock-without-survey": lambda p: _("A site survey can stop the clock only for an item that may "
                                                        "need a site survey."),
        "item.survey-basis-needed": lambda p: _("An item whose site survey stops the clock names the rule that says "
                                                "so (site survey basis)."),
        "item.visits-online": lambda p: _("An item handled fully online needs no visit to the center, not "
                                          "%(visits)s.", **p),
        "item.unknown-department": lambda p: _("There is no department %(department)s.", **p),
        "item.unknown-form": lambda p: _("There is no application form %(form)s in forms/.", **p),
        "item.process-not-deployed": lambda p: _("No process %(process)s is deployed yet: the item takes no "
                                                 "applications until it is.", **p),
        "item.members-outside-bundle": lambda p: _("Only a 一件事 lists member items."),
        "item.bundle-too-small": lambda p: _("A 一件事 lists at least two member items, not %(count)s.", **p),
        "item.bundle-contains-itself": lambda p: _("A 一件事 cannot list itself as a member."),
        "item.unknown-members": lambda p: _("These member items are not in the catalogue (yet): %(items)s.", **p),
        "material.not-object": lambda p: _("Material %(index)s must be an object of fields and values.", **p),
        "material.duplicate-code": lambda p: _("The material code %(code)s is listed twice.", **p),
        "material.unknown-field": lambda p: _("%(field)s is not a field of a material (material %(index)s).", **p),
        "material.required": lambda p: _("Every material needs a code and a name: material %(index)s has no "
                                         "%(field)s.", **p),
        "adjustment.bad-kind": lambda p: _("The kind of adjustment must be add, change or cancel."),
        "adjustment.no-item": lambda p: _("The implementation code of the item is required."),
        "adjustment.item-exists": lambda p: _("The item %(item)s is already in the catalogue: apply for a change "
                                              "instead.", **p),
        "adjustment.record-needed": lambda p: _("A new item needs its whole record."),
        "adjustment.code-mismatch": lambda p: _("The record's code is not the item applied for (%(item)s).", **p),
        "adjustment.item-unknown": lambda p: _("There is no item %(item)s in the catalogue.", **p),
        "adjustment.already-cancelled": lambda p: _("The item %(item)s is cancelled already.", **p),
        "adjustment.changes-needed": lambda p: _("A change names the fields it changes."),
        "adjustment.fixed-field": lambda p: _("A change may not alter %(field)s: cancel the item and add a new one.",
                                              **p),
        "adjustment.other-department": lambda p: _("A department applies for its own items only."),
        "adjustment.no-difference": lambda p: _("The changes leave the item as it is."),
    }


def describe_problem(problem: Mapping[str, Any]) -> str:
    """One problem (``Problem.as_dict()``) in the current locale; the engine's sentence when no template fits."""
    template = _templates().get(str(problem.get("code")))
    params = {k: "" if v is None else v for k, v in (problem.get("params") or {}).items()}
    if "field" in params:
        params["field"] = field_label(str(params["field"]))
    if template is None:
        return str(problem.get("message", ""))
    try:
        return template(params)
    except KeyError:
        return str(problem.get("message", ""))
