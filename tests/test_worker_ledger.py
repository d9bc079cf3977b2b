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
