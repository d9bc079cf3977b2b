"""The workers' ledger: an effect runs once per key; one that died half-way is repeated, and counted."""
from __future__ import annotations

import pytest

from workers.ledger import Ledger


@pytest.fixture
def ledger(tmp_path):
    made = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield made
    made.dispose()


def test_a_finished_effect_is_not_run_again(ledger):
    runs = []
    first = ledger.once("certificate:t1", "certificate", lambda: runs.append(1) or {"number": "A-01"})
    again = ledger.once("certificate:t1", "certificate", lambda: runs.append(2) or {"number": "A-02"})
    assert first == again == {"number": "A-01"} and runs == [1]
    assert ledger.get("certificate:t1") == {"state": "done", "attempts": 1, "result": {"number": "A-01"}}


def test_an_effect_that_died_half_way_is_repeated_and_the_attempt_counted(ledger):
    def dies() -> dict:
        raise ConnectionError("mail relay went away")

    with pytest.raises(ConnectionError):
        ledger.once("notify:t2", "notify", dies)
    assert ledger.get("notify:t2")["state"] == "pending"
    assert ledger.once("notify:t2", "notify", lambda: {"mailed": True}) == {"mailed": True}
    assert [(e["state"], e["attempts"]) for e in ledger.entries("notify")] == [("done", 2)]


def test_a_live_claim_makes_another_worker_wait_and_an_expired_one_is_taken_over(ledger):
    import time
    from datetime import timedelta

    from workers.ledger import EffectInProgress

    def dies() -> dict:
        raise TimeoutError("worker A stalls in the middle of signing")

    with pytest.raises(TimeoutError):
        ledger.once("certificate:t3", "certificate", dies, owner="A", lease=timedelta(seconds=0.5))
    with pytest.raises(EffectInProgress, match="being done by A") as waiting:
        ledger.once("certificate:t3", "certificate", lambda: {"by": "B"}, owner="B")
    assert 0 < waiting.value.seconds <= 0.5
    time.sleep(0.6)
    assert ledger.once("certificate:t3", "certificate", lambda: {"by": "B"}, owner="B") == {"by": "B"}
    assert ledger.get("certificate:t3")["attempts"] == 2
