"""A scheduler process for tests: fires everything due at a fixed moment, then prints how many.

Usage: python -m tests.scheduler_process DATABASE_URL ISO_MOMENT BATCH
Run twice at once against one PostgreSQL database to prove each timer fires exactly once.
"""
from __future__ import annotations

import sys
from datetime import datetime

from engine.clock import FixedClock
from engine.context import Services
from engine.db import make_engine, make_session_factory
from engine.scheduler import run_round
from engine.settings import Settings


def main(url: str, moment: str, batch: int) -> int:
    engine = make_engine(url)
    services = Services.create(Settings.from_env({}, database_url=url), FixedClock(datetime.fromisoformat(moment)))
    factory = make_session_factory(engine, services)
    fired = failed = 0
    idle_rounds = 0
    while idle_rounds < 3:  # the other process may still hold rows; look again before giving up
        result = run_round(factory, batch)
        fired += result.fired
        failed += result.failed
        idle_rounds = idle_rounds + 1 if result.claimed == 0 else 0
    engine.dispose()
    print(f"{fired} {failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
