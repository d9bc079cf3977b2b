"""The append-only audit log: who did what to which instance, and when.

Every state change the engine makes calls ``record`` inside the same
transaction, so the log and the state can never disagree. The database itself
refuses UPDATE and DELETE on the table (triggers in the initial migration).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from .context import services
from .models import AuditEntry


def record(session: so.Session, action: str, *, actor: str | None = None, instance_id: str | None = None,
           entity_id: str | None = None, details: dict[str, Any] | None = None) -> None:
    session.add(AuditEntry(at=services(session).clock.now(), actor=actor, action=action,
                           instance_id=instance_id, entity_id=entity_id, details=details or {}))


def entries_for(session: so.Session, instance_id: str) -> list[AuditEntry]:
    return list(session.scalars(
        sa.select(AuditEntry).where(AuditEntry.instance_id == instance_id).order_by(AuditEntry.id)))
