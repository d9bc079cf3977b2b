"""Entry confirmations (入驻事项确认书): an item its department has not confirmed as handled in the center is
not received there (rule 1), and no letter is granted for it; what a valid confirmation is."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from api import state
from engine import authorizations, entry_confirmations, identity
from engine.errors import Forbidden, InvalidInput
from engine.models import AuditEntry, CaseSequence, EntryConfirmation, ProcessInstance

from .paths import ENTERPRISE, FOOD_CHANGE, PERSON, RESTAURANT_BUNDLE, SOLE_TRADER

MARKET_ITEMS = ["310118-SCJ-001", "310118-SCJ-002", "310118-SCJ-003", "310118-SCJ-004", "310118-SCJ-005"]
LETTER = {"document_number": "青market入驻〔2026〕9号", "signed_by": "区市场监督管理局局长", "confirmed_by": "区政务办 沈洁",
          "valid_from": date(2026, 1, 1)}


def _written(session) -> tuple[int, int, int]:
    """What a received case writes: instances, case-number rows (their counters) and audit entries."""
    return (session.scalar(sa.select(sa.func.count()).select_from(ProcessInstance)),
            session.scalar(sa.select(sa.func.coalesce(sa.func.sum(CaseSequence.last), 0))),
            session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)))


def test_a_case_of_an_item_not_entered_is_refused_and_writes_nothing(center):
    """The market's new confirmation leaves the licence change out: the window cannot receive it, no case
    number is taken, and an item still on the list gets the day's first number."""
    with center.sessions.begin() as session:
        replaced = entry_confirmations.current(session, "market", date(2026, 1, 5))
        entry_confirmations.confirm(session, department="market", actor="admin",
                                    item_codes=[c for c in MARKET_ITEMS if c != FOOD_CHANGE], **LETTER)
        before = _written(session)
    with pytest.raises(Forbidden) as refused:
        center.receive(FOOD_CHANGE, ENTERPRISE, [{"code": "application-form"}])
    assert refused.value.code == "item.not-entered"
    assert refused.value.params == {"item": "食品经营许可（变更许可事项）", "itemCode": FOOD_CHANGE,
                                    "department": "区市场监督管理局", "date": "2026-01-05"}
    assert "confirmation '青market入驻〔2026〕9号' in force does not list it" in refused.value.message
    with center.sessions.begin() as session:
        assert _written(session) == before
        assert replaced.item_codes == MARKET_ITEMS  # the old list is still on record, just not in force
    assert center.receive(SOLE_TRADER, PERSON).endswith("-0001")  # no number was consumed by the refusal


def test_a_revoked_or_not_yet_valid_confirmation_does_not_enter_the_item(center):
    with center.sessions.begin() as session:
        demo = entry_confirmations.current(session, "market", date(2026, 1, 5))
        entry_confirmations.revoke(session, demo.id, actor="admin")
        entry_confirmations.confirm(session, department="market", item_codes=MARKET_ITEMS, actor="admin",
                                    **{**LETTER, "valid_from": date(2026, 1, 6)})
    with pytest.raises(Forbidden, match="it has no entry confirmation in force"):
        center.receive(SOLE_TRADER, PERSON)
    center.clock.advance(date(2026, 1, 6) - date(2026, 1, 5))
    assert center.receive(SOLE_TRADER, PERSON).startswith("QP-MARKET-20260106-")
    with center.sessions.begin() as session:
        actions = [e.action for e in session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.in_(["entry-confirmed", "entry-confirmation-revoked"])).order_by(AuditEntry.id))]
    assert actions[-2:] == ["entry-confirmation-revoked", "entry-confirmed"]


def test_a_bundle_is_not_received_while_one_of_its_members_is_not_entered(center):
    """一件事: the ecology bureau's part must be handled in the center too."""
    with center.sessions.begin() as session:
        entry_confirmations.revoke(session, entry_confirmations.current(session, "ecology", date(2026, 1, 5)).id,
                                   actor="admin")
    with pytest.raises(Forbidden) as refused:
        center.receive(RESTAURANT_BUNDLE, ENTERPRISE,
                       [{"code": c} for c in ("application-form", "layout", "drainage-plan")])
    assert refused.value.code == "item.not-entered" and refused.value.params["department"] == "区生态环境局"


def test_the_window_is_told_in_its_language_over_rest(app, api):
    from api.demo import seed
    from engine import deploy
    from engine.settings import PROJECT_ROOT

    with state(app).sessions.begin() as session:
        deploy.deploy_directory(session, PROJECT_ROOT / "processes", actor="test")
        seed(session, password=None)
        session.flush()
        api.tokens["window"] = identity.create_token(session, "window", "test")
        entry_confirmations.revoke(session, entry_confirmations.current(session, "market", date(2026, 1, 5)).id,
                                   actor="admin")
    response = api.post("/case", {"itemCode": SOLE_TRADER, "application": PERSON}, user="window")
    assert response.status_code == 403 and "is not confirmed by department 'market'" in response.json["message"]


@pytest.mark.parametrize(("change", "problems"), [
    ({"item_codes": ["310118-SCJ-001", "no-such-item"]}, {"entry.unknown-item"}),
    ({"item_codes": ["310118-SCJ-001", "310118-GHZY-001"]}, {"entry.other-department"}),
    ({"item_codes": []}, {"entry.no-items"}),
    ({"valid_to": date(2025, 12, 31)}, {"entry.dates-reversed"}),
    ({"signed_by": "  "}, {"entry.no-signer"}),
    ({"confirmed_by": ""}, {"entry.no-confirmer"}),
    ({"document_number": ""}, {"entry.no-number"}),
    ({"document_number": "青market入驻〔2026〕1号"}, {"entry.duplicate-number"}),  # the demo's
    ({"department": "nowhere"}, {"entry.unknown-department", "entry.other-department"}),
    ({"signed_by": "", "valid_to": date(2025, 1, 1), "item_codes": ["no-such-item"]},
     {"entry.no-signer", "entry.dates-reversed", "entry.unknown-item"}),  # every problem at once
], ids=["unknown-item", "other-department", "no-items", "dates", "signer", "confirmer", "number", "duplicate",
        "department", "all-at-once"])
def test_an_invalid_confirmation_is_refused_with_every_problem(center, change, problems):
    data = {"department": "market", "item_codes": ["310118-SCJ-001"], **LETTER, **change}
    with center.sessions.begin() as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(EntryConfirmation))
        with pytest.raises(InvalidInput) as invalid:
            entry_confirmations.confirm(session, actor="admin", **data)
        assert invalid.value.code == "entry.invalid"
        assert {p["code"] for p in invalid.value.params["problems"]} == problems
        assert all(p["message"] in invalid.value.message for p in invalid.value.params["problems"])
        assert session.scalar(sa.select(sa.func.count()).select_from(EntryConfirmation)) == count


def test_the_newest_confirmation_in_force_is_the_departments_list(center):
    with center.sessions.begin() as session:
        demo = entry_confirmations.current(session, "market", date(2026, 1, 5))
        short = entry_confirmations.confirm(session, department="market", item_codes=["310118-SCJ-001"],
                                            valid_to=date(2026, 3, 31), actor="admin", **LETTER)
        assert entry_confirmations.current(session, "market", date(2026, 1, 5)).id == short.id
        assert entry_confirmations.current(session, "market", date(2026, 4, 1)).id == demo.id  # the short one ended
        assert entry_confirmations.current(session, "market", date(2025, 12, 31)) is None
        assert entry_confirmations.require_entered(session, "310118-SCJ-001").id == short.id
        with pytest.raises(Forbidden, match="does not list it"):
            entry_confirmations.require_entered(session, FOOD_CHANGE)
        assert entry_confirmations.require_entered(session, FOOD_CHANGE, date(2026, 4, 1)).id == demo.id


def test_a_letter_is_granted_only_for_items_entered_in_the_center(center):
    with center.sessions.begin() as session:
        identity.create_user(session, "planning_chief2", None, groups=["chief-representative"], department="planning")
        entry_confirmations.confirm(session, department="planning", item_codes=["310118-GHZY-001"], actor="admin",
                                    **{**LETTER, "document_number": "青planning入驻〔2026〕2号"})
    letter = {"username": "planning_chief2", "department": "planning", "kind": authorizations.CHIEF,
              "powers": ["decide", "seal"], "valid_from": date(2026, 1, 1), "valid_to": date(2026, 12, 31),
              "signed_by": "区规划和自然资源局局长"}
    with pytest.raises(Forbidden) as refused:
        with center.sessions.begin() as session:
            authorizations.grant(session, item_codes=["310118-GHZY-001", "310118-GHZY-002"], **letter)
    assert refused.value.code == "item.not-entered" and refused.value.params["itemCode"] == "310118-GHZY-002"
    with pytest.raises(InvalidInput, match="items of other departments: 310118-SCJ-001 \\(market\\)"):
        with center.sessions.begin() as session:
            authorizations.grant(session, item_codes=["310118-SCJ-001"], **letter)
    with pytest.raises(InvalidInput, match="not in the catalogue: no-such-item"):
        with center.sessions.begin() as session:
            authorizations.grant(session, item_codes=["no-such-item"], **letter)
    with center.sessions.begin() as session:
        granted = authorizations.grant(session, item_codes=["310118-GHZY-001"], **letter)
        assert granted.item_codes == ["310118-GHZY-001"]
        everything = authorizations.grant(session, **letter)  # all items of the department: no list to check
        assert everything.item_codes is None
