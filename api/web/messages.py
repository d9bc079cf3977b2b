"""Engine refusals in the clerk's language: the refusals clerks meet carry a code and values
(``engine.errors``); the rest are shown with a translated lead and the engine's own sentence."""
from __future__ import annotations

from typing import Callable

from flask_babel import gettext as _

from engine.errors import EngineError


def _templates() -> dict[str, Callable[..., str]]:
    return {
        "authorization.none": lambda p: _("You hold no valid authorization letter to %(power)s for this item.", **p),
        "authorization.revoked": lambda p: _("Your authorization to %(power)s for this item was revoked on %(date)s.", **p),
        "authorization.expired": lambda p: _("Your authorization to %(power)s for this item expired on %(date)s.", **p),
        "authorization.not-yet": lambda p: _("Your authorization to %(power)s for this item is valid only from %(date)s.", **p),
        "four-eyes": lambda p: _("You reviewed this case, so another person must take the decision (%(task)s).", **p),
        "task.not-yours": lambda p: _("This task (%(task)s) is not assigned or offered to you.", **p),
        "task.claimed": lambda p: _("Someone else (%(user)s) has already claimed this task.", **p),
        "receive.window-only": lambda p: _("Applications are received at the comprehensive window or online; "
                                           "a department does not receive them directly."),
        "supplement.too-late": lambda p: _("The five working days for a supplement notice have passed: the case counts "
                                           "as accepted from the day of receipt (Administrative Licensing Law art. 32)."),
        "supplement.nothing-attached": lambda p: _("No file was attached: attach what the applicant brings."),
        "material.empty": lambda p: _("The file %(file)s is empty.", **p),
        "material.too-large": lambda p: _("The file %(file)s is %(size)s MB; a file may be at most %(limit)s MB.", **p),
        "material.bad-type": lambda p: _("The file %(file)s is not a PDF, JPEG, PNG or OFD file.", **p),
        "material.bad-structure": lambda p: _("The file %(file)s looks like a %(kind)s file, but its content is not "
                                              "one, so it was not received. Ask the applicant for the original "
                                              "file.", **p),
        "input.bad-text": lambda p: _("The field %(field)s contains characters that cannot be stored (a NUL "
                                      "character or a broken character); remove them and send it again.", **p),
        "input.too-long": lambda p: _("The field %(field)s is %(length)s characters long; at most %(limit)s are "
                                      "allowed.", **p),
        "input.bad-path": lambda p: _("This address is not valid: it contains a control character or is far too "
                                      "long."),
        "input.not-json": lambda p: _("What was sent is not valid JSON."),
        "input.too-deep": lambda p: _("What was sent is nested more than %(limit)s levels deep.", **p),
        "input.out-of-range": lambda p: _("The value %(value)s of %(field)s must be from %(low)s to %(high)s.", **p),
        "sign-in.throttled": lambda p: _("Too many failed sign-ins. Please try again in %(wait)s.",
                                         wait=wait_text(int(p.get("seconds") or 1))),
        "unlock.what": lambda p: _("Name a user or an address to unlock."),
        "page.bad-cursor": lambda p: _("This page link is no longer valid; start again from the first page."),
        "item.unknown": lambda p: _("There is no item %(item)s in the catalogue.", **p),
        "item.closed": lambda p: _("The item %(item)s takes no new applications at present.", **p),
        "item.not-entered": lambda p: _("%(department)s has not confirmed the item %(item)s as handled at the center "
                                        "(no entry confirmation in force on %(date)s lists it), so it cannot be "
                                        "received or delegated here.", **p),
        "seal.none": lambda p: _("The approval seal of %(department)s was not applied: %(user)s, who took the "
                                 "decision, holds no valid authorization to use it for %(item)s.", **p),
        "seal.revoked": lambda p: _("The approval seal of %(department)s was not applied: the authorization of "
                                    "%(user)s, who took the decision, to use it for %(item)s was revoked on "
                                    "%(date)s.", **p),
        "seal.expired": lambda p: _("The approval seal of %(department)s was not applied: the authorization of "
                                    "%(user)s, who took the decision, to use it for %(item)s expired on %(date)s.",
                                    **p),
        "seal.not-yet": lambda p: _("The approval seal of %(department)s was not applied: the authorization of "
                                    "%(user)s, who took the decision, to use it for %(item)s is valid only from "
                                    "%(date)s.", **p),
        "seal.no-decision": lambda p: _("The approval seal of %(department)s was not applied: the case records no "
                                        "decision for it by a holder of the seal power.", **p),
        "case.unknown": lambda p: _("There is no case %(key)s.", **p),
        "filter.bad-date": lambda p: _("%(value)s is not a date; write it like 2026-11-25.", **p),
        "intervention.reason-needed": lambda p: _("A written reason is needed (at least four characters); it goes "
                                                  "into the case history."),
        "intervention.not-earlier": lambda p: _("That step cannot be reopened: the case must be running, and once "
                                                "decided it goes back only to steps after the decision."),
        "period.reversed": lambda p: _("The period starts after it ends."),
        "case.not-supervised": lambda p: _("You supervise another department."),
        "rating.bad-link": lambda p: _("This rating link is not valid. Please use the link in your rating invitation."),
        "supplement.override-needed": lambda p: _("The first notice did not list %(items)s. Asking for more later needs "
                                                  "a written reason in the field for it.", **p),
    }


def wait_text(seconds: int) -> str:
    """A wait as people say it: seconds under two minutes, then whole minutes (rounded up)."""
    if seconds < 120:
        return _("%(n)d seconds", n=seconds)
    return _("%(n)d minutes", n=-(-seconds // 60))


def describe(exc: EngineError) -> str:
    template = _templates().get(exc.code or "")
    if template is not None:
        return template({k: "" if v is None else v for k, v in exc.params.items()})
    return exc.message


def run_and_say(command: Callable[[], object], done: str) -> bool:
    """Run one engine command in its own transaction and flash how it went: a refusal is said in the
    clerk's language and nothing was changed."""
    from flask import flash

    from .. import db

    try:
        with db().begin():
            command()
    except EngineError as refused:
        flash(_("That did not work: %(reason)s", reason=describe(refused)), "error")
        return False
    flash(done, "info")
    return True
