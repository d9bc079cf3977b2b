"""Refusing a page: 403, with the attempt in the audit log (who tried to open which case, where)."""
from __future__ import annotations

from typing import NoReturn

from flask import abort, request

from engine import audit, cases

from .. import db
from .session_auth import me


def refuse(business_key: str | None) -> NoReturn:
    """Call outside a transaction: the refusal is recorded in one of its own, then the page is a 403."""
    with db().begin():
        audit.record(db(), "access-refused", actor=me().username,
                     instance_id=cases.instance_id_of(db(), business_key) if business_key else None,
                     entity_id=business_key, details={"path": request.path})
    abort(403)
