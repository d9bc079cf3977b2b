"""好差评 from the applicant's own link: the rating page needs no account, only the case's rating token.

The token is an HMAC of the case number under the server's secret key, made
when the case is received and mailed in the rating invitation; the page
recomputes it, so nothing secret is looked up and a guessed case number alone
rates nothing. The rating itself is the ``rating-received`` message, checked
against the ``rating`` form and the catch event's senders like any other.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

import sqlalchemy.orm as so

from . import messages
from .context import services
from .errors import Forbidden

MESSAGE = "rating-received"
#: the role a rating through the applicant's own link is sent under (the rating event's ``senders``)
APPLICANT = "applicant"


def token_for(secret: str, business_key: str) -> str:
    return hmac.new(secret.encode(), f"rating:{business_key}".encode(), hashlib.sha256).hexdigest()[:32]


def _check(session: so.Session, business_key: str, token: str) -> None:
    expected = token_for(services(session).settings.secret_key, business_key)
    if not hmac.compare_digest(expected, token or ""):
        raise Forbidden("This rating link is not valid for the case", code="rating.bad-link")


def awaiting(session: so.Session, business_key: str, token: str) -> bool:
    """Does the case wait for its applicant's rating? (A wrong token is refused, a rated case says no.)"""
    _check(session, business_key, token)
    return messages.waits_for(session, business_key, MESSAGE)


def rate(session: so.Session, business_key: str, token: str, rating: dict[str, Any]) -> None:
    """Record the applicant's one rating for the case (the form is checked by the catch event)."""
    _check(session, business_key, token)
    messages.correlate(session, MESSAGE, business_key=business_key, variables=rating,
                       actor=f"{APPLICANT}:{business_key}", actor_groups=[APPLICANT])
