"""The engine's services, wired once at start-up and carried by each session.

``Services`` is built by whoever starts a process (the Flask app factory, the
worker or scheduler command, a test) and handed to ``make_session_factory``;
commands find it with ``services(session)``. Nothing here is global.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy.orm as so

from .clock import Clock, SystemClock
from .settings import Settings
from .specs import SpecCache

if TYPE_CHECKING:
    from .forms import FormRegistry
    from .workdays import CalendarCache


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    specs: SpecCache = field(default_factory=SpecCache)
    #: this node's working-day calendar, rebuilt when the stored revision moves (engine.workdays)
    calendars: "CalendarCache | None" = None
    #: the JSON Schema forms every submission is validated against (engine.forms)
    forms: "FormRegistry | None" = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def today(self) -> date:
        """The center's date by the engine's clock: letters, confirmations and items are valid by days of
        Shanghai, not of UTC."""
        return self.clock.now().astimezone(self.tz).date()

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> "Services":
        from .forms import FormRegistry
        from .workdays import CalendarCache

        return cls(settings=settings, clock=clock or SystemClock(), specs=SpecCache(settings.spec_cache_size),
                   calendars=CalendarCache(), forms=FormRegistry(settings.forms_dir))


def services(session: so.Session) -> Services:
    try:
        return session.info["services"]
    except KeyError:
        raise RuntimeError("session was not created by engine.db.make_session_factory") from None
